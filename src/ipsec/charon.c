// SPDX-License-Identifier: Apache-2.0
/*
 * charon as a supervised child of the control loop. The child gets a
 * mount namespace of its own in which weft's directory is mounted on
 * /var/run: charon's pid file is fixed there, and two charons (an
 * operator's and ours, or two test hosts on one machine) would otherwise
 * refuse each other. Its exit is seen through a pidfd; failures before the
 * exec come back over a close-on-exec pipe, both read on the loop.
 */
#include "ipsec/charon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/file.h"
#include "core/loop.h"
#include "core/xmalloc.h"

#define RESTART_FIRST_MS 100
#define RESTART_MAX_MS 30000
#define LIVED_LONG_MS 60000
#define STOP_WAIT_MS 3000

struct charon {
	struct charon_params p;
	char *exe, *run_dir, *view_dir, *conf_view, *vici;
	pid_t pid;
	int pidfd, report_fd;
	int64_t started_ms, restart_timer, poll_timer, backoff_ms;
	unsigned restarts;
	bool stopping;
	const char *failure;
};

/* Reported by the child before its exec fails. */
struct child_report {
	int step;
	int err;
};

static const char *const steps[] = { "signals", "prctl", "unshare", "mount --make-rprivate /",
				     "mount --bind", "open /dev/null", "dup2", "exec" };

static const char *const search_path[] = {
	"/usr/lib/strongswan/charon",
	"/usr/lib/ipsec/charon",
	"/usr/libexec/strongswan/charon",
	"/usr/libexec/ipsec/charon",
};

static bool executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static bool in_path(const char *name, char *ret, size_t len)
{
	const char *path = getenv("PATH");

	while (path && *path) {
		const char *end = strchrnul(path, ':');
		int n = (int)(end - path);

		if (n > 0 && snprintf(ret, len, "%.*s/%s", n, path, name) < (int)len &&
		    executable(ret))
			return true;
		path = *end ? end + 1 : end;
	}
	return false;
}

int charon_find(const char *configured, char *ret, size_t len, struct err *err)
{
	if (configured && *configured) {
		if (!executable(configured))
			return err_set(err, -ENOENT, "charon %s: no executable file there", configured);
		if (snprintf(ret, len, "%s", configured) >= (int)len)
			return err_set(err, -ENAMETOOLONG, "charon path too long");
		return 0;
	}
	if (in_path("charon", ret, len))
		return 0;
	for (size_t i = 0; i < sizeof(search_path) / sizeof(search_path[0]); i++) {
		if (executable(search_path[i]) && snprintf(ret, len, "%s", search_path[i]) < (int)len)
			return 0;
	}
	return err_set(err, -ENOENT,
		       "strongSwan's charon not found (looked in PATH, %s, %s, %s, %s): install "
		       "it (Debian: strongswan-charon) or give --charon-path",
		       search_path[0], search_path[1], search_path[2], search_path[3]);
}

char *charon_conf_text(const char *view_dir, bool userspace)
{
	char *s;

	/* Exactly the plugins used: crypto for upstream's IKE proposal and the
	 * usual ESP ones (openssl has the DH groups, gcm and chacha20; kdf the PRF-based key derivation), the
	 * kernel interface, IKE sockets and VICI. kernel-libipsec goes before
	 * kernel-netlink: the first loaded is the one that gets the SAs (and
	 * the kernel here would refuse them). Not bypass-lan: its routes
	 * through ipsec0 would swallow the IKE packets. */
	xasprintf(&s,
		  "# Written by weftd for the charon it runs; rewritten at every start.\n"
		  "charon {\n"
		  "\tload = random nonce openssl sha2 hmac aes gcm kdf%s kernel-netlink "
		  "socket-default vici\n"
		  "\tinstall_virtual_ip = no\n"
		  "\tinstall_routes = %s\n"
		  "\tplugins {\n"
		  "\t\tvici {\n"
		  "\t\t\tsocket = unix://%s/charon.vici\n"
		  "\t\t}\n"
		  "\t}\n"
		  "\tfilelog {\n"
		  "\t\tweft {\n"
		  "\t\t\tpath = %s/charon.log\n"
		  "\t\t\ttime_format = %%Y-%%m-%%dT%%H:%%M:%%S\n"
		  "\t\t\tike_name = yes\n"
		  "\t\t\tdefault = 1\n"
		  "\t\t\tflush_line = yes\n"
		  "\t\t}\n"
		  "\t}\n"
		  "\tsyslog {\n"
		  "\t\tdaemon {\n"
		  "\t\t\tdefault = -1\n"
		  "\t\t}\n"
		  "\t}\n"
		  "}\n",
		  userspace ? " kernel-libipsec" : "", userspace ? "yes" : "no", view_dir, view_dir);
	return s;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void spawn(struct charon *c);

static int64_t restart_cb(struct loop *loop, int64_t id, void *arg)
{
	struct charon *c = arg;

	(void)loop;
	(void)id;
	c->restart_timer = 0;
	spawn(c);
	return LOOP_TIMER_STOP;
}

static void schedule_restart(struct charon *c)
{
	if (c->stopping)
		return;
	/* At once after a long life; doubling while it keeps dying young. */
	if (!c->backoff_ms || clock_now_ms() - c->started_ms > LIVED_LONG_MS)
		c->backoff_ms = RESTART_FIRST_MS;
	else if ((c->backoff_ms *= 10) > RESTART_MAX_MS)
		c->backoff_ms = RESTART_MAX_MS;
	loop_timer_set(c->p.loop, &c->restart_timer, c->backoff_ms, restart_cb, c);
}

static void reaped(struct charon *c, int status)
{
	loop_timer_clear(c->p.loop, &c->poll_timer);
	if (c->pidfd >= 0) {
		loop_del_fd(c->p.loop, c->pidfd);
		close_fd(&c->pidfd);
	}
	c->pid = 0;
	c->restarts++;
	c->p.event(c->p.arg, CHARON_EXITED, status);
	schedule_restart(c);
}

static void try_reap(struct charon *c)
{
	int status = 0;
	pid_t w;

	do {
		w = waitpid(c->pid, &status, WNOHANG);
	} while (w < 0 && errno == EINTR);
	if (w == c->pid)
		reaped(c, status);
}

static void pidfd_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	try_reap(arg);
}

/* Kernels before 5.3 have no pidfd: look now and then. */
static int64_t poll_cb(struct loop *loop, int64_t id, void *arg)
{
	struct charon *c = arg;

	(void)loop;
	(void)id;
	try_reap(c);
	return c->pid > 0 ? 500 : LOOP_TIMER_STOP;
}

static void report_cb(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct charon *c = arg;
	struct child_report r;
	ssize_t n;

	(void)events;
	do {
		n = read(fd, &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	loop_del_fd(loop, fd);
	close_fd(&c->report_fd);
	if (n != sizeof(r)) /* EOF: the exec went through */
		return;
	c->failure = (unsigned)r.step < sizeof(steps) / sizeof(steps[0]) ? steps[r.step] : "?";
	/* Its exit (pidfd) restarts it later; say why now. */
	c->p.event(c->p.arg, CHARON_FAILED, -r.err);
}

/* In the child: only system calls from here to the exec. */
static _Noreturn void child(const struct charon *c, int report, pid_t parent, char *const argv[],
			    char *const envp[])
{
	struct child_report r = { 0, 0 };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int fd;

	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		(void)sigaction(s, &dfl, NULL); /* fails harmlessly for KILL, STOP, RT */
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		goto fail;
	r.step = 1;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		goto fail;
	if (getppid() != parent) /* we already lost weftd */
		_exit(0);
	r.step = 2;
	if (unshare(CLONE_NEWNS) < 0)
		goto fail;
	r.step = 3;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto fail;
	r.step = 4;
	if (mount(c->run_dir, c->view_dir, NULL, MS_BIND, NULL) < 0)
		goto fail;
	r.step = 5;
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		goto fail;
	r.step = 6;
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		goto fail;
	r.step = 7;
	execve(c->exe, argv, envp);
fail:
	r.err = errno;
	(void)!write(report, &r, sizeof(r));
	_exit(127);
}

static void spawn(struct charon *c)
{
	char env_conf[PATH_MAX + 32];
	char *argv[] = { c->exe, NULL };
	char *envp[] = { env_conf, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int rep[2];
	pid_t pid, parent = getpid();

	snprintf(env_conf, sizeof(env_conf), "STRONGSWAN_CONF=%s", c->conf_view);
	if (pipe2(rep, O_CLOEXEC | O_NONBLOCK) < 0) {
		c->failure = "pipe";
		c->p.event(c->p.arg, CHARON_FAILED, -errno);
		schedule_restart(c);
		return;
	}
	c->started_ms = clock_now_ms();
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(rep[0]);
		close(rep[1]);
		c->failure = "fork";
		c->p.event(c->p.arg, CHARON_FAILED, -e);
		schedule_restart(c);
		return;
	}
	if (pid == 0)
		child(c, rep[1], parent, argv, envp);
	close(rep[1]);
	c->pid = pid;
	c->report_fd = rep[0];
	if (loop_add_fd(c->p.loop, c->report_fd, LOOP_READ, report_cb, c) < 0)
		close_fd(&c->report_fd);
	c->pidfd = pidfd_open(pid, 0);
	if (c->pidfd >= 0 && loop_add_fd(c->p.loop, c->pidfd, LOOP_READ, pidfd_cb, c) < 0)
		close_fd(&c->pidfd);
	if (c->pidfd < 0)
		loop_timer_set(c->p.loop, &c->poll_timer, 500, poll_cb, c);
	c->p.event(c->p.arg, CHARON_STARTED, pid);
}

int charon_start(const struct charon_params *p, struct charon **ret, struct err *err)
{
	struct charon *c = xcalloc(1, sizeof(*c));
	char view[PATH_MAX], *conf = NULL, *path = NULL;
	int rc;

	c->p = *p;
	c->pidfd = c->report_fd = -1;
	c->exe = xstrdup(p->exe);
	c->run_dir = xstrdup(p->run_dir);
	/* charon writes /var/run/charon.pid: our directory goes there. */
	if (!realpath("/var/run", view)) {
		rc = err_set(err, -errno, "cannot resolve /var/run: %s", strerror(errno));
		goto out;
	}
	c->view_dir = xstrdup(view);
	xasprintf(&c->conf_view, "%s/strongswan.conf", view);
	xasprintf(&c->vici, "%s/charon.vici", p->run_dir);
	if ((rc = file_mkdir_p(p->run_dir, 0700, err)) < 0)
		goto out;
	conf = charon_conf_text(view, p->userspace);
	xasprintf(&path, "%s/strongswan.conf", p->run_dir);
	if ((rc = file_write_atomic(path, conf, strlen(conf), 0600, err)) < 0)
		goto out;
	/* A socket left by a charon killed earlier would look alive. */
	(void)unlink(c->vici);
	spawn(c);
	*ret = c;
	c = NULL;
	rc = 0;
out:
	free(conf);
	free(path);
	if (c) {
		c->stopping = true;
		charon_stop(c);
	}
	return rc;
}

void charon_kill(struct charon *c)
{
	if (c && c->pid > 0)
		kill(c->pid, SIGKILL);
}

void charon_stop(struct charon *c)
{
	int64_t deadline;
	int status;

	if (!c)
		return;
	c->stopping = true;
	loop_timer_clear(c->p.loop, &c->restart_timer);
	loop_timer_clear(c->p.loop, &c->poll_timer);
	if (c->report_fd >= 0) {
		loop_del_fd(c->p.loop, c->report_fd);
		close_fd(&c->report_fd);
	}
	if (c->pidfd >= 0) {
		loop_del_fd(c->p.loop, c->pidfd);
		close_fd(&c->pidfd);
	}
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		deadline = clock_now_ms() + STOP_WAIT_MS;
		while (waitpid(c->pid, &status, WNOHANG) == 0) {
			if (clock_now_ms() >= deadline) {
				kill(c->pid, SIGKILL);
				while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
					;
				break;
			}
			nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
		}
	}
	free(c->exe);
	free(c->run_dir);
	free(c->view_dir);
	free(c->conf_view);
	free(c->vici);
	free(c);
}

pid_t charon_pid(const struct charon *c)
{
	return c ? c->pid : 0;
}

unsigned charon_restarts(const struct charon *c)
{
	return c ? c->restarts : 0;
}

const char *charon_vici_path(const struct charon *c)
{
	return c->vici;
}

const char *charon_failure(const struct charon *c)
{
	return c->failure ? c->failure : "";
}

// SPDX-License-Identifier: Apache-2.0
/*
 * fork + execve with four close-on-exec pipes: stdin, stdout, stderr and one
 * that carries execve's errno back when it fails (it closes unread on
 * success). One poll loop feeds stdin and drains both outputs, so a plugin
 * that writes a lot before reading cannot deadlock us; each output is capped
 * and a plugin exceeding the cap is killed.
 */
#include "exec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/xmalloc.h"
#include "result.h"

extern char **environ;

#define EXEC_TXTBSY_RETRIES 5

int exec_find(const char *type, const char *cni_path, char **ret_path, struct cni_error *e)
{
	char dirs[1024];
	const char *p = cni_path ? cni_path : "";

	*ret_path = NULL;
	if (!type || !*type)
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, "no plugin name provided");
	/* A type is a file name inside CNI_PATH, never a path. */
	if (strchr(type, '/') || !strcmp(type, ".") || !strcmp(type, ".."))
		return cni_fail(e, CNI_ERR_INVALID_CONFIG, "invalid plugin name \"%s\"", type);
	while (*p) {
		size_t n = strcspn(p, ":");
		struct stat st;
		char *path;

		if (n > 0) {
			xasprintf(&path, "%.*s/%s", (int)n, p, type);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(path, X_OK) == 0) {
				*ret_path = path;
				return 0;
			}
			free(path);
		}
		p += n;
		if (*p == ':')
			p++;
	}
	/* Go prints the []string of directories as [a b c]. */
	snprintf(dirs, sizeof(dirs), "%s", cni_path ? cni_path : "");
	for (char *c = dirs; *c; c++)
		if (*c == ':')
			*c = ' ';
	return cni_fail(e, CNI_ERR_INVALID_CONFIG, "failed to find plugin \"%s\" in path [%s]",
			type, dirs);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

struct child {
	pid_t pid;
	int in, out, err; /* our ends */
};

/* Start the plugin; -errno of pipe/fork/execve on failure (nothing left). */
static int spawn(const char *path, char *const envp[], struct child *c)
{
	int p[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
	char *argv[2] = {xstrdup(path), NULL};
	int r = 0, child_errno = 0;
	ssize_t n;

	for (int i = 0; i < 4; i++) {
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			r = -errno;
			goto out;
		}
	}
	c->pid = fork();
	if (c->pid < 0) {
		r = -errno;
		goto out;
	}
	if (c->pid == 0) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		sigset_t none;
		int err;

		/* Ignored signals stay ignored across execve: undo ours. */
		sigaction(SIGPIPE, &dfl, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(p[0][0], 0) >= 0 && dup2(p[1][1], 1) >= 0 && dup2(p[2][1], 2) >= 0)
			execve(argv[0], argv, envp);
		err = errno;
		n = write(p[3][1], &err, sizeof(err));
		_exit(n == sizeof(err) ? 127 : 126);
	}
	close_fd(&p[0][0]);
	close_fd(&p[1][1]);
	close_fd(&p[2][1]);
	close_fd(&p[3][1]);
	do {
		n = read(p[3][0], &child_errno, sizeof(child_errno));
	} while (n < 0 && errno == EINTR);
	if (n == sizeof(child_errno)) {
		int status;

		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		r = -child_errno;
		goto out;
	}
	c->in = p[0][1];
	c->out = p[1][0];
	c->err = p[2][0];
	p[0][1] = p[1][0] = p[2][0] = -1;
	fcntl(c->in, F_SETFL, O_NONBLOCK);
	fcntl(c->out, F_SETFL, O_NONBLOCK);
	fcntl(c->err, F_SETFL, O_NONBLOCK);
out:
	for (int i = 0; i < 4; i++) {
		close_fd(&p[i][0]);
		close_fd(&p[i][1]);
	}
	free(argv[0]);
	return r;
}

/* Read what fd has; closes it on EOF or error. */
static void drain(int *fd, struct buf *b, struct exec_result *res, pid_t pid)
{
	char tmp[16384];

	for (;;) {
		ssize_t n = read(*fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_fd(fd);
			return;
		}
		if (!res->overflow && buf_append(b, tmp, (size_t)n) < 0) {
			res->overflow = true;
			kill(pid, SIGKILL);
		}
	}
}

static void talk(struct child *c, const char *input, size_t len, struct exec_result *res)
{
	bool reaped = false;
	size_t off = 0;

	if (len == 0)
		close_fd(&c->in);
	while (c->in >= 0 || c->out >= 0 || c->err >= 0) {
		struct pollfd pfd[3];
		int n = 0, k;

		if (c->in >= 0)
			pfd[n++] = (struct pollfd){.fd = c->in, .events = POLLOUT};
		if (c->out >= 0)
			pfd[n++] = (struct pollfd){.fd = c->out, .events = POLLIN};
		if (c->err >= 0)
			pfd[n++] = (struct pollfd){.fd = c->err, .events = POLLIN};
		k = poll(pfd, (nfds_t)n, 200);
		if (k < 0 && errno != EINTR)
			break;
		if (k == 0 && !reaped) {
			/* The plugin is gone but something it started keeps the
			 * pipes open: take what is there and stop waiting. */
			if (waitpid(c->pid, &res->status, WNOHANG) == c->pid) {
				reaped = true;
				close_fd(&c->in);
				if (c->out >= 0)
					drain(&c->out, &res->out, res, c->pid);
				if (c->err >= 0)
					drain(&c->err, &res->err, res, c->pid);
				close_fd(&c->out);
				close_fd(&c->err);
			}
			continue;
		}
		for (int i = 0; i < n && k > 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == c->in) {
				ssize_t w = write(c->in, input + off, len - off);

				if (w > 0)
					off += (size_t)w;
				if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len)
					close_fd(&c->in); /* done, or EPIPE: it stopped reading */
			} else if (pfd[i].fd == c->out) {
				drain(&c->out, &res->out, res, c->pid);
			} else {
				drain(&c->err, &res->err, res, c->pid);
			}
		}
	}
	close_fd(&c->in);
	close_fd(&c->out);
	close_fd(&c->err);
	while (!reaped && waitpid(c->pid, &res->status, 0) < 0 && errno == EINTR)
		;
}

int exec_run(const char *path, const char *command, const char *input, size_t len,
	     struct exec_result *ret)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	struct child c = {.pid = -1, .in = -1, .out = -1, .err = -1};
	char **envp, *cmdvar;
	size_t n = 0, k = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	buf_init(&ret->out, EXEC_MAX_OUTPUT);
	buf_init(&ret->err, EXEC_MAX_OUTPUT);

	for (char **p = environ; *p; p++)
		n++;
	envp = xcalloc(n + 2, sizeof(*envp));
	for (char **p = environ; *p; p++)
		if (strncmp(*p, "CNI_COMMAND=", 12))
			envp[k++] = *p;
	xasprintf(&cmdvar, "CNI_COMMAND=%s", command);
	envp[k++] = cmdvar;

	for (int attempt = 0;; attempt++) {
		r = spawn(path, envp, &c);
		if (r != -ETXTBSY || attempt == EXEC_TXTBSY_RETRIES)
			break;
		sleep(1);
	}
	if (r == 0) {
		/* A plugin that exits without reading its stdin must not kill us. */
		sigaction(SIGPIPE, &ign, &old);
		talk(&c, input, len, ret);
		sigaction(SIGPIPE, &old, NULL);
	}
	free(cmdvar);
	free(envp);
	return r;
}

void exec_result_free(struct exec_result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

/* Go's os.ProcessState.String(). */
static void describe_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status)) {
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		const char *s = strsignal(WTERMSIG(status));

		snprintf(buf, size, "signal: %s", s ? s : "unknown");
		buf[8] = (char)tolower((unsigned char)buf[8]);
	} else {
		snprintf(buf, size, "status %d", status);
	}
}

int exec_check(const struct exec_result *r, struct cni_error *e)
{
	char q[1500], why[64];
	json_error_t jerr;
	json_t *j;

	if (r->overflow)
		return cni_fail(e, CNI_ERR_INTERNAL, "netplugin output exceeds %d bytes: killed",
				EXEC_MAX_OUTPUT);
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return 0;
	describe_status(r->status, why, sizeof(why));
	if (r->out.len > 0) {
		j = json_loadb(r->out.data, r->out.len, 0, &jerr);
		if (json_is_object(j)) {
			json_int_t code = json_integer_value(json_object_get(j, "code"));

			json_decref(j);
			/* passed through byte for byte; the code only tells our
			 * caller that an error is set */
			return cni_fail_raw(
				e, code > 0 && code < 100000 ? (unsigned)code : CNI_ERR_INTERNAL,
				r->out.data, r->out.len);
		}
		json_decref(j);
		cni_quote(q, sizeof(q), r->out.data, r->out.len);
		return cni_fail(e, CNI_ERR_INTERNAL,
				"netplugin failed but error parsing its diagnostic message %s: %s",
				q, j ? "not a JSON object" : jerr.text);
	}
	if (r->err.len > 0) {
		cni_quote(q, sizeof(q), r->err.data, r->err.len);
		return cni_fail(e, CNI_ERR_INTERNAL, "netplugin failed: %s", q);
	}
	return cni_fail(e, CNI_ERR_INTERNAL, "netplugin failed with no error message: %s", why);
}

int exec_call(const char *path, const char *command, const char *input, size_t len,
	      struct exec_result *ret, struct cni_error *e)
{
	int r = exec_run(path, command, input, len, ret);

	if (r < 0)
		return cni_fail(e, CNI_ERR_IO, "failed to run plugin %s: %s", path, strerror(-r));
	if (ret->err.len)
		fwrite(ret->err.data, 1, ret->err.len, stderr);
	return exec_check(ret, e);
}

int exec_plugin(const char *type, const char *cni_path, const char *command, const char *input,
		size_t len, struct exec_result *ret, struct cni_error *e)
{
	char *path;
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = exec_find(type, cni_path, &path, e)) < 0)
		return r;
	r = exec_call(path, command, input, len, ret, e);
	free(path);
	return r;
}

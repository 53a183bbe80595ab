/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_IPSEC_CHARON_H
#define WEFT_IPSEC_CHARON_H

/*
 * strongSwan's IKE daemon as weftd's child (flannel.md §7.6): found where
 * upstream looks, given a strongswan.conf of our own with exactly the
 * plugins it needs, and run in a private mount namespace whose /var/run is
 * weft's directory for it, so that its fixed pid file (/var/run/charon.pid)
 * and its VICI socket never meet another charon's (an operator's, or a
 * second test host's on one machine). Supervised on the control loop: a
 * charon that exits is started again (at once, then backing off while it
 * keeps dying young) and the owner is told, so that it can reload its
 * connections. Nothing here blocks the loop, except charon_stop's bounded
 * wait for the child at shutdown.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct err;
struct loop;

enum charon_event {
	CHARON_STARTED,	  /* exec'd (status = pid); the VICI socket follows shortly */
	CHARON_EXITED,	  /* died (status = waitpid's status); started again after a delay */
	CHARON_FAILED,	  /* could not be started (status = -errno, step in charon_failure) */
};

struct charon_params {
	struct loop *loop;
	const char *exe;     /* full path, from charon_find */
	const char *run_dir; /* its config, socket, pid file and log (created 0700) */
	bool userspace;	     /* kernel-libipsec: ESP in charon, through its TUN ipsec0 */
	void (*event)(void *arg, enum charon_event ev, int status);
	void *arg;
};

struct charon;

/* configured (a path, or NULL/"" for upstream's search: charon in PATH,
 * /usr/lib/strongswan/charon, /usr/lib/ipsec/charon,
 * /usr/libexec/strongswan/charon, /usr/libexec/ipsec/charon) into ret;
 * -ENOENT with err naming every place looked at. */
int charon_find(const char *configured, char *ret, size_t len, struct err *err);

/* The strongswan.conf charon gets; view_dir is where it sees run_dir.
 * malloc'd. */
char *charon_conf_text(const char *view_dir, bool userspace);

/* Write the config and start charon; 0 or -errno with err set. */
int charon_start(const struct charon_params *p, struct charon **ret, struct err *err);
/* SIGTERM, a wait of at most 3 s, then SIGKILL; frees. NULL is fine. */
void charon_stop(struct charon *c);
/* SIGKILL it now (hung): it is started again as if it had died. */
void charon_kill(struct charon *c);

pid_t charon_pid(const struct charon *c); /* 0 while not running */
unsigned charon_restarts(const struct charon *c);
/* The VICI socket, as weftd sees it. */
const char *charon_vici_path(const struct charon *c);
/* The step that failed last (CHARON_FAILED): "unshare", "mount", "exec"... */
const char *charon_failure(const struct charon *c);

#endif

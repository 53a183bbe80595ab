/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_NOTIFY_H
#define WEFT_AGENT_NOTIFY_H

/*
 * systemd's readiness protocol without libsystemd (sd_notify(3)): one
 * datagram of newline-separated VAR=value assignments to the AF_UNIX socket
 * named by $NOTIFY_SOCKET, a filesystem path or, with a leading '@', an
 * abstract-namespace address. flanneld sends READY=1 once the backend runs
 * (flannel.md §10.3).
 *
 * The send never blocks (MSG_DONTWAIT): a full receiver queue is -EAGAIN.
 * The environment variable is left in place.
 *
 * Intended use, once the backend is up:
 *
 *	r = sd_notify_ready();
 *	if (r < 0)
 *		log_warnx("sd_notify READY=1: %s, ignoring", strerror(-r));
 *
 * and sd_notify_send("STOPPING=1") on shutdown.
 */

/*
 * 0 when $NOTIFY_SOCKET is unset or empty (not under systemd: nothing to do),
 * 1 when state was sent, else a negative errno: -EINVAL for an empty state or
 * an address that is neither absolute nor abstract or too long, or whatever
 * socket/sendto reported (-ENOENT, -ECONNREFUSED, -EAGAIN, ...).
 */
int sd_notify_send(const char *state);
/* sd_notify_send("READY=1"). */
int sd_notify_ready(void);

#endif

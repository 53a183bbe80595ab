/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_STATUS_H
#define WEFT_AGENT_STATUS_H

/*
 * Two listeners, each started only when its port is set:
 *   health  (--healthz-ip/--healthz-port): /healthz and /readyz with
 *           flanneld's semantics and bodies, and nothing else (404);
 *   metrics (--metrics-ip/--metrics-port, 127.0.0.1 by default): /metrics in
 *           Prometheus text format and /status (JSON for `weftctl status`),
 *           which reveal the node's addresses, subnet and version.
 */
struct agent;
struct status;
struct err;

int status_start(struct agent *a, struct status **ret, struct err *err);
/* Our lease is known: add its labelled info series. */
void status_lease(struct status *s);
void status_free(struct status *s);

#endif

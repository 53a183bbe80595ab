/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_STATUS_H
#define WEFT_AGENT_STATUS_H

/*
 * The health listener (--healthz-ip/--healthz-port): /healthz and /readyz with
 * flanneld's semantics and bodies, and /metrics in Prometheus text format.
 */
struct agent;
struct status;
struct err;

int status_start(struct agent *a, struct status **ret, struct err *err);
/* Our lease is known: add its labelled info series. */
void status_lease(struct status *s);
void status_free(struct status *s);

#endif

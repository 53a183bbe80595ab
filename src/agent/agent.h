/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_AGENT_H
#define WEFT_AGENT_AGENT_H

/*
 * The daemon's start-up order and life cycle (flannel.md §2): config, external
 * interface, backend, lease, subnet file, then peers and renewals, until a
 * signal or the loss of our lease.
 */

struct flags;

/*
 * Knobs for tests only, read from the environment (never set in production):
 * WEFT_TEST_LEASE_TTL=seconds, WEFT_TEST_RENEW_MARGIN=seconds (overrides
 * --subnet-lease-renew-margin), WEFT_TEST_RENEW_RETRY=seconds,
 * WEFT_TEST_WATCH_IDLE=seconds (etcd watch watchdog, default 25 min).
 */

/* Runs the daemon; returns the process exit code. */
int agent_run(const struct flags *flags);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_AGENT_AGENT_INT_H
#define WEFT_AGENT_AGENT_INT_H

/* The agent's state, shared by the files of src/agent (not a public header). */
#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "nft/traffic.h"
#include "subnet/subnet_env.h"
#include "subnet/subnet_mgr.h"

struct flags;
struct loop;
struct netconf;
struct overlay_peers;
struct rules_job;
struct status;
struct underlay;
struct worker;

struct agent {
	const struct flags *flags;
	struct loop *loop;
	struct subnet_mgr *mgr;
	struct backend *backend;
	const struct netconf *nc; /* owned by the manager */
	struct ext_iface ext;
	struct subnet_env prev;
	bool have_prev;
	int exit_code;

	struct lease_key_copy {
		bool held;
		char name[SUBNET_KEY_STRLEN];
		struct subnet_key subnet;
	} own;
	unsigned mtu;

	struct traffic *traffic;
	struct traffic_params tp;
	struct worker *worker;       /* runs the rules jobs (agent.c) */
	struct rules_job *rules_job; /* the one job, owned by the worker while it runs */
	int64_t rules_started_ms;    /* when the running (or last) job began */
	bool rules_stalled;          /* a resync found the last check still running */
	struct subnet_env env;       /* written once the rules are in */
	int64_t resync_timer;
	uint64_t rule_checks, rule_restores, rule_errors;
	uint64_t blackhole_restores;
	struct overlay_peers *overlay; /* agent.c: the peers' public addresses */

	struct status *status;
	bool ready; /* rules in place and subnet file written */
	struct underlay *underlay; /* follows the external interface (underlay.h) */
};

#endif

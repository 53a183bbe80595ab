/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_TRAFFIC_INT_H
#define WEFT_NFT_TRAFFIC_INT_H

/*
 * Inside the traffic module: the base both modes embed and the ops table
 * traffic.c (the dispatcher) calls them through. A mode reaches its own
 * state with container_of from the functions of its ops table; it calls
 * nothing in traffic.c. Not for other modules.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "nft/traffic.h"

struct traffic_mode_ops;

/* Set by traffic.c once create returned. */
struct traffic_mode {
	const struct traffic_mode_ops *ops;
	int cancel_fd;       /* -1, or readable when tool runs must stop */
};

/* What the dispatcher asks of a mode; the calls are those of traffic.h. */
struct traffic_mode_ops {
	/* *ret embeds a struct traffic_mode. Both modes are created: the one
	 * not in use (in_use false) only to remove what it left, and what it
	 * cannot set up then is said by remove_leftovers, not here. */
	int (*create)(bool in_use, struct traffic_mode **ret, struct err *err);
	void (*destroy)(struct traffic_mode *m);
	/* Drop what the mode kept about its last write (the parameters
	 * changed, or a new write begins). */
	void (*forget)(struct traffic_mode *m);
	/* traffic_cleanup in the mode in use: what `now` no longer wants. */
	int (*cleanup)(struct traffic_mode *m, const struct traffic_params *now,
		       const struct traffic_params *old, char *what, size_t len, struct err *err);
	/* traffic_cleanup in the mode not in use: everything it may have
	 * left. Never fails: what it could not do becomes a note. */
	void (*remove_leftovers)(struct traffic_mode *m, char *what, size_t len);
	int (*apply)(struct traffic_mode *m, const struct traffic_params *p, struct err *err);
	int (*check)(struct traffic_mode *m, const struct traffic_params *p, char *what,
		     size_t len, struct err *err);
	int (*peers)(struct traffic_mode *m, const struct traffic_params *p, char *what,
		     size_t len, struct err *err);
};

extern const struct traffic_mode_ops traffic_ipt_ops; /* iptables.c */
extern const struct traffic_mode_ops traffic_nft_ops; /* nftables.c */

#endif

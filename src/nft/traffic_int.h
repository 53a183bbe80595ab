/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_TRAFFIC_INT_H
#define WEFT_NFT_TRAFFIC_INT_H

/*
 * Inside the traffic module: the object traffic.c (the dispatcher) hands to
 * the two modes, and the ops table it calls them through. Each mode keeps
 * its own state behind its own pointer; the dispatcher never looks into it,
 * and the modes call nothing in traffic.c. Not for other modules.
 */
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "nft/traffic.h"

struct traffic;

/* What the dispatcher asks of a mode; every call as in traffic.h. */
struct traffic_mode_ops {
	/* At creation. The mode not in use is set up too (for
	 * remove_leftovers); its failure does not count. */
	int (*init)(struct traffic *t, struct err *err);
	/* Frees the mode's state, also after a failed init or none. */
	void (*fini)(struct traffic *t);
	/* Drops what the mode kept about its last write (the parameters
	 * changed). */
	void (*forget)(struct traffic *t);
	/* traffic_cleanup in the mode in use: what `now` no longer wants. */
	int (*cleanup)(struct traffic *t, const struct traffic_params *now,
		       const struct traffic_params *old, char *what, size_t len, struct err *err);
	/* traffic_cleanup in the mode not in use: everything it may have
	 * left. Never fails: what it could not do becomes a note. */
	void (*remove_leftovers)(struct traffic *t, char *what, size_t len);
	int (*apply)(struct traffic *t, const struct traffic_params *p, struct err *err);
	int (*check)(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
		     struct err *err);
};

extern const struct traffic_mode_ops traffic_ipt_ops; /* iptables.c */
extern const struct traffic_mode_ops traffic_nft_ops; /* nftables.c */

struct traffic {
	const struct traffic_mode_ops *mode;  /* fixed at creation */
	const struct traffic_mode_ops *other; /* the mode not in use */
	int cancel_fd;       /* -1, or readable when tool runs must stop */

	/* The parameters of the last apply or check; what the mode kept
	 * about its write goes when they change. */
	struct traffic_params applied;
	bool has_applied;

	struct ipt_state *ipt;   /* iptables.c's */
	struct nftm_state *nftm; /* nftables.c's */
};

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_NFT_TRAFFIC_H
#define WEFT_NFT_TRAFFIC_H

/*
 * Traffic rules (flannel spec section 8): masquerade and forward-accept rules,
 * in one of two modes fixed at creation:
 *
 *   iptables mode   chain FLANNEL-POSTRTG in nat (jumped to from POSTROUTING)
 *                   and FLANNEL-FWD in filter (from FORWARD), through the
 *                   iptables/ip6tables binaries on PATH; every write is one
 *                   `iptables-restore --noflush` transaction per table.
 *   nftables mode   tables `ip flannel-ipv4` / `ip6 flannel-ipv6` with chains
 *                   postrtg and forward, through libnftables; one transaction
 *                   per table. No iptables binary is needed.
 *
 * weft adds one rule set of its own (TRAFFIC_OVERLAY, docs/operations.md):
 * only peers may send to the overlay port. iptables mode: chain WEFT-OVERLAY
 * in filter, jumped to first from INPUT for the port, one RETURN per peer
 * and a DROP; nftables mode: set overlay-peers and chain overlay-input (hook
 * input) in the same tables, so that upstream's flush of its table also
 * empties the chain should flanneld take the node over.
 *
 * Names, comments and rule text are upstream flannel's, byte for byte, so that
 * either daemon can find and remove what the other left behind.
 *
 * Nothing here logs: failures come back as -errno with a struct err, and the
 * things worth one log line (what was removed, what was found altered) come
 * back as text in a caller's `what` buffer.
 *
 * Calls block while a helper binary or a netlink transaction runs: usually
 * milliseconds, but an iptables waiting for the xtables lock (we ask it to
 * give up after 10 s) or a hung one (killed after 30 s per run) can hold a
 * call for longer. The daemon therefore calls everything except
 * traffic_new/traffic_free from a worker thread (core/worker.h), one call at
 * a time; the object is not locked and must not be used from two threads at
 * once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/ipnet.h"

struct traffic_params {
	bool ipv4, ipv6;                   /* families enabled */
	struct ip_prefix network, subnet;  /* CLUSTER (config Network), POD (own lease) */
	struct ip_prefix network6, subnet6;
	bool masq;                         /* --ip-masq */
	bool forward;                      /* --iptables-forward-rules */
	bool fully_random_disable;         /* --ip-masq-fully-random-disable */
	/*
	 * Only peers may send us overlay traffic (weft, --overlay-peers-only):
	 * packets addressed to this host for UDP port overlay_port
	 * (overlay_proto IPPROTO_UDP) or of IP protocol 4 (IPPROTO_IPIP, IPv4
	 * only), not arriving on lo, are dropped unless their source is one of
	 * peers. overlay_proto 0: no such rule (a backend without an overlay
	 * port, or the flag off).
	 */
	uint8_t overlay_proto;
	uint16_t overlay_port;
	/* The peers' public addresses, both families, any order, repeats and
	 * unset addresses allowed; not owned. Not a parameter of the rules'
	 * shape: a change of peers alone needs only traffic_peers. */
	const struct ip_addr *peers;
	size_t npeers;
};

struct traffic;

/* One per daemon. Finds the binaries iptables mode uses (a missing one is
 * only an error once a family that needs it is applied). 0 or -errno. */
int traffic_new(bool nftables_mode, struct traffic **ret, struct err *err);
void traffic_free(struct traffic *t); /* leaves all rules in place; NULL ok */

/* From now on, a helper binary still running when fd becomes readable is
 * killed and the call returns -ECANCELED; so does every later call that
 * would run one. -1 (the default): never. libnftables calls are not
 * interrupted (netlink transactions, they do not wait on others). */
void traffic_set_cancel_fd(struct traffic *t, int fd);

/*
 * Once at start, before traffic_apply:
 *  - removes what the other mode left: iptables mode deletes the nft tables
 *    flannel-ipv4/flannel-ipv6; nftables mode removes FLANNEL-POSTRTG (nat)
 *    and FLANNEL-FWD (filter) together with every rule jumping to them;
 *  - iptables mode: deletes the rules computed for `old` (network/subnet of
 *    the previous subnet.env; NULL when there is none) where they differ from
 *    `now`, and removes a chain whose rule set `now` disables;
 *  - nftables mode: deletes the table of a family `now` disables.
 * An unavailable other mode (no iptables binaries, no nf_tables) is a note,
 * not a failure. Returns 0 (nothing to report), 1 (`what` says what was
 * removed or skipped) or -errno.
 */
int traffic_cleanup(struct traffic *t, const struct traffic_params *now,
		    const struct traffic_params *old, char *what, size_t len, struct err *err);

/* Install the rule set for p: one transaction per table. 0 or -errno. */
int traffic_apply(struct traffic *t, const struct traffic_params *p, struct err *err);

/*
 * Compare what is installed with what p asks for (the whole chain or table,
 * so extra and reordered rules count too) and re-apply on any difference.
 * Returns 0 (all fine), 1 (restored; `what` names what was missing or
 * altered) or -errno.
 */
int traffic_check(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
		  struct err *err);

/*
 * Bring the overlay peer set (nftables: the elements of set overlay-peers;
 * iptables: the RETURN rules of chain WEFT-OVERLAY) in line with p->peers,
 * adding and deleting only what differs, in one transaction per family.
 * Where the set or chain is missing or holds something else, the family's
 * overlay rules are written whole again. Nothing to do without an overlay
 * rule. Returns 0 (already in line), 1 (`what` says what changed) or -errno.
 */
int traffic_peers(struct traffic *t, const struct traffic_params *p, char *what, size_t len,
		  struct err *err);

/*
 * Text forms, exactly as the tools print them (used by the check and by the
 * golden tests). af is AF_INET or AF_INET6; text is appended to out.
 * 0, -EINVAL (params unusable for that family) or -E2BIG (out is full).
 */
enum traffic_set { TRAFFIC_MASQ, TRAFFIC_FORWARD, TRAFFIC_OVERLAY };

/* The jump line as `iptables -t nat -S POSTROUTING` / `iptables -S FORWARD`
 * prints it, with a newline. */
int traffic_ipt_jump_text(const struct traffic_params *p, int af, enum traffic_set set,
			  struct buf *out);
/* `iptables -t nat -S FLANNEL-POSTRTG` / `iptables -S FLANNEL-FWD` /
 * `iptables -S WEFT-OVERLAY` (its peers in address order). */
int traffic_ipt_chain_text(const struct traffic_params *p, int af, enum traffic_set set,
			   bool random_fully, struct buf *out);
/* The `iptables-restore --noflush` payload that installs the set: the chain
 * is created or flushed, every rule in `builtin_listing` (the builtin chain
 * as `-S` prints it; NULL for none) that jumps to our chain is deleted and
 * our jump appended, so that it ends last (WEFT-OVERLAY's: inserted first,
 * ahead of any ACCEPT for the port), then the chain is filled. */
int traffic_ipt_restore_text(const struct traffic_params *p, int af, enum traffic_set set,
			     bool random_fully, const char *builtin_listing, struct buf *out);
/* `nft -t -s list table ip flannel-ipv4` (AF_INET6: ip6 flannel-ipv6):
 * terse (no set elements) and stateless (no counter values). */
int traffic_nft_table_text(const struct traffic_params *p, int af, bool fully_random,
			   struct buf *out);
/* The nft transaction that installs the table: add + flush (recreate: add +
 * delete + add, which also drops foreign chains and a wrong comment); the
 * overlay peer set is flushed and filled with p->peers. */
int traffic_nft_apply_text(const struct traffic_params *p, int af, bool fully_random,
			   bool recreate, struct buf *out);
/*
 * The overlay peer updates. listing: the chain or set as the tool prints it
 * (`iptables -S WEFT-OVERLAY`, `nft list set ip flannel-ipv4 overlay-peers`);
 * out gets the `iptables-restore --noflush` payload or the nft transaction
 * that adds the peers of p missing from it and deletes the others (nothing
 * when none differ; *added and *removed count them). -EINVAL when the listing
 * holds anything but peers (the caller writes the overlay rules whole), or
 * p has no overlay rule for af; -E2BIG.
 */
int traffic_ipt_peers_text(const struct traffic_params *p, int af, const char *listing,
			   struct buf *out, unsigned *added, unsigned *removed);
int traffic_nft_peers_text(const struct traffic_params *p, int af, const char *listing,
			   struct buf *out, unsigned *added, unsigned *removed);

#endif

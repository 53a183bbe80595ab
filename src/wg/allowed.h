/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_WG_ALLOWED_H
#define WEFT_WG_ALLOWED_H

/*
 * Cryptokey routing (whitepaper §2): the table from allowed IPs to peers.
 * Immutable once built, so that data-path threads read it without a lock
 * (a change builds a new one, see core/qsbr.h). Lookup is longest-prefix
 * match: one binary search per distinct prefix length, longest first.
 * An address in two peers' allowed IPs belongs to the peer added last, as
 * in wg: building takes entries in order and a later equal prefix wins.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/qsbr.h"
#include "wg/config.h"

struct wg_allowed_entry {
	struct wg_allowed_ip ip;
	void *peer;
};

struct wg_allowed_table;

/* Build from n entries (copied). Allocates: control side only. */
struct wg_allowed_table *wg_allowed_build(const struct wg_allowed_entry *e, size_t n);
void wg_allowed_free(struct wg_allowed_table *t);
/* The table's reclamation node (for qsbr_retire with wg_allowed_free_node). */
struct qsbr_node *wg_allowed_node(struct wg_allowed_table *t);
void wg_allowed_free_node(struct qsbr_node *n);

/* The peer owning addr (4 bytes for AF_INET, 16 for AF_INET6, network
 * order), or NULL. */
void *wg_allowed_lookup(const struct wg_allowed_table *t, int family, const uint8_t *addr);

#endif

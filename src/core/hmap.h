/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_HMAP_H
#define WEFT_CORE_HMAP_H

/*
 * A string-keyed hash map with intrusive entries: embed struct hmap_node in
 * the value, the map stores no copies and allocates only its bucket array.
 * Chained, power-of-two buckets, grows at load factor 1.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/container_of.h"

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
	const char *key; /* owned by the entry */
};

struct hmap {
	struct hmap_node **buckets;
	size_t n_buckets; /* 0 or a power of two */
	size_t count;
};

uint64_t hmap_hash(const char *key);
uint64_t hmap_hash_bytes(const void *data, size_t len);
void hmap_init(struct hmap *m);
/* Frees the bucket array only; entries belong to the caller. */
void hmap_destroy(struct hmap *m);
/* Hands every entry to free_node (which frees it), then hmap_destroy(). */
void hmap_clear(struct hmap *m, void (*free_node)(struct hmap_node *node));
struct hmap_node *hmap_get(const struct hmap *m, const char *key);
/* node->key must be set and stay valid while the node is in the map.
 * Returns the node with the same key that was replaced (now out), or NULL. */
struct hmap_node *hmap_put(struct hmap *m, struct hmap_node *node);
/* Removes and returns the node with key, or NULL. */
struct hmap_node *hmap_remove(struct hmap *m, const char *key);

/* Iteration: for (n = hmap_first(m, &i); n; n = hmap_next(m, n, &i)).
 * Removing the current node is fine if the next one was fetched first. */
struct hmap_node *hmap_first(const struct hmap *m, size_t *iter);
struct hmap_node *hmap_next(const struct hmap *m, const struct hmap_node *n, size_t *iter);

#define hmap_entry(ptr, type, member) container_of(ptr, type, member)

#endif

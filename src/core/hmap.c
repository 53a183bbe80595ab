// SPDX-License-Identifier: Apache-2.0
#include "core/hmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* FNV-1a, 64 bit: keys are short subnet names. */
uint64_t hmap_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t hmap_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void hmap_destroy(struct hmap *m)
{
	free(m->buckets);
	hmap_init(m);
}

void hmap_clear(struct hmap *m, void (*free_node)(struct hmap_node *node))
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		struct hmap_node *node = m->buckets[i], *next;

		for (; node; node = next) {
			next = node->next;
			free_node(node);
		}
	}
	hmap_destroy(m);
}

static void grow(struct hmap *m)
{
	size_t n = m->n_buckets ? m->n_buckets * 2 : 16;
	struct hmap_node **b = xcalloc(n, sizeof(*b));

	for (size_t i = 0; i < m->n_buckets; i++) {
		struct hmap_node *node = m->buckets[i], *next;

		for (; node; node = next) {
			next = node->next;
			node->next = b[node->hash & (n - 1)];
			b[node->hash & (n - 1)] = node;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
}

static struct hmap_node **find(const struct hmap *m, const char *key, uint64_t hash)
{
	struct hmap_node **pp;

	if (!m->n_buckets)
		return NULL;
	for (pp = &m->buckets[hash & (m->n_buckets - 1)]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == hash && !strcmp((*pp)->key, key))
			return pp;
	return NULL;
}

struct hmap_node *hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_node **pp = find(m, key, hmap_hash(key));

	return pp ? *pp : NULL;
}

struct hmap_node *hmap_put(struct hmap *m, struct hmap_node *node)
{
	struct hmap_node **pp, *old = NULL;

	node->hash = hmap_hash(node->key);
	pp = find(m, node->key, node->hash);
	if (pp) {
		old = *pp;
		node->next = old->next;
		*pp = node;
		old->next = NULL;
		return old;
	}
	if (m->count + 1 > m->n_buckets)
		grow(m);
	pp = &m->buckets[node->hash & (m->n_buckets - 1)];
	node->next = *pp;
	*pp = node;
	m->count++;
	return NULL;
}

struct hmap_node *hmap_remove(struct hmap *m, const char *key)
{
	struct hmap_node **pp = find(m, key, hmap_hash(key)), *n;

	if (!pp)
		return NULL;
	n = *pp;
	*pp = n->next;
	n->next = NULL;
	m->count--;
	return n;
}

struct hmap_node *hmap_first(const struct hmap *m, size_t *iter)
{
	for (size_t i = 0; i < m->n_buckets; i++) {
		if (m->buckets[i]) {
			*iter = i;
			return m->buckets[i];
		}
	}
	return NULL;
}

struct hmap_node *hmap_next(const struct hmap *m, const struct hmap_node *n, size_t *iter)
{
	if (n->next)
		return n->next;
	for (size_t i = *iter + 1; i < m->n_buckets; i++) {
		if (m->buckets[i]) {
			*iter = i;
			return m->buckets[i];
		}
	}
	return NULL;
}

// SPDX-License-Identifier: Apache-2.0
/* The etcd manager's bad-key log: the keys noted, by their escaped text. */
#include <stdlib.h>

#include "core/escape.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "subnet/etcd_mgr_int.h"

struct bad_key {
	struct hmap_node node;
	char *key;
	int64_t mod_revision;
};

/*
 * A key or value written by someone else that we cannot use: one log line per
 * key and revision, however often it is listed again.
 */
void etcd_mgr_note_bad(struct etcd_mgr *m, const char *key, size_t len, int64_t rev,
		       const char *why)
{
	char *text = escape_bytes(key, len);
	struct hmap_node *n = hmap_get(&m->bad_keys, text);
	struct bad_key *b;

	if (n) {
		b = hmap_entry(n, struct bad_key, node);
		free(text);
		if (b->mod_revision == rev)
			return;
		b->mod_revision = rev;
	} else {
		b = xcalloc(1, sizeof(*b));
		b->key = text;
		b->node.key = b->key;
		b->mod_revision = rev;
		hmap_put(&m->bad_keys, &b->node);
	}
	m->stats.bad_entries++;
	log_warnx("ignoring %s (revision %lld): %s", b->key, (long long)rev, why);
}

static void bad_key_free(struct hmap_node *n)
{
	struct bad_key *b = hmap_entry(n, struct bad_key, node);

	free(b->key);
	free(b);
}

void etcd_mgr_forget_bad(struct etcd_mgr *m, const char *key, size_t len)
{
	char *text;
	struct hmap_node *n;

	if (!m->bad_keys.count)
		return;
	text = escape_bytes(key, len);
	n = hmap_remove(&m->bad_keys, text);
	free(text);
	if (n)
		bad_key_free(n);
}

void etcd_mgr_bad_clear(struct etcd_mgr *m)
{
	hmap_clear(&m->bad_keys, bad_key_free);
}

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CNI_STATE_H
#define WEFT_CNI_STATE_H

/*
 * The plugin's only state (spec §11.4): the delegate configuration of each
 * attachment, stored by ADD at <dataDir>/<containerID> (directory 0700, file
 * 0600) and read back by DEL and CHECK, so that DEL works even after
 * subnet.env changed or disappeared. The file names are upstream's, so a node
 * switched between flannel's plugin and ours keeps working.
 *
 * The directory is flock()ed: shared by ADD, DEL and CHECK (each works on
 * its own container), exclusive by GC, which must not remove the file of an
 * ADD still in flight.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct buf;
struct cni_error;

struct state {
	char dir[PATH_MAX];
	int dfd; /* -1: the directory does not exist, nothing is stored */
};

/* create: make the directory (and missing parents) 0700 first. */
int state_open(struct state *s, const char *dir, bool create, bool exclusive, struct cni_error *e);
void state_close(struct state *s);

/* Replace <dir>/<id> atomically: temp file, fsync, rename, directory fsync. */
int state_store(struct state *s, const char *id, const char *data, size_t len, struct cni_error *e);
/* -ENOENT (e untouched) when nothing is stored for id. */
int state_read(struct state *s, const char *id, struct buf *out, struct cni_error *e);
/* 0 also when there was nothing to remove. */
int state_remove(struct state *s, const char *id);

/* Remove the file of every container not in keep[] (and the temp files of
 * interrupted writes); names that are not container ids are left alone. */
int state_gc(struct state *s, const char *const *keep, size_t n_keep, unsigned *ret_removed,
	     struct cni_error *e);

#endif

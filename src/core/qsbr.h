/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_QSBR_H
#define WEFT_CORE_QSBR_H

/*
 * Quiescent-state based reclamation (the simplest RCU), for objects that
 * data-path threads read without a lock: a writer unpublishes an object and
 * retires it; it is freed once every reader has passed a quiescent state
 * (the top of its next batch) or gone offline (about to block), so no
 * reader can still hold it. Readers write only their own slot, once per
 * batch; retire and reclaim take a mutex (writers are rare).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define QSBR_MAX_READERS 8
#define QSBR_OFFLINE UINT64_MAX

struct qsbr_node {
	struct qsbr_node *next;
	uint64_t gen;
	void (*free_fn)(struct qsbr_node *n);
};

struct qsbr {
	_Atomic uint64_t gen;
	struct {
		_Atomic uint64_t seen;
		char pad[56];
	} readers[QSBR_MAX_READERS];
	unsigned n_readers;
	pthread_mutex_t mu;
	struct qsbr_node *retired;
	size_t n_retired;
};

/* All readers start offline. */
void qsbr_init(struct qsbr *q, unsigned n_readers);
/* Frees everything retired: readers must be gone. */
void qsbr_destroy(struct qsbr *q);

/* Reader r: at the top of a batch (holding nothing). */
static inline void qsbr_quiescent(struct qsbr *q, unsigned r)
{
	atomic_store_explicit(&q->readers[r].seen, atomic_load(&q->gen), memory_order_seq_cst);
}

/* Reader r: about to block, holding nothing until its next qsbr_quiescent. */
static inline void qsbr_offline(struct qsbr *q, unsigned r)
{
	atomic_store_explicit(&q->readers[r].seen, QSBR_OFFLINE, memory_order_release);
}

/* Writer: n is unreachable for new readers; free it (free_fn) once no
 * reader can hold it. */
void qsbr_retire(struct qsbr *q, struct qsbr_node *n, void (*free_fn)(struct qsbr_node *n));
/* Free what may be freed; returns how many remain retired. */
size_t qsbr_reclaim(struct qsbr *q);

#endif

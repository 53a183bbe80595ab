// SPDX-License-Identifier: Apache-2.0
#include "core/qsbr.h"

void qsbr_init(struct qsbr *q, unsigned n_readers)
{
	atomic_init(&q->gen, 1);
	q->n_readers = n_readers < QSBR_MAX_READERS ? n_readers : QSBR_MAX_READERS;
	for (unsigned i = 0; i < QSBR_MAX_READERS; i++)
		atomic_init(&q->readers[i].seen, QSBR_OFFLINE);
	pthread_mutex_init(&q->mu, NULL);
	q->retired = NULL;
	q->n_retired = 0;
}

void qsbr_destroy(struct qsbr *q)
{
	struct qsbr_node *n = q->retired, *next;

	for (; n; n = next) {
		next = n->next;
		n->free_fn(n);
	}
	q->retired = NULL;
	q->n_retired = 0;
	pthread_mutex_destroy(&q->mu);
}

void qsbr_retire(struct qsbr *q, struct qsbr_node *n, void (*free_fn)(struct qsbr_node *n))
{
	n->free_fn = free_fn;
	pthread_mutex_lock(&q->mu);
	/* A reader that announces this generation or a later one read the
	 * published pointers after n was unpublished. */
	n->gen = atomic_fetch_add(&q->gen, 1) + 1;
	n->next = q->retired;
	q->retired = n;
	q->n_retired++;
	pthread_mutex_unlock(&q->mu);
}

size_t qsbr_reclaim(struct qsbr *q)
{
	struct qsbr_node **pp, *n, *done = NULL;
	uint64_t min = QSBR_OFFLINE;
	size_t left;

	for (unsigned i = 0; i < q->n_readers; i++) {
		uint64_t s = atomic_load(&q->readers[i].seen);

		if (s < min)
			min = s;
	}
	pthread_mutex_lock(&q->mu);
	for (pp = &q->retired; (n = *pp);) {
		if (n->gen <= min) {
			*pp = n->next;
			n->next = done;
			done = n;
			q->n_retired--;
		} else {
			pp = &n->next;
		}
	}
	left = q->n_retired;
	pthread_mutex_unlock(&q->mu);
	while (done) {
		n = done;
		done = n->next;
		n->free_fn(n);
	}
	return left;
}

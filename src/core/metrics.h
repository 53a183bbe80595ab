/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEFT_CORE_METRICS_H
#define WEFT_CORE_METRICS_H

/*
 * A small metrics registry rendered in the Prometheus text exposition format
 * 0.0.4. A family (one metric name, one type, one HELP text, N label names)
 * holds children, one per set of label values. Families render in
 * registration order, children in creation order; a family without children
 * renders nothing (as the Go client does).
 *
 * A child holds an int64 until a double operation touches it, then a double.
 * A callback child reads its value at render time instead (peer counts, the
 * HTTP server's counters); operations on it are ignored. Counters only go up:
 * negative deltas are ignored.
 *
 * Not thread-safe: everything happens on the daemon's loop. Names are checked
 * against Prometheus' grammar: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label
 * names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__".
 *
 * Intended use:
 *
 *	struct metrics *m;
 *	struct metrics_family *corr;
 *	struct metrics_child *routes;
 *	static const char *const kind[] = { "kind", NULL };
 *
 *	metrics_new(&m);
 *	metrics_family_add(m, METRICS_COUNTER, "weft_reconcile_corrections_total",
 *			   "Kernel objects the reconciler had to fix.", kind, &corr);
 *	metrics_child(corr, (const char *const[]){ "route" }, &routes);
 *	metrics_gauge_func_new(m, "weft_peers", "Known peer leases.", count_peers, agent);
 *	...
 *	metrics_inc(routes);
 *	...
 *	// in the /metrics handler (http/server.h):
 *	resp->content_type = METRICS_CONTENT_TYPE;
 *	return metrics_render(m, &resp->body);
 *
 * renders
 *
 *	# HELP weft_reconcile_corrections_total Kernel objects the reconciler had to fix.
 *	# TYPE weft_reconcile_corrections_total counter
 *	weft_reconcile_corrections_total{kind="route"} 1
 *	# HELP weft_peers Known peer leases.
 *	# TYPE weft_peers gauge
 *	weft_peers 2
 */
#include <stdbool.h>
#include <stdint.h>

struct buf;
struct metrics;
struct metrics_family;
struct metrics_child;

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
};

/* The Content-Type of metrics_render's output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Called at render time; NaN and infinities render as NaN, +Inf, -Inf. */
typedef double metrics_read_cb(void *arg);

int metrics_new(struct metrics **ret_m);
/* Frees every family and child. NULL is fine. */
void metrics_free(struct metrics *m);

/* true when name may be a metric name / a label name. */
bool metrics_name_valid(const char *name);
bool metrics_label_name_valid(const char *name);

/*
 * Registers a family. label_names is NULL-terminated (NULL or empty: no
 * labels); the strings are copied. help must be non-empty. -EINVAL for a bad
 * name, label name (or a duplicate one) or help, -EEXIST when the name is
 * taken. ret_family may be NULL.
 */
int metrics_family_add(struct metrics *m, enum metrics_type type, const char *name,
		       const char *help, const char *const *label_names,
		       struct metrics_family **ret_family);

/*
 * The child with these label values (as many as the family has label names;
 * NULL for none), created when missing. Lookup is linear: keep the pointer.
 * -EINVAL for a NULL value.
 */
int metrics_child(struct metrics_family *f, const char *const *values,
		  struct metrics_child **ret_child);
/* A callback child; -EEXIST when a child with these values exists. ret_child may be NULL. */
int metrics_child_func(struct metrics_family *f, const char *const *values, metrics_read_cb *cb,
		       void *arg, struct metrics_child **ret_child);
/* Removes and frees the child (e.g. a peer that left). NULL is fine. */
void metrics_child_del(struct metrics_child *c);

/* Shorthands: an unlabelled family and its only child. */
int metrics_counter_new(struct metrics *m, const char *name, const char *help,
			struct metrics_child **ret_child);
int metrics_gauge_new(struct metrics *m, const char *name, const char *help,
		      struct metrics_child **ret_child);
int metrics_counter_func_new(struct metrics *m, const char *name, const char *help,
			     metrics_read_cb *cb, void *arg);
int metrics_gauge_func_new(struct metrics *m, const char *name, const char *help,
			   metrics_read_cb *cb, void *arg);

/* Value operations; NULL is fine (a metric that failed to register). */
void metrics_inc(struct metrics_child *c);
void metrics_add(struct metrics_child *c, int64_t delta);
void metrics_add_double(struct metrics_child *c, double delta);
void metrics_set(struct metrics_child *c, int64_t v);
void metrics_set_double(struct metrics_child *c, double v);
/* The current value as a double (callback children: the callback's). */
double metrics_value(const struct metrics_child *c);

/*
 * Appends the exposition text to out. On failure (-E2BIG: out's max was
 * reached) out is left as it was.
 */
int metrics_render(const struct metrics *m, struct buf *out);

#endif

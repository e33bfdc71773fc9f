/*
 * store.c — the backend-independent half of store.h: store_open picks the backend by name,
 * each store_* call dispatches through the ops table, and the operations with a generic
 * definition (diff = two merges, top = merge + per-function sums) are built here when a
 * backend does not provide them. Owns nothing; never logs.
 */
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/clickhouse/ch.h"
#include "store/store_int.h"

int store_open(const struct store_opts *o, struct store **out, struct ember_diag *d)
{
	*out = NULL;
	if (!o)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: no options");
	if (!o->backend || !strcmp(o->backend, "local"))
		return store_local_open(o, out, d);
	if (!strcmp(o->backend, "clickhouse"))
		return store_clickhouse_open(o, out, d);
	return ember_diag_set(d, -EMBER_EUNSUPPORTED, "store: unknown backend \"%.64s\"",
			      o->backend);
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int store_append(struct store *s, const struct store_append *a, struct ember_diag *d)
{
	if (a->stacks && !s->ops->takes_stacks)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: %s takes no separate stacks",
				      s->ops->name);
	return s->ops->append(s, a, d);
}

bool store_takes_stacks(const struct store *s)
{
	return s->ops->takes_stacks;
}

int store_label_names(struct store *s, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d)
{
	return s->ops->label_names(s, q, out, d);
}

int store_label_values(struct store *s, const struct store_query *q, const char *name,
		       struct store_result **out, struct ember_diag *d)
{
	return s->ops->label_values(s, q, name, out, d);
}

int store_series_list(struct store *s, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d)
{
	return s->ops->series(s, q, out, d);
}

int store_select_merge(struct store *s, const struct store_query *q, struct prof **out,
		       struct ember_diag *d)
{
	return s->ops->select_merge(s, q, NULL, 0, out, d);
}

int store_select_spans(struct store *s, const struct store_query *q, const uint64_t *span_ids,
		       size_t n_span_ids, struct prof **out, struct ember_diag *d)
{
	*out = NULL;
	if (!n_span_ids)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: no span ids");
	return s->ops->select_merge(s, q, span_ids, n_span_ids, out, d);
}

int store_diff(struct store *s, const struct store_query *left, const struct store_query *right,
	       struct prof **left_out, struct prof **right_out, struct ember_diag *d)
{
	int rc;

	*left_out = *right_out = NULL;
	rc = s->ops->select_merge(s, left, NULL, 0, left_out, d);
	if (rc)
		return rc;
	rc = s->ops->select_merge(s, right, NULL, 0, right_out, d);
	if (rc) {
		prof_free(*left_out);
		*left_out = NULL;
	}
	return rc;
}

int store_select_series(struct store *s, const struct store_query *q,
			const struct store_series_opts *o, struct store_result **out,
			struct ember_diag *d)
{
	return s->ops->select_series(s, q, o, out, d);
}

int store_function_series(struct store *s, const struct store_query *q, const char *function,
			  int64_t step_ns, struct store_result **out, struct ember_diag *d)
{
	return s->ops->function_series(s, q, function, step_ns, out, d);
}

int store_top(struct store *s, const struct store_query *q, size_t limit, struct store_result **out,
	      struct ember_diag *d)
{
	struct prof *p;
	int rc;

	*out = NULL;
	if (s->ops->top)
		return s->ops->top(s, q, limit, out, d);
	rc = s->ops->select_merge(s, q, NULL, 0, &p, d);
	if (rc)
		return rc;
	rc = store_top_from_prof(p, limit, out);
	prof_free(p);
	return rc;
}

int store_cut(struct store *s, struct ember_diag *d)
{
	return s->ops->cut(s, d);
}

int store_compact(struct store *s, struct ember_diag *d)
{
	return s->ops->compact ? s->ops->compact(s, d) : 0;
}

void store_get_stats(struct store *s, struct store_stats *st)
{
	s->ops->stats(s, st);
}

void store_result_free(struct store_result *r)
{
	if (!r)
		return;
	arena_free(r->arena);
	mem_free(r);
}

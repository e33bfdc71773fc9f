/*
 * ch_query.c — the read side of the ClickHouse backend: the store_ops queries (label names and
 * values, series, select-merge and spans, select-series, function series, top), each one SQL
 * statement (or a few) with the aggregation done in ClickHouse. Not implemented yet: every
 * call returns -ENOSYS with a message.
 */
#include <errno.h>
#include <stddef.h>

#include "store/clickhouse/ch.h"

#define CH_NOSYS(what) \
	ember_diag_set(d, -ENOSYS, "clickhouse backend: %s is not implemented yet", what)

int ch_op_label_names(struct store *st, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d)
{
	(void)st, (void)q;
	*out = NULL;
	return CH_NOSYS("label names");
}

int ch_op_label_values(struct store *st, const struct store_query *q, const char *name,
		       struct store_result **out, struct ember_diag *d)
{
	(void)st, (void)q, (void)name;
	*out = NULL;
	return CH_NOSYS("label values");
}

int ch_op_series(struct store *st, const struct store_query *q, struct store_result **out,
		 struct ember_diag *d)
{
	(void)st, (void)q;
	*out = NULL;
	return CH_NOSYS("series");
}

int ch_op_select_merge(struct store *st, const struct store_query *q, const uint64_t *span_ids,
		       size_t n_span_ids, struct prof **out, struct ember_diag *d)
{
	(void)st, (void)q, (void)span_ids, (void)n_span_ids;
	*out = NULL;
	return CH_NOSYS("select-merge");
}

int ch_op_select_series(struct store *st, const struct store_query *q,
			const struct store_series_opts *o, struct store_result **out,
			struct ember_diag *d)
{
	(void)st, (void)q, (void)o;
	*out = NULL;
	return CH_NOSYS("select-series");
}

int ch_op_function_series(struct store *st, const struct store_query *q, const char *function,
			  int64_t step_ns, struct store_result **out, struct ember_diag *d)
{
	(void)st, (void)q, (void)function, (void)step_ns;
	*out = NULL;
	return CH_NOSYS("function series");
}

int ch_op_top(struct store *st, const struct store_query *q, size_t limit,
	      struct store_result **out, struct ember_diag *d)
{
	(void)st, (void)q, (void)limit;
	*out = NULL;
	return CH_NOSYS("top");
}

/*
 * server_select.h — what the query handlers (server_query.c, server_api.c, server_querier*.c)
 * share: turning a query text `<profile_type>{matchers}` and a time range into a store_query,
 * merging the selection, the pprof-style focus/ignore filter, the unit of a profile type id,
 * and bounded integer arguments. Every failure leaves a 4xx/5xx with a message in the response.
 */
#ifndef EMBER_SERVER_SERVER_SELECT_H
#define EMBER_SERVER_SERVER_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "server/server_int.h"

#define SERVER_QUERY_MAX_LEN	 8192
#define SERVER_DEFAULT_WINDOW_NS (3600LL * 1000000000)
#define SERVER_MAX_REGEX_LEN	 1024
#define SERVER_DEFAULT_MAX_NODES 8192
#define SERVER_MAX_MAX_NODES	 262144
#define SERVER_MAX_SERIES_POINTS 11000
#define SERVER_MAX_PROFILE_TYPES 4096

/* Parses `<profile_type>{matchers}` (the type may be missing when !need_type; braces optional
 * then) into q->profile_type, q->matchers and q->n_matchers; strings live in a.
 * -EMBER_EUSAGE with a message in d. */
int server_select_parse(const char *query, bool need_type, struct arena *a, struct store_query *q,
			struct ember_diag *d);

/* from/until arguments (any names) into q (default: the last hour; until inclusive); sets the
 * tenant. -1 with a 400 in r. */
int server_select_range(const struct server_req *rq, const char *from_key, const char *until_key,
			struct store_query *q, struct server_resp *r);

/* The argument qkey parsed with server_select_parse plus the range; -1 with a 400 in r. */
int server_select_args(const struct server_req *rq, const char *qkey, const char *from_key,
		       const char *until_key, bool need_type, struct arena *a,
		       struct store_query *q, struct server_resp *r);

/* store_select_merge (span_ids NULL) or store_select_spans; -1 with the error in r. */
int server_select_merge(const struct server_req *rq, const struct store_query *q,
			const uint64_t *span_ids, size_t n_span_ids, struct prof **out,
			struct server_resp *r);

/* Applies focus/ignore regexes (NULL or "" = none) to *p, replacing it; -1 with a 400 in r. */
int server_select_filter(struct prof **p, const char *focus, const char *ignore,
			 struct server_resp *r);
/* The same with the request's focus= and ignore= arguments. */
int server_select_filter_args(const struct server_req *rq, struct prof **p, struct server_resp *r);

/* Field i (0..4) of a profile type id name:type:unit:ptype:punit copied into tmp ("" when
 * missing); returns tmp. */
const char *server_type_field(const char *type, int i, char *tmp, size_t n);

/* The integer argument key in [min, max] into *out (def when absent or empty); -1 with a 400. */
int server_select_int(const struct server_req *rq, const char *key, int64_t def, int64_t min,
		      int64_t max, int64_t *out, struct server_resp *r);

#endif

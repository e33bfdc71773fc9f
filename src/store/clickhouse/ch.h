/*
 * ch.h — private to src/store/clickhouse/: the ClickHouse backend of the store interface.
 * ch_http.c talks to ClickHouse's HTTP interface (libcurl, one POST per statement),
 * ch_schema.c creates and checks the schema (docs/internals/clickhouse.md), ch_store.c
 * implements the write side of struct store_ops on top of both, ch_query.c the read side.
 */
#ifndef EMBER_STORE_CLICKHOUSE_CH_H
#define EMBER_STORE_CLICKHOUSE_CH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

#define CH_SCHEMA_VERSION 1
#define CH_DB_MAX	  64
#define CH_RESULT_MAX	  ((size_t)64 << 20) /* bytes of one query result */
#define CH_ERROR_MAX	  1500		     /* bytes of a server error body quoted in diags */

/* A connection target parsed from clickhouse://host:port/db (http is the only transport). */
struct ch_conn {
	char base_url[300]; /* http://host:port/ */
	char db[CH_DB_MAX + 1];
	long connect_timeout_ms; /* default 2000 */
	long timeout_ms;	 /* whole request; default 30000 */
	void *curl; /* CURL *, reused between requests (not thread-safe: callers lock) */
	uint32_t server_major, server_minor; /* filled by ch_schema_ensure */
};

/* Parses `url` (clickhouse://host[:port][/db]; port 8123, db "ember" by default). The db name
 * must be [A-Za-z0-9_]{1,64}. -EMBER_EUSAGE with a message when malformed. */
int ch_conn_init(struct ch_conn *c, const char *url, struct ember_diag *d);
void ch_conn_fini(struct ch_conn *c);

/* POSTs `sql` followed by `body` (may be NULL; e.g. the rows of an INSERT ... FORMAT
 * TabSeparated) and stores the response body in `out` (may be NULL; bounded by out->max).
 * Non-200 answers become -EIO with the server's error text in d; transport failures
 * -ECONNREFUSED / -ETIMEDOUT / -EIO with curl's message. */
int ch_query(struct ch_conn *c, const char *sql, const struct buf *body, struct buf *out,
	     struct ember_diag *d);

/* Appends `s` escaped for a TabSeparated field (\\, \t, \n, \0, \r escaped). */
int ch_tsv_escape(struct buf *b, const char *s, size_t len);
/* Appends `s` as a single-quoted SQL string literal (also valid as an array element in
 * TabSeparated: \\, \x27, tab, newline, CR and NUL are backslash-escaped). */
int ch_sql_quote(struct buf *b, const char *s, size_t len);

/* Creates the database and tables when missing, records/checks the schema version and the
 * server version (c->server_major/minor). -EMBER_EVERSION when the stored schema is newer
 * than CH_SCHEMA_VERSION. */
int ch_schema_ensure(struct ch_conn *c, struct ember_diag *d);

/* ch_store.c: a tenant name as the backend accepts it ([A-Za-z0-9_.-]{1,64}). */
bool ch_tenant_ok(const char *t);
/* ch_store.c: runs one read statement (SELECT ... FORMAT TabSeparated) on the store's
 * connection(s); the response body goes to `out` (bounded by out->max). */
int ch_store_query(struct store *st, const char *sql, struct buf *out, struct ember_diag *d);

/* ch_query.c: the read members of the backend's store_ops (same contracts as store.h). */
int ch_op_label_names(struct store *st, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d);
int ch_op_label_values(struct store *st, const struct store_query *q, const char *name,
		       struct store_result **out, struct ember_diag *d);
int ch_op_series(struct store *st, const struct store_query *q, struct store_result **out,
		 struct ember_diag *d);
int ch_op_select_merge(struct store *st, const struct store_query *q, const uint64_t *span_ids,
		       size_t n_span_ids, struct prof **out, struct ember_diag *d);
int ch_op_select_series(struct store *st, const struct store_query *q,
			const struct store_series_opts *o, struct store_result **out,
			struct ember_diag *d);
int ch_op_function_series(struct store *st, const struct store_query *q, const char *function,
			  int64_t step_ns, struct store_result **out, struct ember_diag *d);
int ch_op_top(struct store *st, const struct store_query *q, size_t limit,
	      struct store_result **out, struct ember_diag *d);

/* The ClickHouse backend (store_open with backend "clickhouse" and opts->url). */
int store_clickhouse_open(const struct store_opts *o, struct store **out, struct ember_diag *d);

#endif

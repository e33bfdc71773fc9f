/*
 * ch.h — private to src/store/clickhouse/: the ClickHouse backend of the store interface.
 * ch_http.c talks to ClickHouse's HTTP interface (libcurl, one POST per statement) and parses
 * the URL, ch_schema.c creates and checks the schema on every node (docs/internals/clickhouse.md),
 * ch_batch.c is the batching writer (one thread, group commit, backpressure), ch_store.c
 * implements the write side of struct store_ops on top of them, ch_query.c the read side.
 */
#ifndef EMBER_STORE_CLICKHOUSE_CH_H
#define EMBER_STORE_CLICKHOUSE_CH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "store/store.h"

#define CH_SCHEMA_VERSION 2
#define CH_DB_MAX	  64
#define CH_RESULT_MAX	  ((size_t)64 << 20) /* bytes of one query result */
#define CH_ERROR_MAX	  1500		     /* bytes of a server error body quoted in diags */
#define CH_HOSTS_MAX	  16		     /* nodes listed in one URL */
#define CH_URL_MAX	  2048		     /* bytes of a clickhouse:// URL */

/* Everything a clickhouse:// URL says (ch_url_parse):
 * clickhouse://h1[:port][,h2[:port]...][/db][?key=value&...] with the keys cluster (cluster
 * mode: Distributed tables over <t>_local on every listed node), flush_ms, batch_rows,
 * max_pending (bytes), timeout_ms (queries and inserts), retry_ms (how long a failed batch is
 * retried before its appends fail) and retention_days. */
struct ch_url {
	size_t n_hosts;
	char hosts[CH_HOSTS_MAX][300]; /* http://host:port/ */
	char db[CH_DB_MAX + 1];
	char cluster[CH_DB_MAX + 1]; /* "" = single node */
	uint32_t flush_ms;	     /* default 200 */
	uint32_t batch_rows;	     /* sample rows that flush a batch at once; default 100000 */
	uint64_t max_pending;	     /* bytes of unflushed rows before appends get -ENOBUFS */
	long timeout_ms;	     /* default 30000 */
	uint32_t retry_ms;	     /* default 3000 */
	uint32_t retention_days;     /* 0 = keep */
};

/* A connection to one node. */
struct ch_conn {
	char base_url[300]; /* http://host:port/ */
	char req_url[400];  /* base_url plus settings (cluster mode) */
	char db[CH_DB_MAX + 1];
	long connect_timeout_ms; /* default 2000 */
	long timeout_ms;	 /* whole request; default 30000 */
	void *curl; /* CURL *, reused between requests (not thread-safe: callers lock) */
	uint32_t server_major, server_minor; /* filled by ch_schema_ensure */
};

/* Parses `url` into u (defaults filled). The db name must be [A-Za-z0-9_]{1,64}, hosts
 * [A-Za-z0-9._-], the cluster name [A-Za-z0-9_]. -EMBER_EUSAGE with a message when malformed. */
int ch_url_parse(const char *url, struct ch_url *u, struct ember_diag *d);
/* A connection to node `host` of u; cluster mode adds the settings that keep reads over
 * Distributed tables correct (distributed_product_mode=global) and inserts synchronous
 * (insert_distributed_sync=1). */
int ch_conn_open(struct ch_conn *c, const struct ch_url *u, size_t host, struct ember_diag *d);
/* Parses `url` (clickhouse://host[:port][/db]; port 8123, db "ember" by default) and connects
 * to its first host. -EMBER_EUSAGE with a message when malformed. */
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
 * than CH_SCHEMA_VERSION. With a cluster name: the tables are <t>_local plus
 * Distributed(cluster, db, <t>_local, key) named <t>, on this node (run it on every node).
 * retention_days > 0 adds a TTL on servers >= 19.6. */
int ch_schema_ensure(struct ch_conn *c, const char *cluster, uint32_t retention_days,
		     struct ember_diag *d);
/* Retention on servers without TTL: drops the partitions (UTC days) of the time-keyed tables
 * older than `days` on this node. */
int ch_schema_drop_old(struct ch_conn *c, const char *cluster, uint32_t days, struct ember_diag *d);

/* ch_batch.c: the writer. Appends add their rows to the open batch and wait until the batch
 * holding them is inserted (group commit); one thread flushes a batch at batch_rows sample rows
 * or flush_ms after its first row. -ENOBUFS when the unflushed bytes exceed max_pending,
 * -EAGAIN (message: why) when the batch could not be inserted within retry_ms. */
struct ch_writer;
/* One append's rows, TabSeparated, one buffer per table (series, profiles, samples, stacks,
 * symbols) with `n_samples` sample rows. */
enum {
	CH_T_SYMBOLS,
	CH_T_STACKS,
	CH_T_SERIES,
	CH_T_PROFILES,
	CH_T_SAMPLES,
	CH_T_N
};
extern const char *const ch_table_names[CH_T_N];
struct ch_rows {
	struct buf t[CH_T_N];
	size_t n_samples;
	int64_t t_min, t_max; /* profile times of the rows */
};
int ch_writer_start(const struct ch_url *u, struct ch_writer **out, struct ember_diag *d);
/* Adds the rows (copied) and waits for their batch. */
int ch_writer_append(struct ch_writer *w, const struct ch_rows *rows, struct ember_diag *d);
/* 0 while ClickHouse answered the last insert or probe, else -EAGAIN. */
int ch_writer_health(struct ch_writer *w);
/* Flushes what is pending (waiting for it), stops the thread, frees. */
void ch_writer_stop(struct ch_writer *w);

/* ch_result.c: TabSeparated result bodies. A cursor over body[0..len), which must be writable
 * and have one byte past its end for a NUL (struct buf gives both): fields are unescaped in
 * place and NUL-terminated. */
struct ch_tsv {
	char *p, *end;
};
/* The next row's fields: their count (>= 1), 0 at the end, or -1 when the row has more than
 * max fields. f[i] points at field i, len[i] is its length after unescaping. */
int ch_tsv_row(struct ch_tsv *t, char **f, size_t *len, size_t max);
/* Strict decimal numbers (the whole string, no sign for u64, no blanks). */
bool ch_parse_u64(const char *s, uint64_t *out);
bool ch_parse_i64(const char *s, int64_t *out);

/* ch_store.c: a tenant name as the backend accepts it ([A-Za-z0-9_.-]{1,64}). */
bool ch_tenant_ok(const char *t);
/* ch_store.c: the database the store's tables are in. */
const char *ch_store_db(struct store *st);
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

/*
 * store.h — the profile store interface the server calls. One opaque `struct store` behind a
 * table of operations (struct store_ops), so a second backend (the ClickHouse cluster) can
 * implement the same calls; "local" (WAL + in-memory head + immutable blocks under a data
 * directory, docs/internals/storage.md) is the default backend.
 *
 * Data model: tenant -> series (a label set that includes __name__ and __profile_type__ =
 * name:sample_type:sample_unit:period_type:period_unit, usually service_name) -> profiles
 * (time, duration, period, total, samples of (stack, value, optional span id)). An append of a
 * profile with k sample types creates/extends k series, one per sample type.
 *
 * Every call returns 0 or a negative code (-errno, -EMBER_E*) and, when a struct ember_diag is
 * given, a human message. After a failed write or fsync the store is in the ERROR state: appends
 * fail with -EROFS (nothing unpersisted is ever acknowledged), queries keep working; reopen to
 * recover. All calls are thread-safe.
 */
#ifndef EMBER_STORE_STORE_H
#define EMBER_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/arena.h"
#include "base/err.h"
#include "profile/profile.h"

struct store;

/* The label that carries the profile type id, and the sample label that carries span ids. */
#define STORE_LABEL_PROFILE_TYPE "__profile_type__"
#define STORE_LABEL_NAME	 "__name__"
#define STORE_LABEL_SERVICE	 "service_name"
#define STORE_SAMPLE_LABEL_SPAN	 "span_id"

/* I/O shim: every file operation of the local backend goes through these, so tests can inject
 * failures (short writes, EIO, ENOSPC, failed fsync or rename). NULL members fall back to the
 * POSIX call; `ctx` is passed through untouched. */
struct store_io {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags, mode_t mode); /* fd or -errno */
	ssize_t (*write)(void *ctx, int fd, const void *p, size_t n);	  /* bytes or -errno */
	int (*fsync)(void *ctx, int fd);				  /* 0 or -errno */
	int (*rename)(void *ctx, const char *from, const char *to);	  /* 0 or -errno */
};

struct store_limits {
	uint32_t max_tenants;		/* default 1000 */
	uint32_t max_series_per_tenant; /* default 100000 */
	uint32_t max_labels_per_series; /* default 32 (incl. __name__, __profile_type__) */
	uint32_t max_label_name_len;	/* bytes, default 256 */
	uint32_t max_label_value_len;	/* bytes, default 2048 */
	uint32_t max_stack_depth;	/* locations, default 1024 */
	uint32_t max_sample_types;	/* per profile, default 16 */
	uint64_t max_profile_bytes;	/* encoded size of one append, default 64 MiB */
};

struct store_opts {
	const char *backend; /* "local" (default when NULL) or "clickhouse" */
	const char *url;     /* clickhouse: clickhouse://host:8123/db */
	const char *dir;     /* data directory; created when missing */
	struct store_limits limits;
	int64_t block_duration_ns; /* head time span that triggers a cut; default 1 h */
	size_t head_max_bytes;	   /* head memory that triggers a cut; default 512 MiB */
	uint32_t commit_delay_us;  /* group commit: wait this long for followers; default 0 */
	bool background;	   /* run a thread that cuts, compacts and applies retention */
	int64_t retention_ns;	   /* drop blocks whose newest profile is older; 0 = keep */
	uint64_t retention_bytes;  /* drop the oldest blocks beyond this total; 0 = no limit */
	bool no_compaction;	   /* keep every cut's blocks as they are */
	const struct store_io *io; /* NULL = POSIX */
};

/* A label; strings are borrowed for the duration of the call. */
struct store_label {
	const char *name;
	const char *value;
};

/* Samples whose stacks are not in their profile: the store has them added to the tenant's
 * symbol dictionary (a struct prof), under its own lock, by a decoder that can write into a
 * dictionary directly, which saves building a whole profile first. The append's prof then
 * gives the sample types, metadata and label sets only; its samples are ignored. Only for a
 * backend where store_takes_stacks. */
struct store_stacks {
	size_t n;		   /* samples */
	const int64_t *values;	   /* n x the prof's sample types */
	const uint32_t *labelsets; /* the prof's label set of each sample; NULL: all 0 */
	uint32_t max_depth;	   /* the most locations of a stack */
	/* Adds every sample's stack, with its symbols, to dict and writes its leaf node to
	 * node[0..n). *cache is the decoder's own state for dict (NULL the first time), kept
	 * with dict and passed to cache_free when dict goes. Must not call the store. */
	void (*translate)(void *ctx, struct prof *dict, void **cache, uint32_t *node);
	/* translate when dict has every symbol and stack already: writes node[] and returns
	 * true without changing dict or cache (it runs alongside other finds and readers of
	 * dict); false when something is missing (translate follows). NULL: always translate. */
	bool (*find)(void *ctx, const struct prof *dict, const void *cache, uint32_t *node);
	void (*cache_free)(void *cache);
	size_t (*cache_bytes)(const void *cache); /* its memory, counted as the head's */
	void *ctx;
};

struct store_append {
	const char *tenant; /* [A-Za-z0-9_.-]{1,64}; NULL or "" = "anonymous" */
	const struct store_label *labels;
	size_t n_labels;
	const char *name; /* profile name, e.g. "process_cpu"; NULL = __name__ label or "unknown" */
	int64_t time_ns;  /* 0 = prof_meta(prof)->time_ns */
	const struct prof *prof; /* borrowed; sample label "span_id" (hex) becomes the span id */
	const struct store_stacks *stacks; /* NULL: the samples are prof's */
};

enum store_match_op {
	STORE_MATCH_EQ,	 /* = */
	STORE_MATCH_NEQ, /* != */
	STORE_MATCH_RE,	 /* =~ anchored PCRE2 */
	STORE_MATCH_NRE	 /* !~ anchored PCRE2 */
};

/* A missing label matches as the empty value (Prometheus semantics). */
struct store_matcher {
	const char *name;
	const char *value;
	enum store_match_op op;
};

/* A selection: tenant, profile type, matchers and the time range [start_ns, end_ns). */
struct store_query {
	const char *tenant;	  /* NULL or "" = "anonymous" */
	const char *profile_type; /* name:type:unit:ptype:punit; NULL = any (label queries only) */
	const struct store_matcher *matchers;
	size_t n_matchers;
	int64_t start_ns;
	int64_t end_ns; /* 0 = INT64_MAX */
};

enum store_agg {
	STORE_AGG_SUM,
	STORE_AGG_AVG
};

struct store_series_opts {
	int64_t step_ns; /* > 0; point k at start + k*step sums profiles in (t - step, t] */
	enum store_agg agg;
	const char *const *group_by; /* label names; none = one series for everything */
	size_t n_group_by;
	size_t limit; /* keep the top N series by total; 0 = all */
};

struct store_point {
	int64_t time_ns;
	double value; /* select-series: sum or avg of profile totals */
	int64_t self; /* function series: self and total of the function */
	int64_t total;
};

struct store_labelset {
	size_t n;
	const struct store_label *labels; /* sorted by name */
};

struct store_series {
	struct store_labelset
		labels; /* the group-by labels (select-series), or the series labels */
	size_t n_points;
	const struct store_point *points; /* ascending time; empty steps omitted */
};

struct store_top_row {
	const char *name;
	int64_t self;
	int64_t total;
};

/* Query results other than profiles. Everything is owned by `arena`; free with
 * store_result_free. Which arrays are filled depends on the call. */
struct store_result {
	struct arena *arena;
	size_t n_strings; /* label names / values, sorted, unique */
	const char *const *strings;
	size_t n_sets; /* series label sets, sorted */
	const struct store_labelset *sets;
	size_t n_series; /* select-series, function series */
	const struct store_series *series;
	size_t n_top; /* top functions, by self descending */
	const struct store_top_row *top;
	int64_t total; /* top: total of the selection */
};

struct store_stats {
	uint64_t appends;	  /* acknowledged appends since open */
	uint64_t fsyncs;	  /* WAL fsyncs since open (appends/fsyncs = group commit ratio) */
	uint64_t replayed;	  /* WAL records replayed at open */
	uint64_t truncated_bytes; /* torn/corrupt WAL tail bytes dropped at open */
	uint64_t skipped_records; /* checksum-valid WAL records that could not be decoded */
	uint64_t quarantined;	  /* blocks moved to quarantine/ at open */
	uint64_t compactions;	  /* merged blocks written since open */
	uint64_t dropped_blocks;  /* blocks deleted by retention since open */
	uint64_t head_series;
	uint64_t head_profiles;
	uint64_t head_samples;
	uint64_t head_bytes;
	uint64_t blocks;
	uint64_t block_bytes;
	uint64_t block_samples;
	uint64_t rollup_reads; /* block series a merge read as its rollup, since open */
	uint64_t stack_spaces; /* stack spaces the loaded blocks' stacks are mapped into */
	uint64_t space_nodes;  /* stack nodes in those spaces */
	int error;	       /* 0, or the code that put the store in the ERROR state */
};

/* The backend interface. Every member is required except diff/top (generic fallbacks exist). */
struct store_ops {
	const char *name;
	bool takes_stacks; /* append accepts store_append.stacks */
	int (*append)(struct store *s, const struct store_append *a, struct ember_diag *d);
	int (*label_names)(struct store *s, const struct store_query *q, struct store_result **out,
			   struct ember_diag *d);
	int (*label_values)(struct store *s, const struct store_query *q, const char *name,
			    struct store_result **out, struct ember_diag *d);
	int (*series)(struct store *s, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d);
	int (*select_merge)(struct store *s, const struct store_query *q, const uint64_t *span_ids,
			    size_t n_span_ids, struct prof **out, struct ember_diag *d);
	int (*select_series)(struct store *s, const struct store_query *q,
			     const struct store_series_opts *o, struct store_result **out,
			     struct ember_diag *d);
	int (*function_series)(struct store *s, const struct store_query *q, const char *function,
			       int64_t step_ns, struct store_result **out, struct ember_diag *d);
	int (*top)(struct store *s, const struct store_query *q, size_t limit,
		   struct store_result **out, struct ember_diag *d);
	int (*cut)(struct store *s, struct ember_diag *d);
	int (*compact)(struct store *s, struct ember_diag *d);
	void (*stats)(struct store *s, struct store_stats *st);
	void (*close)(struct store *s);
};

/* What every backend's handle starts with. */
struct store {
	const struct store_ops *ops;
};

/* A label name as the store accepts it: s[0..n) matches [A-Za-z_][A-Za-z0-9_.]*. */
bool store_label_name_ok(const char *s, size_t n);

/* Opens (creating, replaying the WAL, loading blocks) the backend opts->backend. */
int store_open(const struct store_opts *o, struct store **out, struct ember_diag *d);
void store_close(struct store *s);

/* Appends one profile: one series per sample type. Returns only once the record is durable.
 * -EMBER_ELIMIT (a limit, named in d), -EMBER_EUSAGE (bad tenant, label, empty profile),
 * -EROFS (ERROR state), -errno (the write or fsync that failed; the store is now in ERROR). */
int store_append(struct store *s, const struct store_append *a, struct ember_diag *d);
/* Whether store_append takes samples with store_append.stacks. */
bool store_takes_stacks(const struct store *s);

/* Label names / values of the series that match q and have profiles in its time range. */
int store_label_names(struct store *s, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d);
int store_label_values(struct store *s, const struct store_query *q, const char *name,
		       struct store_result **out, struct ember_diag *d);
/* The label sets of the matching series (result->sets). */
int store_series_list(struct store *s, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d);

/* All samples of the selection merged into one new profile (one sample type: the selected
 * profile type). q->profile_type is required. The caller frees *out with prof_free. */
int store_select_merge(struct store *s, const struct store_query *q, struct prof **out,
		       struct ember_diag *d);
/* Like store_select_merge, keeping only samples whose span id is one of span_ids. */
int store_select_spans(struct store *s, const struct store_query *q, const uint64_t *span_ids,
		       size_t n_span_ids, struct prof **out, struct ember_diag *d);
/* Two merged selections (e.g. before/after); on error neither is returned. */
int store_diff(struct store *s, const struct store_query *left, const struct store_query *right,
	       struct prof **left_out, struct prof **right_out, struct ember_diag *d);
/* Profile totals per step (result->series). */
int store_select_series(struct store *s, const struct store_query *q,
			const struct store_series_opts *o, struct store_result **out,
			struct ember_diag *d);
/* Self and total of one function (by display name) per step: one series in result->series. */
int store_function_series(struct store *s, const struct store_query *q, const char *function,
			  int64_t step_ns, struct store_result **out, struct ember_diag *d);
/* Top functions by self value (result->top, at most limit rows; 0 = all). */
int store_top(struct store *s, const struct store_query *q, size_t limit, struct store_result **out,
	      struct ember_diag *d);

/* Cuts the head into blocks now (tests, shutdown). */
int store_cut(struct store *s, struct ember_diag *d);
/* Compaction (blocks of one tenant within a finished 4-h window, then 12-h, then 7-d window,
 * merged into one with symbols re-deduplicated) and retention (opts.retention_ns / retention_bytes), now.
 * The background thread does this after cuts. */
int store_compact(struct store *s, struct ember_diag *d);
void store_get_stats(struct store *s, struct store_stats *st);
void store_result_free(struct store_result *r);

/* Parses a selector `{name="v", env=~"prod.*", x!="y"}` (Prometheus syntax; braces optional)
 * into matchers allocated in `a`. -EMBER_EUSAGE with a message on bad syntax. */
int store_matchers_parse(const char *sel, struct arena *a, struct store_matcher **out, size_t *n,
			 struct ember_diag *d);

/* The span id of a "span_id" sample label value (16 hex digits); 0 when not one. */
uint64_t store_span_id_parse(const char *s, size_t len);

/* The local backend (store_open with backend "local"). */
int store_local_open(const struct store_opts *o, struct store **out, struct ember_diag *d);

/* The store's checksum: CRC-32C (Castagnoli), init/final xor 0xffffffff. crc = 0 to start. */
uint32_t store_crc32c(uint32_t crc, const void *p, size_t n);

#endif

/*
 * store_int.h — private to src/store/: the shapes shared by the WAL, the head, the block
 * reader/writer and the query engine of the local backend. The on-disk formats themselves are
 * specified byte by byte in docs/internals/storage.md; the numbered crash-safety invariants
 * cited in code as (I1)..(I5) are listed there too.
 *
 * A tenant's data in the head and in a block has one shape, struct store_sdata: a symbol
 * dictionary (a struct prof whose strings also hold label names and values), series with
 * sorted label pairs, postings per name=value and, per series, columnar samples (head) or one
 * compressed chunk (block). The query engine reads both through it.
 */
#ifndef EMBER_STORE_STORE_INT_H
#define EMBER_STORE_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hmap.h"
#include "base/strtab.h"
#include "store/split.h"
#include "store/store.h"

#define STORE_TENANT_MAX     64
#define STORE_DEFAULT_TENANT "anonymous"

/* --- codec.c: varints with a sticky error --------------------------------------------- */

struct store_rd {
	const uint8_t *p, *end, *base;
	int err; /* 0 or -EMBER_ECORRUPT, sticky */
};

void store_rd_init(struct store_rd *r, const void *p, size_t n);
uint64_t store_rd_uv(struct store_rd *r);
int64_t store_rd_sv(struct store_rd *r); /* zig-zag */
/* A count bounded by the bytes left (each item takes >= min_item_bytes) and by max. */
uint64_t store_rd_count(struct store_rd *r, size_t min_item_bytes, uint64_t max);
const uint8_t *store_rd_bytes(struct store_rd *r, size_t n);
static inline size_t store_rd_off(const struct store_rd *r)
{
	return (size_t)(r->p - r->base);
}

struct store_wr {
	struct buf *b;
	int err; /* sticky */
};

void store_wr_uv_slow(struct store_wr *w, uint64_t v); /* reserves, then store_wr_uv */
/* Inline: the WAL record and chunk encoders write millions of varints a second. */
static inline void store_wr_uv(struct store_wr *w, uint64_t v)
{
	struct buf *b = w->b;
	uint8_t *p;

	if (w->err || b->cap - b->len < 12 || b->max - b->len < 11) {
		store_wr_uv_slow(w, v);
		return;
	}
	p = b->data + b->len;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	*p = 0; /* buf keeps its data NUL-terminated */
	b->len = (size_t)(p - b->data);
}
static inline void store_wr_sv(struct store_wr *w, int64_t v)
{
	store_wr_uv(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}
void store_wr_bytes(struct store_wr *w, const void *p, size_t n);
void store_wr_u32le(struct store_wr *w, uint32_t v);
void store_wr_u64le(struct store_wr *w, uint64_t v);
static inline uint32_t store_get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t store_get_u64le(const uint8_t *p)
{
	return (uint64_t)store_get_u32le(p) | (uint64_t)store_get_u32le(p + 4) << 32;
}
void store_put_u32le(uint8_t *p, uint32_t v);
void store_put_u64le(uint8_t *p, uint64_t v);

/* --- pcodec.c: the profile encoding -------------------------------------------------------- */

/* A whole profile (with_samples) or only its symbol tables. */
void store_prof_encode(struct store_wr *w, const struct prof *p, bool with_samples);
/* Decodes and validates every id; -EMBER_ECORRUPT on bad input. */
int store_prof_decode(struct store_rd *r, struct prof **out);

/* How far a dictionary's tables reached: the entries after a mark are its delta. */
struct store_dict_mark {
	uint32_t strings, mappings, functions, locations, nodes; /* prof_n_*() */
};

void store_dict_mark(const struct prof *p, struct store_dict_mark *m);
/* The entries p gained since `from` (which is written too, to be checked on decode). */
void store_dict_encode_since(struct store_wr *w, const struct prof *p,
			     const struct store_dict_mark *from);
/* A delta starts with its mark; then store_dict_decode_entries appends the entries to p:
 * -EMBER_ECORRUPT when p is not at mark `at`, an id is out of range or an entry is not new
 * (p keeps what was added before the error). */
void store_dict_read_mark(struct store_rd *r, struct store_dict_mark *m);
bool store_dict_mark_eq(const struct store_dict_mark *a, const struct store_dict_mark *b);
int store_dict_decode_entries(struct store_rd *r, struct prof *p, const struct store_dict_mark *at);

/* zstd helpers: compress into w; decompress a frame of at most max_raw bytes and at most
 * STORE_ZSTD_MAX_RATIO times its compressed size (+64 KiB): a larger declared size is corrupt. */
#define STORE_ZSTD_MAX_RATIO 4096
void store_zstd_put(struct store_wr *w, const void *p, size_t n);
int store_zstd_get(const uint8_t *p, size_t n, size_t max_raw, uint8_t **out, size_t *out_len);

/* --- sdata.c: a tenant's series, postings and samples ------------------------------------ */

/* Columnar samples of one series; profiles in append order (head) or time order (block). */
struct store_cols {
	size_t n_prof, cap_prof;
	int64_t *ts, *dur, *period, *total;
	uint32_t *n_smp; /* samples per profile */
	size_t n_smp_all, cap_smp;
	/* The samples, either as arrays (decoded blocks, store_cols_expand) ... */
	uint32_t *nodes; /* dict node ids, ascending within a profile */
	int64_t *values;
	uint64_t *spans; /* NULL when no profile of the series has span ids */
	/* ... or, where store_cols_add built them (head, compaction), as a compact stream: per
	 * profile `uv flags` (bit 0: span ids follow; bit 1: the values are divided by the
	 * profile's period, set when all are multiples of it, as CPU profiles' are), then per
	 * sample `uv` node delta, `sv` value[, `uv` span id]. About 3 bytes per sample instead of
	 * 12-20. Grown by a quarter at a time (the slack is head memory). */
	uint8_t *enc;
	size_t enc_len, enc_cap;
};

struct store_series_rec {
	uint32_t *labels; /* owned: n_labels (name, value) string-id pairs, sorted by name */
	uint32_t n_labels;
	int64_t min_t, max_t;
	struct store_cols cols; /* head only */
	/* block only: the compressed chunk (borrowed from the block mapping) */
	const uint8_t *chunk;		 /* two zstd frames: profile columns, then sample columns */
	size_t chunk_len;		 /* both frames */
	size_t chunk_a_len;		 /* the first frame */
	size_t chunk_a_raw, chunk_b_raw; /* their decompressed sizes */
	uint32_t chunk_crc;		 /* of both frames */
	/* block only, may be absent: the rollup, every profile's samples summed per node (a
	 * third zstd frame right after the chunk), for merges that cover the whole series */
	const uint8_t *rollup;
	size_t rollup_len, rollup_raw;
	uint32_t rollup_crc;
	int64_t rollup_period; /* the largest period of the series' profiles */
	uint64_t n_prof, n_smp;
};

struct store_posting {
	uint32_t name, value;
	uint32_t *ids; /* ascending series ids */
	uint32_t n, cap;
};

struct store_sdata {
	char tenant[STORE_TENANT_MAX + 1];
	struct prof *dict; /* owned */
	struct store_series_rec *series;
	uint32_t n_series, cap_series;
	struct strtab *series_keys; /* label pairs -> series id + 1 */
	struct store_posting *postings;
	uint32_t n_postings, cap_postings;
	struct hmap posting_index; /* name << 32 | value -> posting index */
	/* head only (empty in blocks): the sampled stacks by path hash (head.c remap_nodes) */
	struct hmap stacks;
	uint64_t stack_seed;
	/* head only: a store_stacks decoder's state for dict (store.h), freed with it */
	void *xcache;
	void (*xcache_free)(void *cache);
	size_t xcache_bytes; /* its memory after the last append */
	int64_t min_t, max_t;
	uint64_t n_prof, n_smp;
	/* loaded blocks only (else NULL): the tenant's stack space this dictionary's stacks are
	 * mapped into (sspace.c): space_node[node] for node < prof_n_nodes(dict), all below
	 * space_n */
	struct store_sspace *space;
	uint32_t *space_node;
	uint32_t space_n;
};

void store_sdata_init(struct store_sdata *sd, const char *tenant);
void store_sdata_fini(struct store_sdata *sd);
/* Series id of the sorted label pairs, creating it. */
uint32_t store_sdata_series(struct store_sdata *sd, const uint32_t *pairs, uint32_t n_labels);
bool store_sdata_find_series(const struct store_sdata *sd, const uint32_t *pairs, uint32_t n_labels,
			     uint32_t *id);
void store_sdata_add_posting(struct store_sdata *sd, uint32_t name, uint32_t value,
			     uint32_t series);
const struct store_posting *store_sdata_posting(const struct store_sdata *sd, uint32_t name,
						uint32_t value);
void store_cols_fini(struct store_cols *c);
/* Decodes a block series' chunk into c (caller store_cols_fini). */
int store_chunk_decode(const struct store_series_rec *s, struct store_cols *c);
/* samples = false: only the per-profile columns (time, duration, period, total, counts). */
int store_chunk_decode_cols(const struct store_series_rec *s, struct store_cols *c, bool samples);
/* Encodes cols (time-sorted) as a raw chunk; *split = where the sample columns start in w's
 * buffer (the block writer compresses the two parts as separate frames). */
void store_chunk_encode(struct store_wr *w, const struct store_cols *c, size_t *split);
/* Profile order by time: idx[0..n_prof) (mem_alloc'd), and the sample offset of each. */
void store_cols_order(const struct store_cols *c, uint32_t **idx, uint64_t **off);

/* Symbol copying between dictionaries (xlat.c): maps hold UINT32_MAX until copied. */
struct store_xlat {
	const struct prof *src;
	struct prof *dst;
	uint32_t *str, *map, *fn, *loc, *node;
	size_t cap[5]; /* allocated entries of the five maps, reused across store_xlat_init */
	size_t n[5];   /* entries in use (store_xlat_extend keeps them) */
};

/* x must be zeroed or previously initialised (its maps are reused); store_xlat_fini frees. */
void store_xlat_init(struct store_xlat *x, const struct prof *src, struct prof *dst);
/* After src grew: its new entries unmapped, the mapped ones kept. */
void store_xlat_extend(struct store_xlat *x);
void store_xlat_fini(struct store_xlat *x);
/* The destination node of src node id (its stack and symbols copied as needed). */
uint32_t store_xlat_node(struct store_xlat *x, uint32_t id);
uint32_t store_xlat_str(struct store_xlat *x, uint32_t id);

/* One sample on its way into a series (head appends, compaction). */
struct store_smp {
	uint32_t node;
	uint64_t span;
	int64_t value;
};

/* One series' profile in a delta record: labels and samples in dictionary ids. */
struct store_dseries {
	uint32_t *pairs; /* n_pairs (name, value) string ids, names ascending */
	uint32_t n_pairs;
	int64_t dur, period;
	struct store_smp *smp; /* strictly ascending by (node, span) */
	size_t n_smp;
	/* appends (not replay): the samples as a stream (store_smp_encode), which the record
	 * carries and the head copies, and their undivided sum */
	const uint8_t *enc;
	size_t enc_len;
	int64_t total;
};

/* A decoded delta record (type 2): its dictionary delta is already in the tenant's dict. */
struct store_drec {
	const char *tenant;
	int64_t time_ns;
	struct store_dseries *series;
	size_t n_series;
};

/* Sorts by (node, span) and sums duplicates; returns the new count. */
size_t store_smp_merge(struct store_smp *s, size_t n);
/* Sorts by (node, span) only. */
void store_smp_sort(struct store_smp *s, size_t n);
/* A rollup is written when it has at most 1/STORE_ROLLUP_MIN_GAIN of the series' samples. */
#define STORE_ROLLUP_MIN_GAIN 8
/* Adds a block series' rollup into acc (nn entries, indexed by node); -EMBER_ECORRUPT on a bad
 * checksum, frame or node id. */
int store_rollup_add(const struct store_series_rec *s, int64_t *acc, uint32_t nn);
/* Appends one profile (samples sorted by node) to c's stream. */
void store_cols_add(struct store_cols *c, int64_t ts, int64_t dur, int64_t period,
		    const struct store_smp *s, size_t n);
/* One profile's samples as the stream store_cols keeps (and a delta record carries): flags,
 * then per sample node delta, value (divided by period when flag bit 1), [span]. out has room
 * for STORE_SMP_ENC_MAX(n) bytes; returns the length, *total the undivided sum. */
#define STORE_SMP_ENC_MAX(n) (1 + (n) * (size_t)25)
size_t store_smp_encode(uint8_t *out, const struct store_smp *s, size_t n, int64_t period,
			int64_t *total);
/* Appends one profile whose samples are already a stream (store_smp_encode). */
void store_cols_add_stream(struct store_cols *c, int64_t ts, int64_t dur, int64_t period,
			   int64_t total, size_t n, const uint8_t *enc, size_t len);
/* A copy of in with the sample arrays filled from its stream (or copied); store_cols_fini. */
void store_cols_expand(const struct store_cols *in, struct store_cols *out);

/* --- matcher.c ---------------------------------------------------------------------------- */

struct store_cmatch; /* compiled matchers */

int store_cmatch_new(const struct store_matcher *m, size_t n, const char *profile_type,
		     struct store_cmatch **out, struct ember_diag *d);
void store_cmatch_free(struct store_cmatch *cm);
/* Series of sd matching all matchers with data in [start, end): ids ascending, mem_alloc'd. */
int store_cmatch_select(struct store_cmatch *cm, const struct store_sdata *sd, int64_t start,
			int64_t end, uint32_t **ids, uint32_t *n, struct ember_diag *d);

/* --- head.c ------------------------------------------------------------------------------- */

struct store_head {
	struct strtab *tenant_keys; /* tenant name -> index + 1 */
	struct store_sdata **tenants;
	size_t n_tenants, cap_tenants;
	int64_t min_t, max_t;
	uint64_t n_prof, n_smp;
	size_t bytes; /* approximate, updated on append */
};

/* One decoded append (from the API or a WAL record). */
struct store_rec {
	const char *tenant;
	const struct store_label *labels;
	size_t n_labels;
	const char *name;
	int64_t time_ns;
	const struct prof *prof;
	const struct store_stacks *stacks; /* NULL: the samples are prof's */
	const struct store_split *split;   /* prof's series groups when known; NULL = built */
};

/* A tenant id usable as a file name: [A-Za-z0-9_.-]{1,64}, not starting with '.'. */
bool store_tenant_ok(const char *t);
struct store_head *store_head_new(void);
void store_head_free(struct store_head *h);
struct store_sdata *store_head_tenant(const struct store_head *h, const char *tenant);
/* Validates r, whose labels store_split_build checked into r->split (required here), against
 * the limits and the head's current state (series per tenant); no change. */
int store_head_check(const struct store_head *h, const struct store_rec *r,
		     const struct store_limits *lim, struct ember_diag *d);
/* Adds r; never fails once store_head_check passed (may overshoot the series limit slightly
 * under concurrency). prepare + commit in one. */
void store_head_apply(struct store_head *h, const struct store_rec *r);

/* An append in two steps around its WAL write: store_head_prepare interns r's symbols and
 * label strings into the tenant dictionary and, when w is given, encodes the delta record
 * (dictionary entries added, then the series' samples in dictionary ids); store_head_commit,
 * once the record is durable, adds the samples to the series. Nothing but the dictionary
 * changes in between, so the records' order in the WAL must be their prepare order. */
struct store_pending {
	struct store_sdata *sd;
	int64_t time_ns;
	struct store_dseries *series; /* owned, n_series */
	size_t n_series;
	size_t rec_dict_end; /* record length after the dictionary delta (w given) */
	uint32_t *pairs_mem;
	struct store_smp *smp_mem;
	uint8_t *enc_mem; /* behind series[].enc */
};

/* ro: the dictionary only read, so that appends prepare under the head's read lock: false
 * (nothing done, pd empty) when the tenant, a label string or a stack of r->stacks is not in
 * it yet (then again with ro false under the write lock). Only for r->stacks; the WAL record
 * of a read-only prepare carries an empty dictionary delta. */
bool store_head_prepare(struct store_head *h, const struct store_rec *r, struct store_wr *w,
			struct store_pending *pd, bool ro);
void store_head_commit(struct store_head *h, const struct store_pending *pd);
void store_pending_fini(struct store_pending *pd);
/* The tenant's dictionary (the tenant is created when new). */
struct prof *store_head_dict(struct store_head *h, const char *tenant);
/* Commits a replayed delta record. x == NULL: its ids are the head's dictionary's own; else
 * x translates from the WAL segment's dictionary (x->src) into the head's (x->dst). */
void store_head_replay(struct store_head *h, const struct store_drec *dr, struct store_xlat *x);

/* --- replay.c: WAL records into a head on open --------------------------------------------- */

struct store_replay;

struct store_replay *store_replay_new(struct store_head *h);
/* Applies one record's payload; -EMBER_ECORRUPT (nothing or part of it applied, never a
 * crash) when it cannot be decoded. */
int store_replay_record(struct store_replay *rp, const uint8_t *p, size_t n);
/* Between WAL segments: delta records refer to their own segment's dictionaries. */
void store_replay_segment_end(struct store_replay *rp);
void store_replay_free(struct store_replay *rp);

/* --- wal.c -------------------------------------------------------------------------------- */

/* A delta record is the head, then store_dict_encode_since, then the series. */
void store_drec_encode_head(struct store_wr *w, const char *tenant, int64_t time_ns);
void store_drec_encode_series(struct store_wr *w, const struct store_dseries *ds, size_t n);
/* Decodes a delta record: its dictionary delta goes into dict_for(ctx, tenant, its starting
 * mark) (NULL: corrupt), against which every id is then checked; arrays live in arena a.
 * -EMBER_ECORRUPT on bad input (the dictionary may keep part of the delta). */
int store_drec_decode(const uint8_t *p, size_t n, struct arena *a,
		      struct prof *(*dict_for)(void *ctx, const char *tenant,
					       const struct store_dict_mark *at),
		      void *ctx, struct store_drec *out);
/* 1 (whole profile, store_rec_*), 2 (delta, store_drec_*) or 0 (unknown). */
int store_rec_type(const uint8_t *p, size_t n);

struct store_wal;

int store_io_open(const struct store_io *io, const char *path, int flags, mode_t mode);
int store_io_write_all(const struct store_io *io, int fd, const void *p, size_t n);
int store_io_fsync(const struct store_io *io, int fd);
int store_io_rename(const struct store_io *io, const char *from, const char *to);
int store_io_fsync_dir(const struct store_io *io, const char *dir);

/* Whole-profile record payload (type 1) <-> struct store_rec (labels and strings point into
 * arena a). The store writes delta records now; type 1 is what earlier versions wrote, still
 * replayed (the encoder serves the test of that). */
void store_rec_encode(struct store_wr *w, const struct store_rec *r);
int store_rec_decode(const uint8_t *p, size_t n, struct arena *a, struct store_rec *r,
		     struct prof **prof_out);

/* on_durable (may be NULL) is called by the leader of each commit group after its fsync
 * succeeded, without the WAL's lock, with the non-NULL cookies of the group's records in queue
 * order, before any of their store_wal_wait returns. */
int store_wal_open(const char *dir, const struct store_io *io, uint64_t seq, uint32_t delay_us,
		   void (*on_durable)(void *ctx, void *const *ck, size_t n), void *ctx,
		   struct store_wal **out);
void store_wal_close(struct store_wal *w);
/* Queues one record (frame: n bytes, the first 8 reserved for the WAL's length and checksum;
 * records reach the file in queue order), then store_wal_wait(ticket) waits until it is
 * durable (group commit). */
struct store_wal_ticket {
	uint64_t end;	/* the log offset after the record */
	uint64_t group; /* the commit group it went into */
};
int store_wal_enqueue(struct store_wal *w, void *frame, size_t n, void *cookie,
		      struct store_wal_ticket *t);
int store_wal_wait(struct store_wal *w, const struct store_wal_ticket *t);
/* Writes and syncs what is queued into the open segment, then starts segment `seq`;
 * enqueues wait meanwhile. A record queued before belongs to the old segment, so the caller
 * rotates when no append is between its enqueue and its use of the head (local.c's gate). */
int store_wal_rotate(struct store_wal *w, uint64_t seq);
uint64_t store_wal_fsyncs(const struct store_wal *w);
int store_wal_error(const struct store_wal *w);

/* Parses a segment image: calls cb for each valid record, stops at the first torn or corrupt
 * one. *valid_len = bytes of the valid prefix. Returns 0, or -EMBER_ECORRUPT/-EMBER_EVERSION
 * for a bad segment header, or what cb returned when non-zero. */
int store_wal_parse(const uint8_t *p, size_t n, int (*cb)(void *ctx, const uint8_t *rec, size_t n),
		    void *ctx, size_t *valid_len);
/* Whether p[0..n), a segment's bytes past its valid prefix, are the zeros the WAL extends an
 * open segment with ahead of its records: where the log ends, not a torn record. */
bool store_wal_zero_tail(const uint8_t *p, size_t n);
#define STORE_WAL_HDR_BYTES 16
#define STORE_WAL_MAX_REC   (256u << 20)

/* --- block_write.c / block_read.c --------------------------------------------------------- */

struct store_block {
	atomic_int ref;
	char *path;	  /* owned */
	uint64_t cut_seq; /* the cut directory it belongs to */
	char dir[24];	  /* that directory's name: <cut:016x> or c<seq:016x> */
	void *map;	  /* mmap of the file (or a borrowed buffer for parse-only use) */
	size_t map_len;
	bool mapped;
	struct store_sdata sd;
};

/* Writes sd as one block file at path (fsynced, not renamed). */
int store_block_write(const struct store_io *io, const char *path, const struct store_sdata *sd);
/* Parses a block image (borrowed: it must outlive the block). *bad_off = offset of a defect. */
int store_block_parse(const uint8_t *p, size_t n, struct store_block *b, size_t *bad_off);
int store_block_open(const char *path, struct store_block **out, size_t *bad_off);
void store_block_unref(struct store_block *b);
void store_block_fini(struct store_block *b);

/* --- compact.c ---------------------------------------------------------------------------- */

/* Merges tenant datasets (blocks) into out (initialised here; caller store_sdata_fini). */
int store_compact_merge(const struct store_sdata *const *in, size_t n, const char *tenant,
			struct store_sdata *out);

/* --- sspace.c: stack spaces shared by a tenant's loaded blocks -------------------------- */

struct store_sspace;  /* one dictionary the stacks of many blocks are mapped into */
struct store_sspaces; /* the current space per tenant */
/* A space stays current until it holds more than SLACK times the nodes of its live blocks
 * (and more than MIN_NODES). */
#define STORE_SSPACE_SLACK     2
#define STORE_SSPACE_MIN_NODES 65536

struct store_sspaces *store_sspaces_new(void);
void store_sspaces_free(struct store_sspaces *r);
/* Maps a loaded block's stacks (sd->dict) into its tenant's current space: sets sd->space,
 * space_node and space_n. Released by store_sdata_fini. */
void store_sspaces_map(struct store_sspaces *r, struct store_sdata *sd);
void store_sspace_release(struct store_sdata *sd);
struct store_sspace *store_sspace_ref(struct store_sspace *sp);
void store_sspace_unref(struct store_sspace *sp);
/* The space's dictionary, read-locked until store_sspace_read_done. */
const struct prof *store_sspace_read(struct store_sspace *sp);
void store_sspace_read_done(struct store_sspace *sp);
uint64_t store_sspace_nodes(const struct store_sspace *sp);

/* --- query.c ------------------------------------------------------------------------------ */

/* The sources of one query: head tenants (read under the head lock) and blocks. */
struct store_srcs {
	const struct store_sdata **sd;
	size_t n;
};

enum store_qkind {
	STORE_Q_NAMES,
	STORE_Q_VALUES,
	STORE_Q_SERIES,
	STORE_Q_MERGE,
	STORE_Q_SELECT_SERIES,
	STORE_Q_FUNC_SERIES,
};

struct store_qctx; /* per-query accumulation state */

struct store_qargs {
	enum store_qkind kind;
	const struct store_query *q;
	const char *name;      /* label values */
	const uint64_t *spans; /* merge */
	size_t n_spans;
	const struct store_series_opts *so;
	const char *function; /* function series */
	int64_t step_ns;
};

int store_qctx_new(const struct store_qargs *a, struct store_qctx **out, struct ember_diag *d);
/* Feeds one source; callable for many sources. */
int store_qctx_feed(struct store_qctx *c, const struct store_sdata *sd, struct ember_diag *d);
/* Produces the result (prof for MERGE, result otherwise) and frees the context. */
int store_qctx_finish(struct store_qctx *c, struct prof **prof, struct store_result **res);
/* How many block series a merge read through their rollup (before finish). */
uint64_t store_qctx_rollups(const struct store_qctx *c);
void store_qctx_free(struct store_qctx *c);
/* Top functions of a merged profile. */
int store_top_from_prof(const struct prof *p, size_t limit, struct store_result **out);

#endif

/*
 * local_int.h — private to the local backend (local.c, maintain.c): the backend's state and
 * the helpers both halves use. Lock and ownership notes are on each field.
 */
#ifndef EMBER_STORE_LOCAL_INT_H
#define EMBER_STORE_LOCAL_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store/store_int.h"

struct blockset {
	atomic_int ref;
	size_t n;
	struct store_block **b; /* each holds a reference */
};

/* Set up by store_local_open; fields without a lock note are immutable after open. */
struct store_local {
	struct store base;
	char dir[PATH_MAX];
	char wal_dir[PATH_MAX + 8], blocks_dir[PATH_MAX + 8], tmp_dir[PATH_MAX + 8],
		quar_dir[PATH_MAX + 16];
	struct store_limits lim;
	struct store_io io;
	const struct store_io *iop; /* &io or NULL */
	int64_t block_ns;
	size_t head_max;
	int64_t retention_ns;
	uint64_t retention_bytes;
	bool no_compaction;
	uint64_t compact_seq; /* guarded by cut_lock */
	uint64_t max_cut;     /* the newest cut directory, never removed; guarded by cut_lock */

	pthread_rwlock_t head_lock;
	struct store_head *head;   /* guarded by head_lock */
	struct store_head *frozen; /* being written as blocks; guarded by head_lock */
	pthread_mutex_t set_lock;
	struct blockset *blocks; /* guarded by set_lock */
	pthread_mutex_t cut_lock;
	uint64_t wal_seq; /* current segment; guarded by cut_lock */
	/* The append gate: an append is "in flight" from before it interns into the head until
	 * its commit; a cut closes the gate, waits for none in flight, then rotates the WAL and
	 * swaps the head, so a segment's delta records all refer to one head's dictionaries.
	 * Appends pass an open gate with two atomic operations (sequentially consistent, so an
	 * append that counted itself in either sees the gate closed or is seen by the closer);
	 * gate_mu and gate_cv are only for sleeping while it is closed or until none is in
	 * flight. */
	pthread_mutex_t gate_mu;
	pthread_cond_t gate_cv;
	atomic_bool gate_closed; /* written under gate_mu */
	atomic_uint in_flight;
	struct store_wal *wal;
	struct store_sspaces *spaces; /* the tenants' stack spaces (own lock) */

	atomic_int error;
	atomic_uint_fast64_t appends, replayed, truncated, quarantined, compactions, dropped,
		skipped, rollup_reads;

	bool bg; /* a background thread runs (set at open) */
	pthread_t bg_thread;
	pthread_mutex_t bg_mu;
	pthread_cond_t bg_cv;
	bool bg_stop; /* guarded by bg_mu */
};

/* Opens a block file of tenant in block directory dir and maps its stacks into the tenant's
 * stack space; *bad_off as store_block_open. */
int store_local_block_open(struct store_local *s, const char *path, const char *tenant,
			   const char *dir, uint64_t cut_seq, struct store_block **out,
			   size_t *bad_off);
struct blockset *store_local_blockset_get(struct store_local *s);
void store_local_blockset_unref(struct blockset *bs);
/* A block directory name: a cut <016x> (is_cut) or a compaction c<016x>. */
bool store_local_parse_dir(const char *name, uint64_t *seq, bool *is_cut);
/* Enters the ERROR state (first error wins); returns err. */
int store_local_enter_error(struct store_local *s, int err);
/* -EROFS with the ERROR state's message. */
int store_local_read_only(struct store_local *s, struct ember_diag *d);
/* Retention, then compaction (maintain.c). */
int store_local_compact(struct store *base, struct ember_diag *d);

#endif

/*
 * maintain.c — the local backend's maintenance: retention (blocks older than retention_ns or
 * beyond retention_bytes, oldest first) and compaction (a tenant's blocks within one finished
 * 4-h window merged into one, then likewise for 12-h and 7-d windows), each new block
 * written under tmp/, renamed into blocks/ with its list of superseded sources (I5), then
 * published to readers and its sources deleted. Runs under cut_lock. Never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/local_int.h"

/* Publishes a block set without `drop` and with `add` (NULL-terminated lists), atomically for
 * queries (under head_lock, like a cut). */
static void publish(struct store_local *s, struct store_block *const *drop, size_t n_drop,
		    struct store_block *add)
{
	struct blockset *old, *nb = mem_calloc(MEM_STORE, 1, sizeof(*nb));

	atomic_init(&nb->ref, 1);
	pthread_rwlock_wrlock(&s->head_lock);
	pthread_mutex_lock(&s->set_lock);
	old = s->blocks;
	nb->b = mem_alloc(MEM_STORE, (old->n + 1) * sizeof(*nb->b));
	for (size_t i = 0; i < old->n; i++) {
		bool gone = false;

		for (size_t k = 0; k < n_drop && !gone; k++)
			gone = old->b[i] == drop[k];
		if (gone)
			continue;
		nb->b[nb->n++] = old->b[i];
		atomic_fetch_add(&old->b[i]->ref, 1);
	}
	if (add)
		nb->b[nb->n++] = add; /* takes the caller's reference */
	s->blocks = nb;
	pthread_mutex_unlock(&s->set_lock);
	pthread_rwlock_unlock(&s->head_lock);
	store_local_blockset_unref(old);
}

/* Deletes a block's file (the mapping lives until its last reader lets go) and its directory
 * when empty, except the newest cut directory, which marks the WAL watermark (I3); the
 * deletion is made durable before the caller goes on (I5). */
static void remove_block_file(struct store_local *s, const struct store_block *b)
{
	char dir[PATH_MAX + 64], src[PATH_MAX + 200];
	uint64_t seq;
	bool is_cut;

	if (!b->path)
		return;
	unlink(b->path);
	snprintf(dir, sizeof(dir), "%s/%s", s->blocks_dir, b->dir);
	snprintf(src, sizeof(src), "%s/%s.src", dir, b->sd.tenant);
	unlink(src);
	if (!(store_local_parse_dir(b->dir, &seq, &is_cut) && is_cut && seq == s->max_cut) &&
	    rmdir(dir) == 0)
		(void)store_io_fsync_dir(s->iop, s->blocks_dir);
	else
		(void)store_io_fsync_dir(s->iop, dir);
}

/* Merges the blocks g[0..n) of one tenant into blocks/c<seq>/<tenant>.blk (I5). */
static int compact_group(struct store_local *s, struct store_block **g, size_t n,
			 struct ember_diag *d)
{
	const struct store_sdata **in = mem_alloc(MEM_STORE, n * sizeof(*in));
	struct store_sdata merged;
	char tdir[PATH_MAX + 64], fdir[PATH_MAX + 64], path[PATH_MAX + 200], name[24];
	struct buf src;
	struct store_block *nb;
	/* above every earlier compaction and tied to the WAL sequence, so a name is never reused
	 * even after retention removed the newest compacted directory */
	uint64_t seq = EMBER_MAX(s->compact_seq, s->wal_seq << 20) + 1;
	size_t off;
	int rc, fd;

	for (size_t i = 0; i < n; i++)
		in[i] = &g[i]->sd;
	rc = store_compact_merge(in, n, g[0]->sd.tenant, &merged);
	mem_free(in);
	if (rc)
		return ember_diag_set(d, rc, "store: compaction of tenant %s failed: %s",
				      g[0]->sd.tenant, ember_strerror(rc));
	snprintf(name, sizeof(name), "c%016" PRIx64, seq);
	snprintf(tdir, sizeof(tdir), "%s/%s", s->tmp_dir, name);
	snprintf(fdir, sizeof(fdir), "%s/%s", s->blocks_dir, name);
	if (mkdir(tdir, 0755) && errno != EEXIST) {
		rc = -errno;
		store_sdata_fini(&merged);
		return ember_diag_set(d, rc, "store: cannot create %s", tdir);
	}
	snprintf(path, sizeof(path), "%s/%s.blk", tdir, g[0]->sd.tenant);
	rc = store_block_write(s->iop, path, &merged);
	store_sdata_fini(&merged);
	buf_init(&src, MEM_STORE, SIZE_MAX);
	for (size_t i = 0; i < n; i++) {
		(void)buf_printf(&src, "%s/%s.blk\n", g[i]->dir, g[i]->sd.tenant);
		if (g[i]->dir[0] == 'c') { /* and its own sources, transitively */
			struct buf prev;

			snprintf(path, sizeof(path), "%s/%s/%s.src", s->blocks_dir, g[i]->dir,
				 g[i]->sd.tenant);
			buf_init(&prev, MEM_STORE, 64 << 20);
			if (buf_read_file(&prev, path) == 0)
				(void)buf_append(&src, prev.data, prev.len);
			buf_fini(&prev);
		}
	}
	snprintf(path, sizeof(path), "%s/%s.src", tdir, g[0]->sd.tenant);
	if (!rc) {
		fd = store_io_open(s->iop, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		rc = fd < 0 ? fd : store_io_write_all(s->iop, fd, src.data, src.len);
		if (!rc)
			rc = store_io_fsync(s->iop, fd);
		if (fd >= 0)
			close(fd);
	}
	buf_fini(&src);
	if (!rc)
		rc = store_io_fsync_dir(s->iop, tdir);
	if (!rc)
		rc = store_io_rename(s->iop, tdir, fdir);
	if (!rc)
		rc = store_io_fsync_dir(s->iop, s->blocks_dir);
	if (rc)
		return ember_diag_set(d, store_local_enter_error(s, rc),
				      "store: writing compacted block %s: %s", fdir,
				      ember_strerror(rc));
	s->compact_seq = seq;
	snprintf(path, sizeof(path), "%s/%s.blk", fdir, g[0]->sd.tenant);
	rc = store_local_block_open(s, path, g[0]->sd.tenant, name, 0, &nb, &off);
	if (rc)
		return ember_diag_set(d, rc, "store: reopening %s failed at offset %zu: %s", path,
				      off, ember_strerror(rc));
	publish(s, g, n, nb);
	for (size_t i = 0; i < n; i++)
		remove_block_file(s, g[i]);
	atomic_fetch_add(&s->compactions, 1);
	return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* One level: blocks of a tenant that lie within one finished window of win_ns. */
/* How long after its window ends a level's merge waits. The 7-day level waits a day, so that
 * the last 24 hours (a dashboard's default window) never cut through a 7-day block, whose
 * sample chunks a partial read has to decode whole (a last-24-h flame graph over 30 days of
 * data: 220 ms when it did); the smaller levels merge as soon as their window is finished. */
static int64_t lag_ns(int64_t win_ns)
{
	const int64_t day = 24 * 3600 * 1000000000LL;

	return win_ns >= 7 * day ? day : 0;
}

static int compact_level(struct store_local *s, int64_t win_ns, int64_t horizon,
			 struct ember_diag *d)
{
	struct blockset *bs = store_local_blockset_get(s);
	struct store_block **g = mem_alloc(MEM_STORE, (bs->n + 1) * sizeof(*g));
	bool *done = mem_calloc(MEM_STORE, bs->n + 1, 1);
	int rc = 0;

	for (size_t i = 0; i < bs->n && !rc; i++) {
		struct store_block *a = bs->b[i];
		int64_t w = floor_div(a->sd.min_t, win_ns);
		size_t n = 0;

		if (done[i] || floor_div(a->sd.max_t, win_ns) != w ||
		    (w + 1) * win_ns + lag_ns(win_ns) > horizon)
			continue;
		for (size_t k = i; k < bs->n; k++) {
			struct store_block *b = bs->b[k];

			if (done[k] || strcmp(a->sd.tenant, b->sd.tenant) ||
			    floor_div(b->sd.min_t, win_ns) != w ||
			    floor_div(b->sd.max_t, win_ns) != w)
				continue;
			done[k] = true;
			g[n++] = b;
		}
		if (n >= 2)
			rc = compact_group(s, g, n, d);
	}
	mem_free(g);
	mem_free(done);
	store_local_blockset_unref(bs);
	return rc;
}

/* Retention: by age of the newest profile, then by total size (oldest first). */
static void apply_retention(struct store_local *s)
{
	struct blockset *bs = store_local_blockset_get(s);
	struct store_block **drop = mem_alloc(MEM_STORE, (bs->n + 1) * sizeof(*drop));
	bool *gone = mem_calloc(MEM_STORE, bs->n + 1, 1);
	size_t n = 0;
	uint64_t total = 0;

	if (s->retention_ns) {
		struct timespec ts;
		int64_t now, cutoff;

		clock_gettime(CLOCK_REALTIME, &ts);
		now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		cutoff = now - s->retention_ns;
		for (size_t i = 0; i < bs->n; i++)
			if (bs->b[i]->sd.max_t < cutoff) {
				gone[i] = true;
				drop[n++] = bs->b[i];
			}
	}
	for (size_t i = 0; i < bs->n; i++)
		if (!gone[i])
			total += bs->b[i]->map_len;
	while (s->retention_bytes && total > s->retention_bytes) {
		size_t oldest = SIZE_MAX;

		for (size_t i = 0; i < bs->n; i++)
			if (!gone[i] &&
			    (oldest == SIZE_MAX || bs->b[i]->sd.max_t < bs->b[oldest]->sd.max_t))
				oldest = i;
		if (oldest == SIZE_MAX)
			break;
		gone[oldest] = true;
		drop[n++] = bs->b[oldest];
		total -= bs->b[oldest]->map_len;
	}
	if (n) {
		publish(s, drop, n, NULL);
		for (size_t i = 0; i < n; i++)
			remove_block_file(s, drop[i]);
		atomic_fetch_add(&s->dropped, n);
	}
	mem_free(drop);
	mem_free(gone);
	store_local_blockset_unref(bs);
}

/* Compaction levels: hourly cuts -> 4 h -> 12 h -> 7 d, so a 24-h query reads a handful of
 * blocks rather than 24. */
static const int64_t compact_windows_ns[] = {
	4LL * 3600 * 1000000000LL,
	12LL * 3600 * 1000000000LL,
	7LL * 24 * 3600 * 1000000000LL,
};

int store_local_compact(struct store *base, struct ember_diag *d)
{
	struct store_local *s = (struct store_local *)base;
	int64_t horizon = INT64_MIN;
	struct blockset *bs;
	int rc = 0;

	pthread_mutex_lock(&s->cut_lock);
	if (atomic_load(&s->error)) {
		pthread_mutex_unlock(&s->cut_lock);
		return store_local_read_only(s, d);
	}
	apply_retention(s);
	if (!s->no_compaction) {
		/* a window is finished once newer data exists (head or blocks) */
		pthread_rwlock_rdlock(&s->head_lock);
		if (s->head->n_prof)
			horizon = s->head->max_t;
		pthread_rwlock_unlock(&s->head_lock);
		bs = store_local_blockset_get(s);
		for (size_t i = 0; i < bs->n; i++)
			horizon = EMBER_MAX(horizon, bs->b[i]->sd.max_t);
		store_local_blockset_unref(bs);
		for (size_t i = 0; i < EMBER_ARRAY_SIZE(compact_windows_ns) && !rc; i++)
			rc = compact_level(s, compact_windows_ns[i], horizon, d);
	}
	pthread_mutex_unlock(&s->cut_lock);
	return rc;
}

/*
 * local.c — the "local" store backend: a data directory with wal/, blocks/, tmp/ and
 * quarantine/; open (clean tmp, drop superseded blocks, load blocks, quarantine corrupt ones,
 * replay the WAL, truncate a torn tail), append (check limits and intern into the head under
 * one lock hold, queue the WAL record; the commit group's leader applies the group's samples to
 * the head once durable: commit_group), block cuts (rotate the WAL, freeze the head, write
 * the blocks under tmp/, rename into blocks/, delete the covered WAL segments), the optional
 * background thread (cuts, then maintain.c's retention and compaction), and query dispatch
 * over head + blocks.
 *
 * State: OPEN --(write/fsync/rename fails)--> ERROR (read-only until reopened; store_append,
 * store_cut and store_compact return -EROFS). Locks: head_lock (rwlock) guards head and
 * frozen; set_lock guards the block set pointer; cut_lock serialises cuts and compactions.
 * No lock is held during a WAL fsync. Logs only the documented warnings: truncated WAL tails
 * and quarantined files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "store/local_int.h"
#include "store/store_int.h"

static const struct store_ops local_ops;

void store_local_blockset_unref(struct blockset *bs)
{
	if (bs && atomic_fetch_sub(&bs->ref, 1) == 1) {
		for (size_t i = 0; i < bs->n; i++)
			store_block_unref(bs->b[i]);
		mem_free(bs->b);
		mem_free(bs);
	}
}

int store_local_block_open(struct store_local *s, const char *path, const char *tenant,
			   const char *dir, uint64_t cut_seq, struct store_block **out,
			   size_t *bad_off)
{
	int rc = store_block_open(path, out, bad_off);

	if (rc)
		return rc;
	snprintf((*out)->sd.tenant, sizeof((*out)->sd.tenant), "%s", tenant);
	snprintf((*out)->dir, sizeof((*out)->dir), "%.23s", dir);
	(*out)->cut_seq = cut_seq;
	store_sspaces_map(s->spaces, &(*out)->sd);
	return 0;
}

struct blockset *store_local_blockset_get(struct store_local *s)
{
	struct blockset *bs;

	pthread_mutex_lock(&s->set_lock);
	bs = s->blocks;
	atomic_fetch_add(&bs->ref, 1);
	pthread_mutex_unlock(&s->set_lock);
	return bs;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != 0)
			continue;
		tmp[i] = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		tmp[i] = i < n ? '/' : 0;
	}
	return 0;
}

static bool parse_hex16(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n != 16)
		return false;
	for (size_t i = 0; i < 16; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			x = x << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x = x << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*v = x;
	return true;
}

/* Removes every file in dir and, one level down, in its subdirectories. */
static void remove_tree(const char *dir, bool remove_self)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 300];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path, true);
		else
			unlink(path);
	}
	closedir(d);
	if (remove_self)
		rmdir(dir);
}

static void quarantine(struct store_local *s, const char *path, const char *as, int err, size_t off)
{
	char to[PATH_MAX + 512];

	snprintf(to, sizeof(to), "%s/%s", s->quar_dir, as);
	LOG_WARN("store: %s is corrupt (%s at byte offset %zu); moved to %s", path,
		 ember_strerror(err), off, to);
	if (rename(path, to))
		unlink(path);
	atomic_fetch_add(&s->quarantined, 1);
}

/* A block directory name: a cut <016x> (is_cut) or a compaction c<016x>. */
bool store_local_parse_dir(const char *name, uint64_t *seq, bool *is_cut)
{
	*is_cut = name[0] != 'c';
	return parse_hex16(name + !*is_cut, strlen(name + !*is_cut), seq);
}

/* (I5) Sources listed in blocks/c<seq>/<tenant>.src were superseded by that compaction: the
 * directory was renamed into place complete, so any source still present is deleted. */
static void drop_superseded(struct store_local *s)
{
	DIR *d = opendir(s->blocks_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		uint64_t seq;
		bool is_cut;
		char cdir[PATH_MAX + 300];
		DIR *cd;
		struct dirent *f;

		if (!store_local_parse_dir(e->d_name, &seq, &is_cut) || is_cut)
			continue;
		snprintf(cdir, sizeof(cdir), "%s/%s", s->blocks_dir, e->d_name);
		cd = opendir(cdir);
		if (!cd)
			continue;
		while ((f = readdir(cd))) {
			size_t len = strlen(f->d_name);
			char path[PATH_MAX + 600];
			struct buf b;

			if (len < 5 || strcmp(f->d_name + len - 4, ".src"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", cdir, f->d_name);
			buf_init(&b, MEM_STORE, 1 << 20);
			if (buf_read_file(&b, path) == 0) {
				char *line = (char *)b.data, *nl;

				for (; line && *line; line = nl ? nl + 1 : NULL) {
					char src[PATH_MAX + 700], sdir[PATH_MAX + 700];

					nl = strchr(line, '\n');
					if (nl)
						*nl = 0;
					if (strstr(line, "..") || line[0] == '/' ||
					    !strchr(line, '/'))
						continue;
					snprintf(src, sizeof(src), "%s/%s", s->blocks_dir, line);
					snprintf(sdir, sizeof(sdir), "%s", src);
					if (unlink(src) == 0) {
						*strrchr(sdir, '/') = 0;
						rmdir(sdir); /* fails while other tenants' blocks remain */
					}
				}
			}
			buf_fini(&b);
		}
		closedir(cd);
	}
	closedir(d);
}

/* Loads blocks/<dir>/<tenant>.blk; returns the highest cut number in *max_cut and the highest
 * compaction number in s->compact_seq. */
static int load_blocks(struct store_local *s, uint64_t *max_cut)
{
	DIR *d;
	struct dirent *e;
	struct blockset *bs = mem_calloc(MEM_STORE, 1, sizeof(*bs));
	size_t cap = 0;

	atomic_init(&bs->ref, 1);
	*max_cut = 0;
	drop_superseded(s);
	d = opendir(s->blocks_dir);
	if (!d) {
		mem_free(bs);
		return -errno;
	}
	while ((e = readdir(d))) {
		uint64_t seq;
		bool is_cut;
		char cdir[PATH_MAX + 300];
		DIR *cd;
		struct dirent *f;

		if (!store_local_parse_dir(e->d_name, &seq, &is_cut))
			continue;
		if (is_cut)
			*max_cut = EMBER_MAX(*max_cut, seq);
		else
			s->compact_seq = EMBER_MAX(s->compact_seq, seq);
		snprintf(cdir, sizeof(cdir), "%s/%s", s->blocks_dir, e->d_name);
		cd = opendir(cdir);
		if (!cd)
			continue;
		while ((f = readdir(cd))) {
			size_t len = strlen(f->d_name), off;
			char path[PATH_MAX + 600], tenant[STORE_TENANT_MAX + 1], qname[400];
			struct store_block *b;
			int rc;

			if (len < 5 || strcmp(f->d_name + len - 4, ".blk") ||
			    len - 4 > STORE_TENANT_MAX)
				continue;
			memcpy(tenant, f->d_name, len - 4);
			tenant[len - 4] = 0;
			if (!store_tenant_ok(tenant))
				continue;
			snprintf(path, sizeof(path), "%s/%s", cdir, f->d_name);
			rc = store_local_block_open(s, path, tenant, e->d_name, is_cut ? seq : 0,
						    &b, &off);
			if (rc == -EMBER_ECORRUPT || rc == -EMBER_EVERSION) {
				snprintf(qname, sizeof(qname), "%.24s-%.72s", e->d_name, f->d_name);
				quarantine(s, path, qname, rc, off);
				continue;
			}
			if (rc) {
				LOG_WARN("store: cannot open block %s: %s; not loaded", path,
					 ember_strerror(rc));
				continue;
			}
			mem_grow(MEM_STORE, (void **)&bs->b, &cap, bs->n + 1, sizeof(*bs->b));
			bs->b[bs->n++] = b;
		}
		closedir(cd);
	}
	closedir(d);
	s->blocks = bs;
	s->max_cut = *max_cut;
	return 0;
}

struct replay_ctx {
	struct store_local *s;
	struct store_replay *rp;
	const char *path;
};

static int replay_one(void *ctx, const uint8_t *p, size_t n)
{
	struct replay_ctx *rc = ctx;
	int err = store_replay_record(rc->rp, p, n);

	if (err) {
		/* its checksum holds, so the records after it are sound: skip only this one */
		LOG_WARN("store: WAL %s: a record of %zu bytes cannot be decoded (%s); skipped",
			 rc->path, n, ember_strerror(err));
		atomic_fetch_add(&rc->s->skipped, 1);
		return 0;
	}
	atomic_fetch_add(&rc->s->replayed, 1);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lists wal/ segment numbers, ascending. */
static size_t list_segments(struct store_local *s, uint64_t **out)
{
	DIR *d = opendir(s->wal_dir);
	struct dirent *e;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		uint64_t seq;

		if (len != 20 || strcmp(e->d_name + 16, ".wal") ||
		    !parse_hex16(e->d_name, 16, &seq))
			continue;
		mem_grow(MEM_STORE, (void **)&v, &cap, n + 1, sizeof(*v));
		v[n++] = seq;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_u64);
	*out = v;
	return n;
}

static int replay_wal(struct store_local *s, uint64_t max_cut, uint64_t *max_seq)
{
	uint64_t *segs;
	size_t n = list_segments(s, &segs);
	struct replay_ctx rc = {.s = s, .rp = store_replay_new(s->head)};
	int err = 0;

	*max_seq = 0;
	for (size_t i = 0; i < n && !err; i++) {
		char path[PATH_MAX + 64], qname[64];
		struct buf b;
		size_t valid;
		int prc;

		*max_seq = EMBER_MAX(*max_seq, segs[i]);
		snprintf(path, sizeof(path), "%s/%016" PRIx64 ".wal", s->wal_dir, segs[i]);
		if (segs[i] < max_cut) { /* (I3) already in blocks */
			unlink(path);
			continue;
		}
		buf_init(&b, MEM_STORE, SIZE_MAX);
		rc.path = path;
		err = buf_read_file(&b, path);
		if (err) {
			buf_fini(&b);
			break;
		}
		prc = store_wal_parse(b.data, b.len, replay_one, &rc, &valid);
		store_replay_segment_end(rc.rp);
		if (prc == -EMBER_ECORRUPT && valid == 0) {
			snprintf(qname, sizeof(qname), "%016" PRIx64 ".wal", segs[i]);
			quarantine(s, path, qname, prc, 0);
		} else if (prc == -EMBER_EVERSION) {
			err = prc;
		} else if (valid < b.len) {
			int fd = open(path, O_WRONLY | O_CLOEXEC);

			if (!store_wal_zero_tail(b.data + valid, b.len - valid)) {
				LOG_WARN(
					"store: WAL %s: torn or corrupt record at byte offset %zu; "
					"truncated %zu bytes",
					path, valid, b.len - valid);
				atomic_fetch_add(&s->truncated, b.len - valid);
			}
			if (fd < 0 || ftruncate(fd, (off_t)valid) || fsync(fd))
				err = -errno;
			if (fd >= 0)
				close(fd);
		}
		buf_fini(&b);
	}
	store_replay_free(rc.rp);
	mem_free(segs);
	return err;
}

static void *bg_main(void *arg);

static void local_close(struct store *base)
{
	struct store_local *s = (struct store_local *)base;

	if (s->bg) {
		pthread_mutex_lock(&s->bg_mu);
		s->bg_stop = true;
		pthread_cond_signal(&s->bg_cv);
		pthread_mutex_unlock(&s->bg_mu);
		pthread_join(s->bg_thread, NULL);
	}
	store_wal_close(s->wal);
	store_head_free(s->head);
	store_head_free(s->frozen);
	store_local_blockset_unref(s->blocks);
	store_sspaces_free(s->spaces);
	pthread_rwlock_destroy(&s->head_lock);
	pthread_mutex_destroy(&s->set_lock);
	pthread_mutex_destroy(&s->cut_lock);
	pthread_mutex_destroy(&s->gate_mu);
	pthread_cond_destroy(&s->gate_cv);
	pthread_mutex_destroy(&s->bg_mu);
	pthread_cond_destroy(&s->bg_cv);
	mem_free(s);
}

#define DEF(x, v) ((x) ? (x) : (v))

/* The WAL's on_durable: a commit group's leader makes the group's appends visible, all under
 * one head lock round instead of one for each append. */
static void commit_group(void *ctx, void *const *ck, size_t n)
{
	struct store_local *s = ctx;

	pthread_rwlock_wrlock(&s->head_lock);
	for (size_t i = 0; i < n; i++)
		store_head_commit(s->head, ck[i]);
	pthread_rwlock_unlock(&s->head_lock);
	atomic_fetch_add(&s->appends, n);
}

int store_local_open(const struct store_opts *o, struct store **out, struct ember_diag *d)
{
	struct store_local *s;
	pthread_rwlockattr_t rwa;
	uint64_t max_cut, max_seq;
	int rc;

	*out = NULL;
	if (!o->dir || !o->dir[0] || strlen(o->dir) >= PATH_MAX - 32)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: a data directory is required");
	s = mem_calloc(MEM_STORE, 1, sizeof(*s));
	s->base.ops = &local_ops;
	snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
	snprintf(s->wal_dir, sizeof(s->wal_dir), "%s/wal", o->dir);
	snprintf(s->blocks_dir, sizeof(s->blocks_dir), "%s/blocks", o->dir);
	snprintf(s->tmp_dir, sizeof(s->tmp_dir), "%s/tmp", o->dir);
	snprintf(s->quar_dir, sizeof(s->quar_dir), "%s/quarantine", o->dir);
	s->lim.max_tenants = DEF(o->limits.max_tenants, 1000);
	s->lim.max_series_per_tenant = DEF(o->limits.max_series_per_tenant, 100000);
	s->lim.max_labels_per_series = DEF(o->limits.max_labels_per_series, 32);
	s->lim.max_label_name_len = DEF(o->limits.max_label_name_len, 256);
	s->lim.max_label_value_len = DEF(o->limits.max_label_value_len, 2048);
	s->lim.max_stack_depth = DEF(o->limits.max_stack_depth, 1024);
	s->lim.max_sample_types = DEF(o->limits.max_sample_types, 16);
	s->lim.max_profile_bytes = DEF(o->limits.max_profile_bytes, 64u << 20);
	if (s->lim.max_profile_bytes > STORE_WAL_MAX_REC)
		s->lim.max_profile_bytes = STORE_WAL_MAX_REC;
	s->block_ns = DEF(o->block_duration_ns, 3600LL * 1000000000LL);
	s->head_max = DEF(o->head_max_bytes, (size_t)512 << 20);
	s->retention_ns = o->retention_ns;
	s->retention_bytes = o->retention_bytes;
	s->no_compaction = o->no_compaction;
	if (o->io) {
		s->io = *o->io;
		s->iop = &s->io;
	}
	/* writers first: appends prepared under the read lock must not starve commit_group */
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->head_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	pthread_mutex_init(&s->set_lock, NULL);
	pthread_mutex_init(&s->cut_lock, NULL);
	pthread_mutex_init(&s->gate_mu, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	pthread_mutex_init(&s->bg_mu, NULL);
	pthread_cond_init(&s->bg_cv, NULL);
	s->head = store_head_new();
	s->spaces = store_sspaces_new();
	rc = mkdir_p(s->wal_dir);
	if (!rc)
		rc = mkdir_p(s->blocks_dir);
	if (!rc)
		rc = mkdir_p(s->tmp_dir);
	if (!rc)
		rc = mkdir_p(s->quar_dir);
	if (rc) {
		ember_diag_set(d, rc, "store: cannot create %s: %s", s->dir, ember_strerror(rc));
		goto fail;
	}
	remove_tree(s->tmp_dir, false); /* (I4) */
	rc = load_blocks(s, &max_cut);
	if (rc) {
		ember_diag_set(d, rc, "store: cannot read %s: %s", s->blocks_dir,
			       ember_strerror(rc));
		goto fail;
	}
	rc = replay_wal(s, max_cut, &max_seq);
	if (rc) {
		ember_diag_set(d, rc, "store: cannot replay the WAL in %s: %s", s->wal_dir,
			       ember_strerror(rc));
		goto fail;
	}
	s->wal_seq = EMBER_MAX(max_seq, max_cut) + 1;
	rc = store_wal_open(s->wal_dir, s->iop, s->wal_seq, o->commit_delay_us, commit_group, s,
			    &s->wal);
	if (rc) {
		ember_diag_set(d, rc, "store: cannot create a WAL segment in %s: %s", s->wal_dir,
			       ember_strerror(rc));
		goto fail;
	}
	if (o->background) {
		s->bg = true;
		if (pthread_create(&s->bg_thread, NULL, bg_main, s)) {
			s->bg = false;
			rc = ember_diag_set(d, -EAGAIN, "store: cannot start the cutter thread");
			goto fail;
		}
	}
	*out = &s->base;
	return 0;
fail:
	local_close(&s->base);
	return rc;
}

int store_local_enter_error(struct store_local *s, int err)
{
	int expected = 0;

	atomic_compare_exchange_strong(&s->error, &expected, err);
	return err;
}

int store_local_read_only(struct store_local *s, struct ember_diag *d)
{
	int e = atomic_load(&s->error);

	return ember_diag_set(d, -EROFS,
			      "store: read-only after a failed write (%s); reopen to recover",
			      ember_strerror(e));
}

/* Initial size of a WAL record's buffer. */
#define REC_START_BYTES (32u << 10)

static void gate_leave(struct store_local *s)
{
	if (atomic_fetch_sub(&s->in_flight, 1) == 1 && atomic_load(&s->gate_closed)) {
		pthread_mutex_lock(&s->gate_mu); /* the closer checks under it, then sleeps */
		pthread_cond_broadcast(&s->gate_cv);
		pthread_mutex_unlock(&s->gate_mu);
	}
}

static void gate_enter(struct store_local *s)
{
	for (;;) {
		if (!atomic_load(&s->gate_closed)) {
			atomic_fetch_add(&s->in_flight, 1);
			if (!atomic_load(&s->gate_closed))
				return;
			gate_leave(s); /* closed meanwhile: back out and wait */
		}
		pthread_mutex_lock(&s->gate_mu);
		while (atomic_load(&s->gate_closed))
			pthread_cond_wait(&s->gate_cv, &s->gate_mu);
		pthread_mutex_unlock(&s->gate_mu);
	}
}

/* Closes the gate and waits until no append is in flight. */
static void gate_close(struct store_local *s)
{
	pthread_mutex_lock(&s->gate_mu);
	atomic_store(&s->gate_closed, true); /* only the cut holding cut_lock closes it */
	while (atomic_load(&s->in_flight))
		pthread_cond_wait(&s->gate_cv, &s->gate_mu);
	pthread_mutex_unlock(&s->gate_mu);
}

static void gate_open(struct store_local *s)
{
	pthread_mutex_lock(&s->gate_mu);
	atomic_store(&s->gate_closed, false);
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate_mu);
}

/* Interns r into the head and queues its delta record, under the head lock so that records
 * reach the WAL in the order their dictionary entries were made (I6). An encoding over the
 * profile size limit still queues the dictionary delta alone (the entries exist in memory now
 * and later records may use them) and returns -EMBER_ELIMIT. */
static int prepare_and_queue(struct store_local *s, const struct store_rec *r,
			     struct store_pending *pd, struct store_wal_ticket *ticket,
			     int *refused, struct ember_diag *d)
{
	struct buf b;
	struct store_wr w = {&b, 0};
	int rc, over = 0;
	bool ro = r->stacks && r->stacks->find;

	buf_init(&b, MEM_STORE, (size_t)STORE_WAL_MAX_REC + 8);
	/* most records are tens of KB: start there rather than through a chain of reallocs */
	w.err = buf_reserve(&b, REC_START_BYTES);
	store_wr_bytes(&w, "\0\0\0\0\0\0\0\0", 8); /* frame header, filled by the WAL */
	/* The limits are checked under the same lock as the insertion: one lock round per
	 * append instead of two (each a sleep and a wake-up when 32 handlers contend). An
	 * append whose symbols, stacks and label strings are all in the dictionary already
	 * (the usual one: a service sends the same code paths again) changes nothing before
	 * commit_group: it is prepared under the read lock, alongside queries and other such
	 * appends, and its record queued there too (records of the read lock add no dictionary
	 * entries, so their order among themselves does not matter for I6). */
	if (ro)
		pthread_rwlock_rdlock(&s->head_lock);
	else
		pthread_rwlock_wrlock(&s->head_lock);
again:
	*refused = store_head_check(s->head, r, &s->lim, d);
	if (*refused) {
		pthread_rwlock_unlock(&s->head_lock);
		buf_fini(&b);
		return *refused;
	}
	if (!store_head_prepare(s->head, r, &w, pd, ro)) {
		pthread_rwlock_unlock(&s->head_lock);
		pthread_rwlock_wrlock(&s->head_lock);
		ro = false; /* cannot fail now */
		goto again;
	}
	if (!w.err && b.len - 8 > s->lim.max_profile_bytes) {
		b.len = pd->rec_dict_end; /* drop the series, keep the dictionary delta */
		store_wr_uv(&w, 0);
		over = -EMBER_ELIMIT;
	}
	/* (I1) committed to the head by the group's leader once durable (commit_group) */
	rc = w.err ? w.err
		   : store_wal_enqueue(s->wal, b.data, b.len, over ? NULL : (void *)pd, ticket);
	pthread_rwlock_unlock(&s->head_lock);
	buf_fini(&b);
	if (rc == -EMBER_ELIMIT) /* the dictionary delta alone passed the WAL's record bound */
		rc = -ENOSPC;
	return rc ? rc : over;
}

static int local_append(struct store *base, const struct store_append *a, struct ember_diag *d)
{
	struct store_local *s = (struct store_local *)base;
	struct store_rec r = {0};
	struct store_split split;
	struct store_pending pd;
	struct store_wal_ticket ticket = {0};
	int rc, refused;
	bool over;

	if (atomic_load(&s->error))
		return store_local_read_only(s, d);
	if (!a->prof)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: no profile");
	r.tenant = a->tenant && a->tenant[0] ? a->tenant : STORE_DEFAULT_TENANT;
	if (!store_tenant_ok(r.tenant))
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "store: bad tenant id \"%.70s\" (want [A-Za-z0-9_.-]{1,64})",
				      r.tenant);
	r.labels = a->labels;
	r.n_labels = a->n_labels;
	r.name = a->name;
	for (size_t i = 0; !r.name && i < a->n_labels; i++)
		if (a->labels[i].name && !strcmp(a->labels[i].name, STORE_LABEL_NAME))
			r.name = a->labels[i].value;
	if (!r.name || !r.name[0])
		r.name = "unknown";
	r.time_ns = a->time_ns ? a->time_ns : prof_meta_get(a->prof)->time_ns;
	if (!r.time_ns) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		r.time_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	r.prof = a->prof;
	r.stacks = a->stacks;
	rc = store_split_build(r.prof, r.labels, r.n_labels, &s->lim, &split, d);
	if (rc)
		return rc;
	r.split = &split;
	gate_enter(s);
	rc = prepare_and_queue(s, &r, &pd, &ticket, &refused, d);
	if (refused) {
		gate_leave(s);
		store_split_fini(&split);
		return refused;
	}
	over = rc == -EMBER_ELIMIT;
	if (over)
		rc = 0; /* the dictionary delta is queued: wait for it like any record */
	if (!rc)
		rc = store_wal_wait(s->wal, &ticket); /* and pd is in the head when it returns 0 */
	store_pending_fini(&pd);
	gate_leave(s);
	store_split_fini(&split);
	if (!rc && over)
		return ember_diag_set(d, -EMBER_ELIMIT,
				      "store: profile larger than %" PRIu64 " bytes",
				      s->lim.max_profile_bytes);
	if (rc == -EROFS)
		return store_local_read_only(s, d);
	if (rc) {
		store_local_enter_error(s, rc);
		return ember_diag_set(d, rc,
				      "store: WAL write failed (%s); nothing was acknowledged and "
				      "the store is read-only until reopened",
				      ember_strerror(rc));
	}
	return 0;
}

/* Deletes WAL segments below seq (I3). */
static void drop_segments(struct store_local *s, uint64_t seq)
{
	uint64_t *segs;
	size_t n = list_segments(s, &segs);

	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + 64];

		if (segs[i] >= seq)
			continue;
		snprintf(path, sizeof(path), "%s/%016" PRIx64 ".wal", s->wal_dir, segs[i]);
		unlink(path);
	}
	mem_free(segs);
}

/* Writes a head tenant as a block, its dictionary first renumbered in the order the samples
 * reach its stacks (through the compaction path): the head numbers stack nodes level by level
 * as appends arrive (fast to intern, see head.c), which spreads a stack's nodes apart; the
 * renumbered dictionary and the node deltas of the chunks compress about 3% better, and
 * entries no sample uses are left out. */
static int write_tenant(struct store_local *s, const char *path, const struct store_sdata *sd)
{
	struct store_sdata tidy;
	int rc;

	if (store_compact_merge(&sd, 1, sd->tenant, &tidy))
		return store_block_write(s->iop, path, sd); /* cannot happen on head data */
	rc = store_block_write(s->iop, path, &tidy);
	store_sdata_fini(&tidy);
	return rc;
}

static int write_cut(struct store_local *s, const struct store_head *h, uint64_t seq,
		     struct blockset **added, struct ember_diag *d)
{
	char tdir[PATH_MAX + 64], fdir[PATH_MAX + 64], path[PATH_MAX + 200], name[24];
	struct blockset *nb = mem_calloc(MEM_STORE, 1, sizeof(*nb));
	int rc = 0;

	atomic_init(&nb->ref, 1);
	*added = nb;
	for (size_t i = 0; i < h->n_tenants; i++)
		rc |= h->tenants[i]->n_series != 0;
	if (!rc)
		return 0; /* nothing to write: the covered segments hold no records */
	rc = 0;
	snprintf(name, sizeof(name), "%016" PRIx64, seq);
	snprintf(tdir, sizeof(tdir), "%s/%s", s->tmp_dir, name);
	snprintf(fdir, sizeof(fdir), "%s/%s", s->blocks_dir, name);
	if (mkdir(tdir, 0755) && errno != EEXIST)
		return ember_diag_set(d, -errno, "store: cannot create %s", tdir);
	for (size_t i = 0; i < h->n_tenants && !rc; i++) {
		if (!h->tenants[i]->n_series)
			continue;
		snprintf(path, sizeof(path), "%s/%s.blk", tdir, h->tenants[i]->tenant);
		rc = write_tenant(s, path, h->tenants[i]);
		if (rc)
			ember_diag_set(d, rc, "store: writing block %s failed: %s", path,
				       ember_strerror(rc));
	}
	if (!rc && (rc = store_io_fsync_dir(s->iop, tdir)))
		ember_diag_set(d, rc, "store: fsync %s failed: %s", tdir, ember_strerror(rc));
	if (!rc && (rc = store_io_rename(s->iop, tdir, fdir))) /* (I2) one rename per cut */
		ember_diag_set(d, rc, "store: rename %s failed: %s", tdir, ember_strerror(rc));
	if (!rc && (rc = store_io_fsync_dir(s->iop, s->blocks_dir)))
		ember_diag_set(d, rc, "store: fsync %s failed: %s", s->blocks_dir,
			       ember_strerror(rc));
	if (rc)
		return rc;
	for (size_t i = 0; i < h->n_tenants; i++) {
		struct store_block *b;
		size_t cap = nb->n, off;

		if (!h->tenants[i]->n_series)
			continue;
		snprintf(path, sizeof(path), "%s/%s.blk", fdir, h->tenants[i]->tenant);
		rc = store_local_block_open(s, path, h->tenants[i]->tenant, name, seq, &b, &off);
		if (rc)
			return ember_diag_set(d, rc, "store: reopening %s failed at offset %zu: %s",
					      path, off, ember_strerror(rc));
		mem_grow(MEM_STORE, (void **)&nb->b, &cap, nb->n + 1, sizeof(*nb->b));
		nb->b[nb->n++] = b;
	}
	return 0;
}

static int local_cut(struct store *base, struct ember_diag *d)
{
	struct store_local *s = (struct store_local *)base;
	struct blockset *added = NULL, *merged, *old;
	uint64_t seq;
	int rc;

	pthread_mutex_lock(&s->cut_lock);
	if (atomic_load(&s->error)) {
		pthread_mutex_unlock(&s->cut_lock);
		return store_local_read_only(s, d);
	}
	seq = s->wal_seq + 1;
	gate_close(s); /* (I6) the new segment starts with the new, empty head */
	rc = store_wal_rotate(s->wal, seq);
	if (rc) {
		gate_open(s);
		store_local_enter_error(s, rc);
		pthread_mutex_unlock(&s->cut_lock);
		return ember_diag_set(d, rc, "store: WAL rotation failed: %s", ember_strerror(rc));
	}
	s->wal_seq = seq;
	s->max_cut = seq;
	pthread_rwlock_wrlock(&s->head_lock);
	s->frozen = s->head;
	s->head = store_head_new();
	pthread_rwlock_unlock(&s->head_lock);
	gate_open(s);

	rc = write_cut(s, s->frozen, seq, &added, d);
	if (rc) {
		/* the frozen head stays queryable; its WAL segments stay for the next open */
		store_local_enter_error(s, rc);
		store_local_blockset_unref(added);
		pthread_mutex_unlock(&s->cut_lock);
		return rc;
	}
	pthread_rwlock_wrlock(&s->head_lock);
	pthread_mutex_lock(&s->set_lock);
	old = s->blocks;
	merged = mem_calloc(MEM_STORE, 1, sizeof(*merged));
	atomic_init(&merged->ref, 1);
	merged->n = old->n + added->n;
	merged->b = mem_alloc(MEM_STORE, (merged->n ? merged->n : 1) * sizeof(*merged->b));
	for (size_t i = 0; i < old->n; i++) {
		merged->b[i] = old->b[i];
		atomic_fetch_add(&old->b[i]->ref, 1);
	}
	for (size_t i = 0; i < added->n; i++) {
		merged->b[old->n + i] = added->b[i];
		atomic_fetch_add(&added->b[i]->ref, 1);
	}
	s->blocks = merged;
	pthread_mutex_unlock(&s->set_lock);
	store_head_free(s->frozen);
	s->frozen = NULL;
	pthread_rwlock_unlock(&s->head_lock);
	store_local_blockset_unref(old);
	store_local_blockset_unref(added);
	drop_segments(s, seq); /* (I3) after the blocks are durable */
	pthread_mutex_unlock(&s->cut_lock);
	return 0;
}

static void *bg_main(void *arg)
{
	struct store_local *s = arg;
	unsigned ticks = 0;

	pthread_mutex_lock(&s->bg_mu);
	while (!s->bg_stop) {
		struct timespec ts;
		bool due;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&s->bg_cv, &s->bg_mu, &ts);
		if (s->bg_stop)
			break;
		pthread_rwlock_rdlock(&s->head_lock);
		due = s->head->n_prof && (s->head->bytes >= s->head_max ||
					  s->head->max_t - s->head->min_t >= s->block_ns);
		pthread_rwlock_unlock(&s->head_lock);
		if (due && !atomic_load(&s->error)) {
			pthread_mutex_unlock(&s->bg_mu);
			if (local_cut(&s->base, NULL) == 0)
				(void)store_local_compact(&s->base, NULL);
			pthread_mutex_lock(&s->bg_mu);
		} else if (++ticks % 600 == 0 && !atomic_load(&s->error)) {
			pthread_mutex_unlock(&s->bg_mu);
			(void)store_local_compact(&s->base, NULL); /* retention also when idle */
			pthread_mutex_lock(&s->bg_mu);
		}
	}
	pthread_mutex_unlock(&s->bg_mu);
	return NULL;
}

/* Runs one query over head, frozen head and the tenant's blocks. */
static int run_query(struct store_local *s, const struct store_qargs *a, struct prof **prof,
		     struct store_result **res, struct ember_diag *d)
{
	const char *tenant = a->q->tenant && a->q->tenant[0] ? a->q->tenant : STORE_DEFAULT_TENANT;
	struct store_qctx *c;
	struct blockset *bs;
	int rc;

	if (prof)
		*prof = NULL;
	if (res)
		*res = NULL;
	if (!store_tenant_ok(tenant))
		return ember_diag_set(d, -EMBER_EUSAGE, "store: bad tenant id");
	rc = store_qctx_new(a, &c, d);
	if (rc)
		return rc;
	pthread_rwlock_rdlock(&s->head_lock);
	bs = store_local_blockset_get(s); /* under head_lock: consistent with the frozen head */
	rc = store_qctx_feed(c, store_head_tenant(s->head, tenant), d);
	if (!rc && s->frozen)
		rc = store_qctx_feed(c, store_head_tenant(s->frozen, tenant), d);
	pthread_rwlock_unlock(&s->head_lock);
	for (size_t i = 0; i < bs->n && !rc; i++)
		if (!strcmp(bs->b[i]->sd.tenant, tenant))
			rc = store_qctx_feed(c, &bs->b[i]->sd, d);
	store_local_blockset_unref(bs);
	if (rc) {
		store_qctx_free(c);
		return rc;
	}
	atomic_fetch_add(&s->rollup_reads, store_qctx_rollups(c));
	return store_qctx_finish(c, prof, res);
}

static int local_label_names(struct store *base, const struct store_query *q,
			     struct store_result **out, struct ember_diag *d)
{
	struct store_qargs a = {.kind = STORE_Q_NAMES, .q = q};

	return run_query((struct store_local *)base, &a, NULL, out, d);
}

static int local_label_values(struct store *base, const struct store_query *q, const char *name,
			      struct store_result **out, struct ember_diag *d)
{
	struct store_qargs a = {.kind = STORE_Q_VALUES, .q = q, .name = name};

	if (!name)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: label name required");
	return run_query((struct store_local *)base, &a, NULL, out, d);
}

static int local_series(struct store *base, const struct store_query *q, struct store_result **out,
			struct ember_diag *d)
{
	struct store_qargs a = {.kind = STORE_Q_SERIES, .q = q};

	return run_query((struct store_local *)base, &a, NULL, out, d);
}

static int local_select_merge(struct store *base, const struct store_query *q,
			      const uint64_t *spans, size_t n_spans, struct prof **out,
			      struct ember_diag *d)
{
	struct store_qargs a = {.kind = STORE_Q_MERGE, .q = q, .spans = spans, .n_spans = n_spans};

	return run_query((struct store_local *)base, &a, out, NULL, d);
}

static int local_select_series(struct store *base, const struct store_query *q,
			       const struct store_series_opts *o, struct store_result **out,
			       struct ember_diag *d)
{
	struct store_qargs a = {
		.kind = STORE_Q_SELECT_SERIES, .q = q, .so = o, .step_ns = o->step_ns};

	return run_query((struct store_local *)base, &a, NULL, out, d);
}

static int local_function_series(struct store *base, const struct store_query *q,
				 const char *function, int64_t step_ns, struct store_result **out,
				 struct ember_diag *d)
{
	struct store_qargs a = {
		.kind = STORE_Q_FUNC_SERIES, .q = q, .function = function, .step_ns = step_ns};

	if (!function)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: function name required");
	return run_query((struct store_local *)base, &a, NULL, out, d);
}

static void local_stats(struct store *base, struct store_stats *st)
{
	struct store_local *s = (struct store_local *)base;
	struct blockset *bs;

	memset(st, 0, sizeof(*st));
	st->appends = atomic_load(&s->appends);
	st->fsyncs = store_wal_fsyncs(s->wal);
	st->replayed = atomic_load(&s->replayed);
	st->truncated_bytes = atomic_load(&s->truncated);
	st->quarantined = atomic_load(&s->quarantined);
	st->skipped_records = atomic_load(&s->skipped);
	st->compactions = atomic_load(&s->compactions);
	st->dropped_blocks = atomic_load(&s->dropped);
	st->rollup_reads = atomic_load(&s->rollup_reads);
	st->error = atomic_load(&s->error);
	pthread_rwlock_rdlock(&s->head_lock);
	for (size_t i = 0; i < s->head->n_tenants; i++)
		st->head_series += s->head->tenants[i]->n_series;
	st->head_profiles = s->head->n_prof;
	st->head_samples = s->head->n_smp;
	st->head_bytes = s->head->bytes;
	pthread_rwlock_unlock(&s->head_lock);
	bs = store_local_blockset_get(s);
	st->blocks = bs->n;
	for (size_t i = 0; i < bs->n; i++) {
		const struct store_sspace *sp = bs->b[i]->sd.space;
		bool seen = !sp;

		st->block_bytes += bs->b[i]->map_len;
		st->block_samples += bs->b[i]->sd.n_smp;
		for (size_t k = 0; k < i && !seen; k++)
			seen = bs->b[k]->sd.space == sp;
		if (!seen) {
			st->stack_spaces++;
			st->space_nodes += store_sspace_nodes(sp);
		}
	}
	store_local_blockset_unref(bs);
}

static const struct store_ops local_ops = {
	.name = "local",
	.takes_stacks = true,
	.append = local_append,
	.label_names = local_label_names,
	.label_values = local_label_values,
	.series = local_series,
	.select_merge = local_select_merge,
	.select_series = local_select_series,
	.function_series = local_function_series,
	.top = NULL,
	.cut = local_cut,
	.compact = store_local_compact,
	.stats = local_stats,
	.close = local_close,
};

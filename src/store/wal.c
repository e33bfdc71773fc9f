/*
 * wal.c — the write-ahead log: checksummed length-prefixed records appended to numbered
 * segment files, group commit (leader/follower: appenders queue their record in memory under
 * a mutex; the first that finds no leader running becomes the leader and writes and fsyncs
 * everything queued so far in one write and one fsync, the others sleep on a futex until
 * their group is durable), segment
 * rotation for block cuts, and the parser used by replay and the fuzzer.
 * Also the I/O shim wrappers every file write of the store goes through, and the record codec.
 * Owns the open segment fd. Never logs. After a failed write or fsync the WAL is stuck in its
 * error (I1: nothing is acknowledged that is not fsynced).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

static const uint8_t wal_magic[8] = {'E', 'M', 'B', 'E', 'R', 'W', 'A', 'L'};
#define WAL_VERSION 1

/* I/O shim. */

int store_io_open(const struct store_io *io, const char *path, int flags, mode_t mode)
{
	int fd;

	if (io && io->open)
		return io->open(io->ctx, path, flags, mode);
	fd = open(path, flags | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

int store_io_write_all(const struct store_io *io, int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = io && io->write ? io->write(io->ctx, fd, b, n) : write(fd, b, n);

		if (!(io && io->write) && w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w < 0)
			return (int)w;
		if (w == 0)
			return -EIO;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int store_io_fsync(const struct store_io *io, int fd)
{
	if (io && io->fsync)
		return io->fsync(io->ctx, fd);
	return fsync(fd) ? -errno : 0;
}

/* For the WAL's groups: the segment's blocks exist already (seg_extend), so the data alone. */
static int store_io_fdatasync(const struct store_io *io, int fd)
{
	if (io && io->fsync)
		return io->fsync(io->ctx, fd);
	return fdatasync(fd) ? -errno : 0;
}

int store_io_rename(const struct store_io *io, const char *from, const char *to)
{
	if (io && io->rename)
		return io->rename(io->ctx, from, to);
	return rename(from, to) ? -errno : 0;
}

int store_io_fsync_dir(const struct store_io *io, const char *dir)
{
	int fd = store_io_open(io, dir, O_RDONLY | O_DIRECTORY, 0), rc;

	if (fd < 0)
		return fd;
	rc = store_io_fsync(io, fd);
	close(fd);
	return rc;
}

/* Record payload. */

static void wr_str(struct store_wr *w, const char *s)
{
	size_t n = strlen(s);

	store_wr_uv(w, n);
	store_wr_bytes(w, s, n);
}

void store_rec_encode(struct store_wr *w, const struct store_rec *r)
{
	store_wr_uv(w, 1); /* record type: append */
	wr_str(w, r->tenant);
	wr_str(w, r->name);
	store_wr_sv(w, r->time_ns);
	store_wr_uv(w, r->n_labels);
	for (size_t i = 0; i < r->n_labels; i++) {
		wr_str(w, r->labels[i].name);
		wr_str(w, r->labels[i].value);
	}
	store_prof_encode(w, r->prof, true);
}

static const char *rd_str(struct store_rd *r, struct arena *a)
{
	uint64_t n = store_rd_count(r, 1, 1u << 20);
	const uint8_t *p = store_rd_bytes(r, (size_t)n);

	if (!p)
		return "";
	if (memchr(p, 0, (size_t)n)) {
		r->err = -EMBER_ECORRUPT;
		return "";
	}
	return arena_strndup(a, (const char *)p, (size_t)n);
}

int store_rec_decode(const uint8_t *p, size_t n, struct arena *a, struct store_rec *rec,
		     struct prof **prof_out)
{
	struct store_rd r;
	struct store_label *labels;
	uint64_t nl;

	*prof_out = NULL;
	memset(rec, 0, sizeof(*rec));
	store_rd_init(&r, p, n);
	if (store_rd_uv(&r) != 1)
		return -EMBER_ECORRUPT;
	rec->tenant = rd_str(&r, a);
	rec->name = rd_str(&r, a);
	rec->time_ns = store_rd_sv(&r);
	nl = store_rd_count(&r, 2, 1024);
	labels = arena_calloc(a, nl ? nl : 1, sizeof(*labels));
	for (uint64_t i = 0; i < nl; i++) {
		labels[i].name = rd_str(&r, a);
		labels[i].value = rd_str(&r, a);
	}
	rec->labels = labels;
	rec->n_labels = nl;
	if (r.err || !rec->tenant[0] || !rec->name[0])
		return -EMBER_ECORRUPT;
	if (store_prof_decode(&r, prof_out))
		return -EMBER_ECORRUPT;
	if (r.p != r.end) {
		prof_free(*prof_out);
		*prof_out = NULL;
		return -EMBER_ECORRUPT;
	}
	rec->prof = *prof_out;
	return 0;
}

/* Delta records (type 2): the tenant dictionary's new entries, then per series its labels and
 * samples in dictionary ids. */

void store_drec_encode_head(struct store_wr *w, const char *tenant, int64_t time_ns)
{
	store_wr_uv(w, 2); /* record type: delta append */
	wr_str(w, tenant);
	store_wr_sv(w, time_ns);
}

void store_drec_encode_series(struct store_wr *w, const struct store_dseries *ds, size_t n)
{
	store_wr_uv(w, n);
	for (size_t i = 0; i < n; i++) {
		const struct store_dseries *x = &ds[i];

		store_wr_uv(w, x->n_pairs);
		for (uint32_t k = 0; k < 2 * x->n_pairs; k++)
			store_wr_uv(w, x->pairs[k]);
		store_wr_sv(w, x->dur);
		store_wr_sv(w, x->period);
		store_wr_uv(w, x->n_smp);
		store_wr_bytes(w, x->enc, x->enc_len); /* flags, then the samples */
	}
}

/* One series of a delta record, every id checked against dict. */
static void rd_dseries(struct store_rd *r, struct arena *a, const struct prof *dict,
		       struct store_dseries *x)
{
	uint32_t ns = prof_n_strings(dict), nn = prof_n_nodes(dict), node = 0;
	uint64_t flags, spans;

	x->n_pairs = (uint32_t)store_rd_count(r, 2, 1024);
	x->pairs = arena_alloc(a, (size_t)(x->n_pairs ? x->n_pairs : 1) * 8);
	for (uint32_t k = 0; k < 2 * x->n_pairs && !r->err; k++) {
		uint64_t v = store_rd_uv(r);

		if (v >= ns)
			r->err = -EMBER_ECORRUPT;
		x->pairs[k] = (uint32_t)v;
	}
	for (uint32_t k = 1; k < x->n_pairs && !r->err; k++) /* names strictly ascending */
		if (strcmp(prof_string(dict, x->pairs[2 * k - 2]),
			   prof_string(dict, x->pairs[2 * k])) >= 0)
			r->err = -EMBER_ECORRUPT;
	if (!r->err && x->n_pairs == 0)
		r->err = -EMBER_ECORRUPT;
	x->dur = store_rd_sv(r);
	x->period = store_rd_sv(r);
	x->n_smp = store_rd_count(r, 2, UINT32_MAX);
	flags = store_rd_uv(r);
	spans = flags & 1;
	if (r->err || flags > 3 || ((flags & 2) && x->period <= 1)) {
		r->err = -EMBER_ECORRUPT;
		x->n_smp = 0;
		return;
	}
	x->smp = arena_alloc(a, (x->n_smp ? x->n_smp : 1) * sizeof(*x->smp));
	for (size_t k = 0; k < x->n_smp && !r->err; k++) {
		uint64_t d = store_rd_uv(r);
		struct store_smp *m = &x->smp[k];

		if (d >= nn - node) {
			r->err = -EMBER_ECORRUPT;
			break;
		}
		node += (uint32_t)d;
		m->node = node;
		m->value = store_rd_sv(r);
		if ((flags & 2) && __builtin_mul_overflow(m->value, x->period, &m->value))
			r->err = -EMBER_ECORRUPT; /* stored per period: multiplied back */
		m->span = spans ? store_rd_uv(r) : 0;
		/* strictly ascending by (node, span) */
		if (k && d == 0 && m->span <= x->smp[k - 1].span)
			r->err = -EMBER_ECORRUPT;
	}
}

int store_drec_decode(const uint8_t *p, size_t n, struct arena *a,
		      struct prof *(*dict_for)(void *ctx, const char *tenant,
					       const struct store_dict_mark *at),
		      void *ctx, struct store_drec *out)
{
	struct store_rd r;
	struct store_dict_mark at;
	struct prof *dict;

	memset(out, 0, sizeof(*out));
	store_rd_init(&r, p, n);
	if (store_rd_uv(&r) != 2)
		return -EMBER_ECORRUPT;
	out->tenant = rd_str(&r, a);
	out->time_ns = store_rd_sv(&r);
	if (r.err || !out->tenant[0])
		return -EMBER_ECORRUPT;
	store_dict_read_mark(&r, &at);
	dict = r.err ? NULL : dict_for(ctx, out->tenant, &at);
	if (!dict || store_dict_decode_entries(&r, dict, &at))
		return -EMBER_ECORRUPT;
	out->n_series = store_rd_count(&r, 6, 1u << 20);
	out->series = arena_calloc(a, out->n_series ? out->n_series : 1, sizeof(*out->series));
	for (size_t i = 0; i < out->n_series && !r.err; i++)
		rd_dseries(&r, a, dict, &out->series[i]);
	if (r.err || r.p != r.end)
		return -EMBER_ECORRUPT;
	return 0;
}

int store_rec_type(const uint8_t *p, size_t n)
{
	struct store_rd r;
	uint64_t t;

	store_rd_init(&r, p, n);
	t = store_rd_uv(&r);
	return r.err || t < 1 || t > 2 ? 0 : (int)t;
}

/* The writer. */

/* Commit groups. The records queued while pend is group g are written and fsynced together by
 * one leader (one of their appenders), which then makes them visible (on_durable) and
 * publishes them. Two stages overlap: group g's on_durable runs while group g+1 is written
 * and fsynced, since on_durable waits for the head lock, which appenders preparing their
 * records hold. Groups finish in order: leader g+1 waits after its fsync until group g has
 * finished (commit_turn), and only then lets group g+2 start, so at most three groups live
 * at once (finishing, in fsync, queueing): GROUP_SLOTS wake words. */
#define GROUP_SLOTS 3

/* Segments are extended with zeros ahead of the records, WAL_PREALLOC bytes at a time: a
 * group's write then lands in blocks the file has already, so its fdatasync writes the data
 * alone, not the inode too (about half the time on ext4). A zero length ends the log for the
 * parser (no record is empty), and replay drops a zero tail without calling it torn. */
#define WAL_PREALLOC ((uint64_t)1 << 20)

struct store_wal {
	const struct store_io *io;
	char dir[PATH_MAX];
	pthread_mutex_t mu;
	pthread_cond_t state_cv; /* rotation and the finishing turn: changes of rotating,
				    syncing and commit_turn */
	/* Appenders sleep on their group's wake word (a futex): wake[g % GROUP_SLOTS]. A
	 * finished group wakes its own word; a leader done with fsync passes the lead to one
	 * appender of the next group; neither wakes every waiter to take the mutex and, mostly,
	 * go back to sleep. Waiters read the atomics without the mutex; each is written under
	 * it, before a wake word is bumped. */
	atomic_uint wake[GROUP_SLOTS];
	atomic_uint sleepers[GROUP_SLOTS]; /* appenders in (or entering) futex_wait */
	atomic_uint_fast64_t synced;	   /* bytes durable and made visible */
	atomic_uint_fast64_t group;	   /* the number of the group queueing in pend */
	atomic_uint_fast64_t commit_turn;  /* groups below it have finished */
	atomic_int err;			   /* sticky */
	atomic_bool syncing; /* a leader has taken a group and not yet let the next start */
	int fd;		     /* guarded by mu; the open segment */
	uint64_t seq;	     /* its number */
	uint64_t seg_pos;    /* its bytes in use (header and records); the leader's */
	uint64_t seg_end;    /* its bytes on disk, the zeros after seg_pos included */
	uint64_t written;    /* bytes queued over all segments */
	struct buf pend;     /* records queued for the next leader; guarded by mu */
	struct buf flight;   /* the bytes the leader writes; the leader's alone */
	/* The cookies of pend's records, in queue order, for on_durable; guarded by mu. A leader
	 * takes them with the records. */
	struct cookies {
		void **v;
		size_t n, cap;
	} pend_ck;
	void (*on_durable)(void *ctx, void *const *ck, size_t n);
	void *ctx;
	bool rotating;	   /* a rotation waits for the leaders */
	uint32_t delay_us; /* leader's wait for followers */
	atomic_uint_fast64_t fsyncs;
};

/* Sleeps while wake[i] still reads seen. Counted in sleepers[i] before the futex compares
 * the word, so a waker that bumped the word after seen was read either sees the sleeper or
 * makes the futex return at once (all sequentially consistent). EAGAIN and EINTR return: the
 * caller checks again. */
static void futex_wait(struct store_wal *w, unsigned i, unsigned seen)
{
	atomic_fetch_add(&w->sleepers[i], 1);
	syscall(SYS_futex, &w->wake[i], FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
	atomic_fetch_sub(&w->sleepers[i], 1);
}

/* Bumps wake[i] and wakes up to n of its sleepers; no system call when none sleeps. */
static void futex_wake(struct store_wal *w, unsigned i, int n)
{
	atomic_fetch_add(&w->wake[i], 1);
	if (atomic_load(&w->sleepers[i]))
		syscall(SYS_futex, &w->wake[i], FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Extends the segment with zeros up to past need (a failure leaves the rest to grow as
 * records are written: only slower). The file offset, where records go, does not move. */
static void seg_extend(int fd, uint64_t *end, uint64_t need)
{
	static const uint8_t zero[64 << 10];
	uint64_t to = (need / WAL_PREALLOC + 1) * WAL_PREALLOC;

	while (*end < to) {
		ssize_t n =
			pwrite(fd, zero, (size_t)EMBER_MIN(sizeof(zero), to - *end), (off_t)*end);

		if (n <= 0)
			return;
		*end += (uint64_t)n;
	}
}

/* The open segment without its zero tail, when it is done with (best effort: replay drops
 * zeros too). */
static void seg_trim(struct store_wal *w)
{
	if (w->seg_end > w->seg_pos && !atomic_load(&w->err) &&
	    !ftruncate(w->fd, (off_t)w->seg_pos))
		w->seg_end = w->seg_pos;
}

/* A new segment: its header, then zeros (seg_extend); *end = its bytes on disk. */
static int segment_create(struct store_wal *w, uint64_t seq, int *fd_out, uint64_t *end)
{
	char path[PATH_MAX + 32];
	uint8_t hdr[STORE_WAL_HDR_BYTES];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%016llx.wal", w->dir, (unsigned long long)seq);
	fd = store_io_open(w->io, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	memcpy(hdr, wal_magic, 8);
	store_put_u32le(hdr + 8, WAL_VERSION);
	store_put_u32le(hdr + 12, store_crc32c(0, hdr, 12));
	rc = store_io_write_all(w->io, fd, hdr, sizeof(hdr));
	*end = sizeof(hdr);
	if (!rc)
		seg_extend(fd, end, sizeof(hdr));
	if (!rc)
		rc = store_io_fsync(w->io, fd);
	if (!rc)
		rc = store_io_fsync_dir(w->io, w->dir);
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

int store_wal_open(const char *dir, const struct store_io *io, uint64_t seq, uint32_t delay_us,
		   void (*on_durable)(void *ctx, void *const *ck, size_t n), void *ctx,
		   struct store_wal **out)
{
	struct store_wal *w = mem_calloc(MEM_STORE, 1, sizeof(*w));
	int rc;

	*out = NULL;
	w->io = io;
	w->on_durable = on_durable;
	w->ctx = ctx;
	snprintf(w->dir, sizeof(w->dir), "%s", dir);
	w->delay_us = delay_us;
	buf_init(&w->pend, MEM_STORE, SIZE_MAX);
	buf_init(&w->flight, MEM_STORE, SIZE_MAX);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->state_cv, NULL);
	rc = segment_create(w, seq, &w->fd, &w->seg_end);
	w->seg_pos = STORE_WAL_HDR_BYTES;
	if (rc) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->state_cv);
		buf_fini(&w->pend);
		buf_fini(&w->flight);
		mem_free(w);
		return rc;
	}
	w->seq = seq;
	*out = w;
	return 0;
}

void store_wal_close(struct store_wal *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		seg_trim(w);
		close(w->fd);
	}
	buf_fini(&w->pend);
	buf_fini(&w->flight);
	mem_free(w->pend_ck.v);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->state_cv);
	mem_free(w);
}

/* Wakes every appender of every group (after an error). */
static void wake_all(struct store_wal *w)
{
	for (unsigned i = 0; i < GROUP_SLOTS; i++)
		futex_wake(w, i, INT_MAX);
}

/* The leader's turn, entered and left with mu held: takes everything queued as group g, writes
 * it (one write) and fsyncs it outside the mutex, waits until group g-1 has finished, lets the
 * next group start, makes its appends visible (on_durable, outside the mutex), publishes how
 * far the log is durable and wakes the group. */
static void wal_lead(struct store_wal *w)
{
	struct buf t;
	struct cookies ck;
	uint64_t target, g;
	int fd = w->fd, rc;

	atomic_store(&w->syncing, true);
	if (w->delay_us) {
		pthread_mutex_unlock(&w->mu);
		usleep(w->delay_us);
		pthread_mutex_lock(&w->mu);
	}
	t = w->flight; /* swap: appenders keep queueing into the empty buffer meanwhile */
	w->flight = w->pend;
	w->pend = t;
	ck = w->pend_ck; /* ours until we finish */
	memset(&w->pend_ck, 0, sizeof(w->pend_ck));
	target = w->written;
	g = atomic_fetch_add(&w->group, 1);
	pthread_mutex_unlock(&w->mu);
	if (w->seg_pos + w->flight.len > w->seg_end)
		seg_extend(fd, &w->seg_end, w->seg_pos + w->flight.len);
	rc = w->flight.len ? store_io_write_all(w->io, fd, w->flight.data, w->flight.len) : 0;
	w->seg_pos += w->flight.len;
	if (!rc) {
		rc = store_io_fdatasync(w->io, fd);
		atomic_fetch_add(&w->fsyncs, 1);
	}
	if (w->flight.cap > ((size_t)8 << 20)) { /* keep a typical group's buffer, not a burst's */
		buf_fini(&w->flight);
		buf_init(&w->flight, MEM_STORE, SIZE_MAX);
	}
	w->flight.len = 0;
	pthread_mutex_lock(&w->mu);
	if (rc && !atomic_load(&w->err)) {
		atomic_store(&w->err, rc); /* (I1) a torn group is never acknowledged; replay
					       truncates it */
		wake_all(w);
	}
	while (atomic_load(&w->commit_turn) != g)
		pthread_cond_wait(&w->state_cv, &w->mu);
	atomic_store(&w->syncing, false);
	if (w->pend.len && !atomic_load(&w->err))
		futex_wake(w, (unsigned)((g + 1) % GROUP_SLOTS), 1); /* one of them leads next */
	pthread_mutex_unlock(&w->mu);
	if (!rc && w->on_durable && ck.n) /* before anyone of the group returns */
		w->on_durable(w->ctx, ck.v, ck.n);
	mem_free(ck.v);
	pthread_mutex_lock(&w->mu);
	if (!rc && target > atomic_load(&w->synced))
		atomic_store(&w->synced, target);
	atomic_store(&w->commit_turn, g + 1);
	pthread_cond_broadcast(&w->state_cv);
	futex_wake(w, (unsigned)(g % GROUP_SLOTS), INT_MAX); /* the group has finished */
}

/* frame: n bytes, the first 8 reserved for the length and checksum. The record is queued in
 * memory under the mutex (a copy); store_wal_wait then waits until it is durable: whoever
 * finds no leader running becomes the leader and writes and fsyncs every queued record at
 * once, so concurrent appends share one write and one fsync (group commit). Records reach the
 * file in enqueue order. */
int store_wal_enqueue(struct store_wal *w, void *frame, size_t n, void *cookie,
		      struct store_wal_ticket *t)
{
	uint8_t *f = frame;
	int rc;

	if (n <= 8 || n - 8 > STORE_WAL_MAX_REC)
		return -EMBER_ELIMIT;
	store_put_u32le(f, (uint32_t)(n - 8));
	store_put_u32le(f + 4, store_crc32c(store_crc32c(0, f, 4), f + 8, n - 8));
	pthread_mutex_lock(&w->mu);
	while (w->rotating)
		pthread_cond_wait(&w->state_cv, &w->mu);
	if (atomic_load(&w->err)) {
		pthread_mutex_unlock(&w->mu);
		return -EROFS;
	}
	rc = buf_append(&w->pend, f, n);
	if (rc) {
		pthread_mutex_unlock(&w->mu);
		return rc;
	}
	if (cookie) {
		mem_grow(MEM_STORE, (void **)&w->pend_ck.v, &w->pend_ck.cap, w->pend_ck.n + 1,
			 sizeof(void *));
		w->pend_ck.v[w->pend_ck.n++] = cookie;
	}
	w->written += n;
	t->end = w->written;
	t->group = w->group;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int store_wal_wait(struct store_wal *w, const struct store_wal_ticket *t)
{
	unsigned i = (unsigned)(t->group % GROUP_SLOTS);

	for (;;) {
		unsigned seen = atomic_load(&w->wake[i]); /* before the checks: a bump after them
							     ends the sleep at once */
		int e;

		if (t->group < atomic_load(&w->commit_turn)) /* finished: nothing uses t now */
			return atomic_load(&w->synced) >= t->end ? 0 : atomic_load(&w->err);
		e = atomic_load(&w->err);
		if (t->group == atomic_load(&w->group)) { /* still queued */
			if (e)
				return e; /* no leader starts after an error: never written */
			if (!atomic_load(&w->syncing)) {
				pthread_mutex_lock(&w->mu);
				if (!atomic_load(&w->syncing) && !atomic_load(&w->err) &&
				    t->group == atomic_load(&w->group))
					wal_lead(w);
				pthread_mutex_unlock(&w->mu);
				continue;
			}
		}
		futex_wait(w, i, seen);
	}
}

int store_wal_rotate(struct store_wal *w, uint64_t seq)
{
	uint64_t end;
	int fd, rc;

	pthread_mutex_lock(&w->mu);
	while (w->rotating)
		pthread_cond_wait(&w->state_cv, &w->mu);
	w->rotating = true;
	/* what is queued goes to the old segment; every group finishes first */
	while (!atomic_load(&w->err)) {
		if (atomic_load(&w->syncing) ||
		    atomic_load(&w->commit_turn) != atomic_load(&w->group))
			pthread_cond_wait(&w->state_cv, &w->mu);
		else if (w->pend.len)
			wal_lead(w);
		else
			break;
	}
	rc = atomic_load(&w->err) ? -EROFS : segment_create(w, seq, &fd, &end);
	if (!rc) {
		seg_trim(w);
		close(w->fd);
		w->fd = fd;
		w->seq = seq;
		w->seg_pos = STORE_WAL_HDR_BYTES;
		w->seg_end = end;
	} else if (!atomic_load(&w->err)) {
		atomic_store(&w->err, rc);
		wake_all(w);
	}
	w->rotating = false;
	pthread_cond_broadcast(&w->state_cv);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

uint64_t store_wal_fsyncs(const struct store_wal *w)
{
	return atomic_load(&((struct store_wal *)w)->fsyncs);
}

int store_wal_error(const struct store_wal *w)
{
	return atomic_load(&((struct store_wal *)w)->err);
}

/* The parser. */

bool store_wal_zero_tail(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int store_wal_parse(const uint8_t *p, size_t n, int (*cb)(void *ctx, const uint8_t *rec, size_t n),
		    void *ctx, size_t *valid_len)
{
	size_t off = STORE_WAL_HDR_BYTES;

	*valid_len = 0;
	if (n < STORE_WAL_HDR_BYTES)
		return 0; /* torn while being created: empty */
	if (memcmp(p, wal_magic, 8) || store_get_u32le(p + 12) != store_crc32c(0, p, 12))
		return -EMBER_ECORRUPT;
	if (store_get_u32le(p + 8) != WAL_VERSION)
		return -EMBER_EVERSION;
	*valid_len = off;
	while (n - off >= 8) {
		uint32_t len = store_get_u32le(p + off), crc = store_get_u32le(p + off + 4);
		int rc;

		if (len == 0 || len > STORE_WAL_MAX_REC || len > n - off - 8)
			break;
		if (store_crc32c(store_crc32c(0, p + off, 4), p + off + 8, len) != crc)
			break;
		rc = cb ? cb(ctx, p + off + 8, len) : 0;
		if (rc)
			return rc;
		off += 8 + (size_t)len;
		*valid_len = off;
	}
	return 0;
}

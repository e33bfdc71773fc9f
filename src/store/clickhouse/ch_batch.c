/*
 * ch_batch.c — the ClickHouse backend's writer: appends from many threads share batches (group
 * commit). An append copies its rows into the open batch and waits; one thread takes the open
 * batch when it holds batch_rows sample rows or flush_ms after its first row, INSERTs it table
 * by table (dictionaries first, samples last) and wakes the appends of that batch with the
 * result. Memory is bounded: when the open plus the in-flight batch exceed max_pending bytes,
 * appends fail at once with -ENOBUFS (the server answers 429). A failed insert is retried for
 * retry_ms (tables that got HTTP 200 are not sent again); then the batch's appends fail with
 * -EAGAIN (503). While ClickHouse is known to be down (the last insert or probe failed) a batch
 * gets one attempt, so appends fail fast. Every profiles/samples row carries the batch's random id, so after an
 * ambiguous failure (timeout, connection lost mid-request) the writer counts the rows of that
 * id before sending them again: nothing is inserted twice. When idle the thread probes
 * ClickHouse every second (health for /ready) and applies partition retention hourly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "store/clickhouse/ch.h"

#define CH_RESULTS	256 /* results kept for waiters, by batch sequence number */
#define CH_PROBE_NS	1000000000LL
#define CH_RETENTION_NS (3600LL * 1000000000LL)
#define CH_BACKOFF_MS	100
#define CH_BACKOFF_MAX	1000

const char *const ch_table_names[CH_T_N] = {"symbols", "stacks", "series", "profiles", "samples"};

struct ch_batch {
	struct buf t[CH_T_N];
	size_t lines[CH_T_N]; /* rows per table */
	size_t n_samples;
	int64_t t_min, t_max;
	int64_t first_ns; /* monotonic time of the first row */
	uint64_t id;	  /* the batch column of its profiles/samples rows */
	size_t bytes;
};

struct ch_result {
	uint64_t seq;
	int rc;
	char msg[sizeof(((struct ember_diag *)0)->msg)];
};

struct ch_writer {
	struct ch_url u;
	struct ch_conn conn;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct ch_batch open, flushing;
	uint64_t open_seq;     /* sequence number of the open batch (first is 1) */
	uint64_t done_seq;     /* last batch whose result is known */
	size_t inflight_bytes; /* of the batch being inserted */
	struct ch_result results[CH_RESULTS];
	bool stop;
	int health; /* 0 or -EAGAIN */
	uint64_t id_base;
};

static int64_t ch_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void ch_batch_init(struct ch_batch *b, uint64_t max)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < CH_T_N; i++)
		buf_init(&b->t[i], MEM_STORE, (size_t)max);
}

static void ch_batch_reset(struct ch_batch *b)
{
	for (size_t i = 0; i < CH_T_N; i++) {
		buf_reset(&b->t[i]);
		b->lines[i] = 0;
	}
	b->n_samples = 0;
	b->bytes = 0;
	b->first_ns = 0;
}

static void ch_batch_fini(struct ch_batch *b)
{
	for (size_t i = 0; i < CH_T_N; i++)
		buf_fini(&b->t[i]);
}

/* Copies rows of table i, adding "\t<batch id>" to each line of profiles and samples. */
static int ch_batch_add(struct ch_batch *b, size_t i, const struct buf *src)
{
	const char *p = (const char *)src->data, *end = p + src->len;
	char id[24];
	int idl, rc = 0;

	if (i != CH_T_PROFILES && i != CH_T_SAMPLES) {
		for (const char *q = p; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++)
			b->lines[i]++;
		return buf_append(&b->t[i], p, src->len);
	}
	idl = snprintf(id, sizeof(id), "\t%llu\n", (unsigned long long)b->id);
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		rc = buf_append(&b->t[i], p, n);
		rc = rc ?: buf_append(&b->t[i], id, (size_t)idl);
		b->lines[i]++;
		p += n + 1;
	}
	return rc;
}

static size_t ch_rows_bytes(const struct ch_rows *r)
{
	size_t n = 0;

	for (size_t i = 0; i < CH_T_N; i++)
		n += r->t[i].len;
	return n + (r->n_samples + CH_T_N) * 22; /* the batch ids added to each row */
}

int ch_writer_append(struct ch_writer *w, const struct ch_rows *rows, struct ember_diag *d)
{
	struct ch_batch *b = &w->open;
	size_t need = ch_rows_bytes(rows), i;
	struct ch_result *res;
	uint64_t seq;
	int rc = 0;

	if (need > w->u.max_pending)
		return ember_diag_set(
			d, -EMBER_ELIMIT,
			"clickhouse: one append of %zu bytes is more than max_pending "
			"(%llu bytes)",
			need, (unsigned long long)w->u.max_pending);
	pthread_mutex_lock(&w->mu);
	if (w->stop) {
		pthread_mutex_unlock(&w->mu);
		return ember_diag_set(d, -EAGAIN, "clickhouse: the store is closing");
	}
	if (b->bytes + w->inflight_bytes + need > w->u.max_pending) {
		size_t pend = b->bytes + w->inflight_bytes;

		pthread_mutex_unlock(&w->mu);
		return ember_diag_set(d, -ENOBUFS,
				      "clickhouse: %zu bytes are waiting to be written to "
				      "ClickHouse (max_pending %llu); retry later",
				      pend, (unsigned long long)w->u.max_pending);
	}
	if (!b->bytes) {
		b->first_ns = ch_mono_ns();
		b->id = w->id_base + w->open_seq;
		b->t_min = rows->t_min;
		b->t_max = rows->t_max;
	}
	for (i = 0; !rc && i < CH_T_N; i++)
		rc = ch_batch_add(b, i, &rows->t[i]);
	if (rc) {
		/* Cannot happen within max_pending; the batch is unusable, fail it whole. */
		pthread_mutex_unlock(&w->mu);
		return ember_diag_set(d, -EMBER_ELIMIT, "clickhouse: batch buffer full");
	}
	b->n_samples += rows->n_samples;
	b->bytes += need;
	b->t_min = EMBER_MIN(b->t_min, rows->t_min);
	b->t_max = EMBER_MAX(b->t_max, rows->t_max);
	seq = w->open_seq;
	pthread_cond_signal(&w->work);
	while (w->done_seq < seq)
		pthread_cond_wait(&w->done, &w->mu);
	res = &w->results[seq % CH_RESULTS];
	if (res->seq != seq)
		rc = ember_diag_set(d, -EAGAIN, "clickhouse: the result of batch %llu was lost",
				    (unsigned long long)seq);
	else if (res->rc)
		rc = ember_diag_set(d, res->rc, "%s", res->msg);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static void ch_sleep_ms(uint32_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* After a failed insert of table i: how many of the batch's rows are there (-1 = unknown). */
static long long ch_rows_present(struct ch_writer *w, const struct ch_batch *b, size_t i)
{
	char sql[512];
	struct buf out;
	struct ember_diag d2 = {""};
	long long n = -1;

	snprintf(sql, sizeof(sql),
		 "SELECT count() FROM %s.%s WHERE time_ns >= %lld AND time_ns <= %lld AND "
		 "batch = %llu",
		 w->conn.db, ch_table_names[i], (long long)b->t_min, (long long)b->t_max,
		 (unsigned long long)b->id);
	buf_init(&out, MEM_STORE, 4096);
	if (!ch_query(&w->conn, sql, NULL, &out, &d2) && out.len) {
		buf_putc(&out, 0);
		n = strtoll((const char *)out.data, NULL, 10);
	}
	buf_fini(&out);
	return n;
}

/* Inserts the batch, retrying for retry_ms (one attempt when ClickHouse is known to be down:
 * 503 at once, the next batch tries again); res gets the outcome. */
static void ch_flush(struct ch_writer *w, struct ch_batch *b, bool down, struct ch_result *res)
{
	bool done[CH_T_N] = {false}, check[CH_T_N] = {false};
	int64_t deadline = ch_mono_ns() + (down ? 0 : (int64_t)w->u.retry_ms * 1000000);
	uint32_t backoff = CH_BACKOFF_MS;
	struct ember_diag d = {""};
	int rc = 0;

	for (;;) {
		size_t i;

		rc = 0;
		for (i = 0; i < CH_T_N && !rc; i++) {
			char sql[256];

			if (done[i] || !b->t[i].len)
				continue;
			if (check[i]) {
				long long have = ch_rows_present(w, b, i);

				if (have < 0) {
					rc = ember_diag_set(&d, -EAGAIN,
							    "clickhouse: %s unreachable while "
							    "checking an interrupted insert",
							    w->conn.base_url);
					break;
				}
				if ((size_t)have == b->lines[i]) {
					done[i] = true;
					continue;
				}
				if (have) {
					rc = ember_diag_set(&d, -EAGAIN,
							    "clickhouse: batch %llu is partly in "
							    "%s (%lld of %zu "
							    "rows) after an interrupted insert",
							    (unsigned long long)b->id,
							    ch_table_names[i], have, b->lines[i]);
					LOG_ERROR("%s", d.msg);
					goto out; /* not retried: it would duplicate rows */
				}
				check[i] = false;
			}
			snprintf(sql, sizeof(sql), "INSERT INTO %s.%s FORMAT TabSeparated",
				 w->conn.db, ch_table_names[i]);
			rc = ch_query(&w->conn, sql, &b->t[i], NULL, &d);
			if (!rc)
				done[i] = true;
			else if (rc != -ECONNREFUSED && (i == CH_T_PROFILES || i == CH_T_SAMPLES))
				check[i] = true; /* may have landed: count before resending */
		}
		if (!rc)
			break;
		if (ch_mono_ns() + (int64_t)backoff * 1000000 > deadline)
			break;
		ch_sleep_ms(backoff);
		backoff = EMBER_MIN(backoff * 2, (uint32_t)CH_BACKOFF_MAX);
	}
out:
	res->rc = rc ? -EAGAIN : 0;
	snprintf(res->msg, sizeof(res->msg), "%s", rc ? d.msg : "");
	if (rc)
		LOG_WARN("clickhouse: batch of %zu samples not written: %s", b->n_samples, d.msg);
}

static void ch_retention(struct ch_writer *w)
{
	LOG_DEBUG("clickhouse: retention: dropping days older than %u on %zu nodes",
		  w->u.retention_days, w->u.n_hosts);
	for (size_t h = 0; h < w->u.n_hosts; h++) {
		struct ch_conn c;
		struct ember_diag d = {""};
		int rc = ch_conn_open(&c, &w->u, h, &d);

		rc = rc ?: ch_schema_drop_old(&c, w->u.cluster, w->u.retention_days, &d);
		if (rc)
			LOG_WARN("clickhouse: retention on %s: %s", w->u.hosts[h], d.msg);
		ch_conn_fini(&c);
	}
}

static void *ch_writer_main(void *arg)
{
	struct ch_writer *w = arg;
	int64_t last_probe = ch_mono_ns(), last_retention = last_probe - CH_RETENTION_NS;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct ch_batch *b = &w->open;
		int64_t now = ch_mono_ns(), until;
		struct ch_result *res;
		struct ch_batch tmp;
		uint64_t seq;
		bool down;

		if (!b->bytes) {
			if (w->stop)
				break;
			if (now - last_probe >= CH_PROBE_NS) {
				struct ember_diag d = {""};
				int rc;

				pthread_mutex_unlock(&w->mu);
				rc = ch_query(&w->conn, "SELECT 1", NULL, NULL, &d);
				if (!rc && w->u.retention_days &&
				    now - last_retention >= CH_RETENTION_NS) {
					ch_retention(w);
					last_retention = now;
				}
				pthread_mutex_lock(&w->mu);
				w->health = rc ? -EAGAIN : 0;
				last_probe = ch_mono_ns();
				continue;
			}
			until = last_probe + CH_PROBE_NS;
		} else if (!w->stop && b->n_samples < w->u.batch_rows &&
			   now < b->first_ns + (int64_t)w->u.flush_ms * 1000000) {
			until = b->first_ns + (int64_t)w->u.flush_ms * 1000000;
		} else {
			until = 0;
		}
		if (until) {
			struct timespec ts;
			int64_t rt;

			clock_gettime(CLOCK_REALTIME, &ts);
			rt = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (until - now);
			ts.tv_sec = rt / 1000000000;
			ts.tv_nsec = rt % 1000000000;
			pthread_cond_timedwait(&w->work, &w->mu, &ts);
			continue;
		}
		/* Take the open batch; appends fill a fresh one meanwhile. */
		tmp = w->flushing;
		w->flushing = *b;
		*b = tmp;
		ch_batch_reset(b);
		seq = w->open_seq++;
		w->inflight_bytes = w->flushing.bytes;
		down = w->health != 0;
		pthread_mutex_unlock(&w->mu);

		struct ch_result r = {.seq = seq};
		ch_flush(w, &w->flushing, down, &r);

		pthread_mutex_lock(&w->mu);
		res = &w->results[seq % CH_RESULTS];
		*res = r;
		w->health = r.rc;
		w->done_seq = seq;
		w->inflight_bytes = 0;
		last_probe = ch_mono_ns();
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int ch_writer_start(const struct ch_url *u, struct ch_writer **out, struct ember_diag *d)
{
	struct ch_writer *w = mem_calloc(MEM_STORE, 1, sizeof(*w));
	int rc;

	*out = NULL;
	w->u = *u;
	rc = ch_conn_open(&w->conn, u, 0, d);
	if (rc) {
		mem_free(w);
		return rc;
	}
	if (getrandom(&w->id_base, sizeof(w->id_base), 0) != sizeof(w->id_base))
		w->id_base = (uint64_t)ch_mono_ns() * 0x9e3779b97f4a7c15ULL;
	w->id_base &= ~(uint64_t)0xffffffff; /* low half: the batch sequence number */
	w->id_base |= (uint64_t)1 << 63;     /* never 0 (0 = rows written before version 2) */
	ch_batch_init(&w->open, u->max_pending + ((size_t)1 << 20));
	ch_batch_init(&w->flushing, u->max_pending + ((size_t)1 << 20));
	w->open_seq = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	rc = pthread_create(&w->thread, NULL, ch_writer_main, w);
	if (rc) {
		ch_batch_fini(&w->open);
		ch_batch_fini(&w->flushing);
		ch_conn_fini(&w->conn);
		mem_free(w);
		return ember_diag_set(d, -rc, "clickhouse: cannot start the writer thread");
	}
	*out = w;
	return 0;
}

int ch_writer_health(struct ch_writer *w)
{
	int h;

	pthread_mutex_lock(&w->mu);
	h = w->health;
	pthread_mutex_unlock(&w->mu);
	return h;
}

void ch_writer_stop(struct ch_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	ch_batch_fini(&w->open);
	ch_batch_fini(&w->flushing);
	ch_conn_fini(&w->conn);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	mem_free(w);
}

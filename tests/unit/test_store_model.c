/*
 * test_store_model.c — the store against a naive reference and against failures:
 *  - store_model: random appends, block cuts, reopens and queries (merge with random matchers
 *    and time ranges, select-series totals, label values) checked against an in-memory model;
 *  - store_fault_*: failed write, failed fsync (also under group commit with concurrent
 *    appenders), ENOSPC mid-record, a failed rename during a cut and during a compaction,
 *    injected through the I/O shim: the call fails, the store goes read-only, nothing
 *    unacknowledged is reported as written, and a reopen recovers with no loss or duplicates;
 *  - store_crash: a forked writer reports acknowledged appends through a pipe and is killed
 *    with SIGKILL at random points, many times; every acknowledged append must be there once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "store/store.h"
#include "test.h"
#include "test_store_fixture.h"

#define SEC 1000000000LL

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)((rng_state >> 33) % n);
}

#define N_STACKS 12
static const char *const svcs[3] = {"api", "web", "db"};
static const char *const tenants[2] = {"anonymous", "t2"};

static void stack_name(int i, char *out, size_t cap)
{
	snprintf(out, cap, "main;f%d;g%d", i % 3, i);
	if (i % 4 == 0)
		snprintf(out, cap, "main;f%d", i % 3); /* an inner node as a leaf */
}

struct ref_entry {
	int tenant, svc;
	int64_t t;
	int64_t v[N_STACKS];
};

struct model {
	struct ref_entry e[600];
	size_t n;
};

static int model_append(struct store *s, struct model *m)
{
	struct ref_entry *e = &m->e[m->n];
	struct prof *p = fx_prof_new();
	char name[64];
	int rc;

	memset(e, 0, sizeof(*e));
	e->tenant = (int)rnd(2);
	e->svc = (int)rnd(3);
	e->t = (int64_t)(1 + rnd(1000)) * SEC;
	for (int k = 0, n = 1 + (int)rnd(5); k < n; k++) {
		int i = (int)rnd(N_STACKS);
		int64_t v = 1 + rnd(100);

		stack_name(i, name, sizeof(name));
		fx_add(p, name, v, 0);
		e->v[i] += v;
	}
	rc = fx_append(s, tenants[e->tenant], svcs[e->svc], e->t, p, NULL);
	prof_free(p);
	if (!rc)
		m->n++;
	return rc;
}

static int model_query(struct store *s, const struct model *m)
{
	int tenant = (int)rnd(2), mode = (int)rnd(4), svc = (int)rnd(3);
	int64_t a = (int64_t)rnd(1000) * SEC, b = a + (int64_t)(1 + rnd(1000)) * SEC;
	int64_t want[N_STACKS] = {0}, want_total = 0;
	struct store_matcher mt = {STORE_LABEL_SERVICE, svcs[svc], STORE_MATCH_EQ};
	struct store_query q = {.tenant = tenants[tenant],
				.profile_type = T_PTYPE,
				.matchers = &mt,
				.n_matchers = mode ? 1 : 0,
				.start_ns = a,
				.end_ns = b};
	struct prof *p;
	char name[64];
	int rc;

	if (mode == 2)
		mt.op = STORE_MATCH_NEQ;
	if (mode == 3) {
		mt.op = STORE_MATCH_RE;
		mt.value = svc == 0 ? "a.*|d." : "w.b";
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct ref_entry *e = &m->e[i];
		bool sel = true;

		if (e->tenant != tenant || e->t < a || e->t >= b)
			continue;
		if (mode == 1)
			sel = e->svc == svc;
		else if (mode == 2)
			sel = e->svc != svc;
		else if (mode == 3)
			sel = svc == 0 ? (e->svc == 0 || e->svc == 2) : e->svc == 1;
		if (!sel)
			continue;
		for (int k = 0; k < N_STACKS; k++) {
			want[k] += e->v[k];
			want_total += e->v[k];
		}
	}
	rc = store_select_merge(s, &q, &p, NULL);
	if (rc)
		return rc;
	if (prof_total(p, 0) != want_total) {
		fprintf(stderr,
			"model: total %lld, want %lld (tenant %d mode %d svc %d [%lld,%lld))\n",
			(long long)prof_total(p, 0), (long long)want_total, tenant, mode, svc,
			(long long)a, (long long)b);
		prof_free(p);
		return -1;
	}
	for (int k = 0; k < N_STACKS; k++) {
		int64_t same = 0;

		stack_name(k, name, sizeof(name));
		for (int j = 0; j < N_STACKS; j++) {
			char other[64];

			stack_name(j, other, sizeof(other));
			if (!strcmp(other, name))
				same += want[j];
		}
		if (fx_value(p, name) != same) {
			fprintf(stderr, "model: %s = %lld, want %lld\n", name,
				(long long)fx_value(p, name), (long long)same);
			prof_free(p);
			return -1;
		}
	}
	prof_free(p);
	/* select-series: the points add up to the same total */
	{
		struct store_series_opts o = {.step_ns = 37 * SEC};
		struct store_result *r;
		double sum = 0;

		rc = store_select_series(s, &q, &o, &r, NULL);
		if (rc)
			return rc;
		for (size_t i = 0; i < r->n_series; i++)
			for (size_t k = 0; k < r->series[i].n_points; k++)
				sum += r->series[i].points[k].value;
		store_result_free(r);
		if (sum != (double)want_total) {
			fprintf(stderr, "model: series sum %.0f, want %lld\n", sum,
				(long long)want_total);
			return -1;
		}
	}
	/* label values of service_name in the range */
	{
		struct store_query lq = {.tenant = tenants[tenant], .start_ns = a, .end_ns = b};
		struct store_result *r;
		int have[3] = {0}, n_want = 0;

		for (size_t i = 0; i < m->n; i++)
			if (m->e[i].tenant == tenant && m->e[i].t >= a && m->e[i].t < b)
				have[m->e[i].svc] = 1;
		n_want = have[0] + have[1] + have[2];
		rc = store_label_values(s, &lq, STORE_LABEL_SERVICE, &r, NULL);
		if (rc)
			return rc;
		rc = (int)r->n_strings == n_want ? 0 : -1;
		if (rc)
			fprintf(stderr, "model: %zu service values, want %d\n", r->n_strings,
				n_want);
		store_result_free(r);
	}
	return rc;
}

TEST(store_model)
{
	static struct model m;
	struct store *s;

	rng_state = 42;
	m.n = 0;
	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	for (int step = 0; step < 700; step++) {
		uint32_t op = rnd(100);

		if (op < 60 && m.n < EMBER_ARRAY_SIZE(m.e)) {
			CHECK_OK(model_append(s, &m));
		} else if (op < 66) {
			CHECK_OK(store_cut(s, NULL));
		} else if (op < 70) {
			store_close(s);
			CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
		} else {
			int rc = model_query(s, &m);

			if (rc)
				store_close(s);
			CHECK_MSG(rc == 0, "model query failed at step %d", step);
		}
	}
	store_close(s);
}

/* The fault-injecting I/O shim. Counters count calls; *_at = n fails the n-th call from now. */
struct faults {
	int write_at, fsync_at, rename_at;
	int enospc; /* the failing write first writes half, then reports ENOSPC */
};

static ssize_t f_write(void *ctx, int fd, const void *p, size_t n)
{
	struct faults *f = ctx;

	if (f->write_at && --f->write_at == 0) {
		if (f->enospc) {
			ssize_t w = write(fd, p, n / 2);

			(void)w;
			return -ENOSPC;
		}
		return -EIO;
	}
	return write(fd, p, n);
}

static int f_fsync(void *ctx, int fd)
{
	struct faults *f = ctx;

	if (f->fsync_at && --f->fsync_at == 0)
		return -EIO;
	return fsync(fd) ? -errno : 0;
}

static int f_rename(void *ctx, const char *a, const char *b)
{
	struct faults *f = ctx;

	if (f->rename_at && --f->rename_at == 0)
		return -EIO;
	return rename(a, b) ? -errno : 0;
}

static int add_k(struct store *s, int64_t t, int64_t k, struct ember_diag *d)
{
	struct prof *p = fx_prof_new();
	int rc;

	fx_add(p, "main;work", k, 0);
	rc = fx_append(s, NULL, "api", t, p, d);
	prof_free(p);
	return rc;
}

static void fault_case(int which)
{
	struct faults f = {0};
	struct store_io io = {.ctx = &f, .write = f_write, .fsync = f_fsync, .rename = f_rename};
	struct store *s;
	struct ember_diag d = {{0}};
	struct store_stats st;
	int rc;

	CHECK_OK(fx_open(test_tmpdir(), &io, &s));
	CHECK_OK(add_k(s, SEC, 1, &d));
	CHECK_OK(add_k(s, 2 * SEC, 2, &d));
	switch (which) {
	case 0: /* failed write */
		f.write_at = 1;
		CHECK_EQ_INT(add_k(s, 3 * SEC, 4, &d), -EIO);
		break;
	case 1: /* failed fsync */
		f.fsync_at = 1;
		CHECK_EQ_INT(add_k(s, 3 * SEC, 4, &d), -EIO);
		break;
	case 2: /* ENOSPC in the middle of a record */
		f.write_at = 1;
		f.enospc = 1;
		CHECK_EQ_INT(add_k(s, 3 * SEC, 4, &d), -ENOSPC);
		break;
	case 3: /* rename of the cut fails */
		f.rename_at = 1;
		CHECK_EQ_INT(store_cut(s, &d), -EIO);
		CHECK(strstr(d.msg, "rename") != NULL);
		break;
	case 4: /* block write fails */
		f.write_at = 1;
		CHECK_EQ_INT(store_cut(s, &d), -EIO);
		break;
	}
	/* ERROR state: read-only with a clear error, queries still answer */
	rc = add_k(s, 5 * SEC, 8, &d);
	CHECK_EQ_INT(rc, -EROFS);
	CHECK(strstr(d.msg, "read-only") != NULL);
	CHECK_EQ_INT(store_cut(s, &d), -EROFS);
	store_get_stats(s, &st);
	CHECK(st.error != 0);
	CHECK_EQ_INT(st.appends, 2);
	CHECK_EQ_INT(fx_total(s, NULL, NULL), 3);
	store_close(s);
	/* recovery: everything acknowledged is there, exactly once; the failed append may be
	 * there too only when its record reached the file whole (failed fsync) */
	memset(&f, 0, sizeof(f));
	CHECK_OK(fx_open(test_tmpdir(), &io, &s));
	if (which == 1)
		CHECK(fx_total(s, NULL, NULL) == 3 || fx_total(s, NULL, NULL) == 7);
	else
		CHECK_EQ_INT(fx_total(s, NULL, NULL), 3);
	store_get_stats(s, &st);
	if (which == 2)
		CHECK(st.truncated_bytes > 0);
	CHECK_OK(add_k(s, 6 * SEC, 16, &d));
	CHECK_OK(store_cut(s, &d));
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), &io, &s));
	if (which == 1)
		CHECK(fx_total(s, NULL, NULL) == 19 || fx_total(s, NULL, NULL) == 23);
	else
		CHECK_EQ_INT(fx_total(s, NULL, NULL), 19);
	store_close(s);
}

TEST(store_fault_write)
{
	fault_case(0);
}

TEST(store_fault_fsync)
{
	fault_case(1);
}

TEST(store_fault_enospc)
{
	fault_case(2);
}

TEST(store_fault_rename)
{
	fault_case(3);
}

TEST(store_fault_block_write)
{
	fault_case(4);
}

/* The crash test. Append i of iteration `it` has time (it * 100000 + i + 1) us and value
 * (i % 5 + 1): select-series with a 1 us step gives one point per append. */
static void crash_child(const char *dir, int it, int fd)
{
	struct store *s;
	struct store_opts o = {.dir = dir};

	if (store_open(&o, &s, NULL))
		_exit(3);
	for (uint64_t i = 0;; i++) {
		int64_t t = ((int64_t)it * 100000 + (int64_t)i + 1) * 1000;

		if (add_k(s, t, (int64_t)(i % 5 + 1), NULL))
			_exit(4);
		if (write(fd, &i, sizeof(i)) != sizeof(i))
			_exit(5);
		if (i % 7 == 6 && store_cut(s, NULL))
			_exit(6);
	}
}

TEST(store_crash)
{
	const char *dir = test_tmpdir();
	struct timespec t0, t1;
	int iterations = 0;
	uint64_t total_acked = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng_state = (uint64_t)time(NULL);
	for (int it = 0; it < 40; it++) {
		int pfd[2], status;
		pid_t pid;
		uint64_t id, max_acked = 0, n_acked = 0;
		bool any = false;
		struct store *s;
		struct store_query q = {.profile_type = T_PTYPE};
		struct store_series_opts o = {.step_ns = 1000};
		struct store_result *r;
		unsigned char *seen;

		CHECK(pipe(pfd) == 0);
		fflush(NULL);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			crash_child(dir, it, pfd[1]);
		}
		close(pfd[1]);
		/* kill at a random point once the writer is appending */
		if (read(pfd[0], &id, sizeof(id)) == sizeof(id)) {
			max_acked = id;
			n_acked++;
			any = true;
		}
		usleep(rnd(100000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK_MSG(WIFSIGNALED(status), "writer exited early with status %d",
			  WEXITSTATUS(status));
		CHECK_MSG(any, "writer acknowledged nothing before being killed");
		while (read(pfd[0], &id, sizeof(id)) == sizeof(id)) {
			max_acked = id;
			n_acked++;
			any = true;
		}
		close(pfd[0]);
		CHECK_OK(fx_open(dir, NULL, &s));
		q.start_ns = (int64_t)it * 100000 * 1000;
		q.end_ns = q.start_ns + 100000 * 1000;
		if (store_select_series(s, &q, &o, &r, NULL)) {
			store_close(s);
			CHECK_MSG(0, "query failed after crash %d", it);
		}
		seen = mem_calloc(MEM_TEST, max_acked + 2, 1);
		for (size_t i = 0; i < r->n_series; i++)
			for (size_t k = 0; k < r->series[i].n_points; k++) {
				const struct store_point *pt = &r->series[i].points[k];
				int64_t idx = pt->time_ns / 1000 - (int64_t)it * 100000 - 1;

				if (idx < 0 || pt->value != (double)(idx % 5 + 1)) {
					store_result_free(r);
					store_close(s);
					mem_free(seen);
					CHECK_MSG(0, "crash %d: bad point at %lld value %.0f", it,
						  (long long)pt->time_ns, pt->value);
				}
				if ((uint64_t)idx <= max_acked)
					seen[idx] = 1;
			}
		store_result_free(r);
		store_close(s);
		for (uint64_t i = 0; any && i <= max_acked; i++)
			if (!seen[i]) {
				mem_free(seen);
				CHECK_MSG(0, "crash %d: acknowledged append %llu lost", it,
					  (unsigned long long)i);
			}
		mem_free(seen);
		total_acked += n_acked;
		iterations++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 25)
			break;
	}
	fprintf(stderr, "store_crash: %d kills, %llu acknowledged appends verified\n", iterations,
		(unsigned long long)total_acked);
	CHECK(iterations >= 10);
	CHECK(total_acked > 0);
}

/* A compaction whose rename fails: ERROR state, nothing lost or doubled, a reopen recovers and
 * compacts. */
TEST(store_fault_compaction)
{
	struct faults f = {0};
	struct store_io io = {.ctx = &f, .write = f_write, .fsync = f_fsync, .rename = f_rename};
	struct store *s;
	struct ember_diag d = {{0}};
	struct store_stats st;
	const int64_t hour = 3600 * SEC;

	CHECK_OK(fx_open(test_tmpdir(), &io, &s));
	CHECK_OK(add_k(s, hour, 1, &d));
	CHECK_OK(store_cut(s, &d));
	CHECK_OK(add_k(s, 2 * hour, 2, &d));
	CHECK_OK(store_cut(s, &d));
	CHECK_OK(add_k(s, 10 * hour, 4, &d)); /* finishes the first 4-h window */
	f.rename_at = 1;
	CHECK_EQ_INT(store_compact(s, &d), -EIO);
	CHECK(strstr(d.msg, "compacted") != NULL);
	CHECK_EQ_INT(add_k(s, 11 * hour, 8, &d), -EROFS);
	CHECK_EQ_INT(fx_total(s, NULL, NULL), 7);
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), &io, &s));
	CHECK_EQ_INT(fx_total(s, NULL, NULL), 7);
	CHECK_OK(store_compact(s, &d));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.compactions, 1);
	CHECK_EQ_INT(st.blocks, 1);
	CHECK_EQ_INT(fx_total(s, NULL, NULL), 7);
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), &io, &s));
	CHECK_EQ_INT(fx_total(s, NULL, NULL), 7);
	store_close(s);
}

/* A failed group fsync: every appender whose record it covered gets the error, none is
 * acknowledged, and the acknowledged ones before it survive a reopen. */
struct gf_arg {
	struct store *s;
	int id, ok, err;
};

static void *gf_thread(void *arg)
{
	struct gf_arg *g = arg;

	for (int i = 0; i < 20; i++) {
		if (add_k(g->s, (g->id * 100 + i + 1) * SEC, 1, NULL) == 0)
			g->ok++;
		else
			g->err++;
	}
	return NULL;
}

TEST(store_fault_group_fsync)
{
	struct faults f = {0};
	struct store_io io = {.ctx = &f, .write = f_write, .fsync = f_fsync, .rename = f_rename};
	struct store_opts o = {.dir = test_tmpdir(), .io = &io, .commit_delay_us = 500};
	struct store *s;
	pthread_t th[4];
	struct gf_arg ga[4];
	int ok = 0;

	CHECK_OK(store_open(&o, &s, NULL));
	f.fsync_at = 6; /* a few group commits succeed, then one fails */
	for (int i = 0; i < 4; i++) {
		ga[i] = (struct gf_arg){s, i, 0, 0};
		pthread_create(&th[i], NULL, gf_thread, &ga[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += ga[i].ok;
		CHECK(ga[i].err > 0);
	}
	CHECK(ok < 80);
	CHECK_EQ_INT(fx_total(s, NULL, NULL), ok);
	store_close(s);
	memset(&f, 0, sizeof(f));
	CHECK_OK(store_open(&o, &s, NULL));
	CHECK(fx_total(s, NULL, NULL) >=
	      ok); /* records of the failed fsync may have reached the disk */
	store_close(s);
}

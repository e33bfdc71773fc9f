/*
 * bench_ch.c — the ClickHouse backend next to the embedded store on the same generated data
 * (bench/agent_gen.h: 200 processes, 19 Hz x 16 CPUs, 10-s profiles, Zipf stacks over 50k):
 *   ingest:  ClickHouse through store_append from --threads threads (appends share batches:
 *            the backend's group commit), wall samples/s and the CPU of both sides (this
 *            program's and clickhouse-server's, --ch-pid); the embedded store from one thread,
 *            CPU samples/s (WAL fsync real);
 *   at rest: bytes per sample — ClickHouse's active parts after OPTIMIZE ... FINAL
 *            (system.parts), the embedded store's blocks after its cut and compaction;
 *   queries: best of 3 on each backend — flame graph of one service over the whole range,
 *            series of 20 services with a 1-min step grouped by service, diff of two 1-h
 *            windows, top 20 functions — and whether the flame graphs' totals agree.
 * Every profile is generated from (process, window) alone, so both backends get the same data.
 * Usage: bench_ch --url clickhouse://127.0.0.1:PORT/DB [--hours H] [--threads N] [--ch-pid PID]
 *        [--dir DIR]   (bench/bench_ch.sh starts a clickhouse-server and runs it)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_gen.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "profile/profile.h"
#include "store/clickhouse/ch.h"
#include "store/store.h"

#define PROFILE_TYPE "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
#define HOUR_NS	     3600000000000LL
#define T0_NS	     (1700000000LL * 1000000000LL)

static const struct gen *G;
static int n_windows;

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of a process, from /proc/PID/stat; -1 when unknown. */
static double proc_cpu_s(long pid)
{
	char path[64], line[1024];
	unsigned long ut, st;
	FILE *f;
	char *p;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (!p || !(p = strrchr(line, ')')))
		return -1;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Appends profile k (window k / N_PROCS, process k % N_PROCS). */
static int append_one(struct store *s, long k, struct ember_diag *d)
{
	int w = (int)(k / N_PROCS), p = (int)(k % N_PROCS);
	int64_t t = T0_NS + (int64_t)w * WINDOW_S * 1000000000LL;
	char pid[16], svc[16];
	struct store_label l[2] = {{STORE_LABEL_SERVICE, svc}, {"pid", pid}};
	struct prof *pr;
	int rc;

	pr = gen_profile(G, p, w, t);
	gen_labels(p, svc, pid);
	struct store_append a = {
		.labels = l, .n_labels = 2, .name = "process_cpu", .time_ns = t, .prof = pr};
	rc = store_append(s, &a, d);
	prof_free(pr);
	return rc;
}

struct feeder {
	struct store *s;
	atomic_long *next;
	long total;
	double cpu;
	int rc;
	struct ember_diag d;
	pthread_t th;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	long k;

	while (!f->rc && (k = atomic_fetch_add(f->next, 1)) < f->total)
		f->rc = append_one(f->s, k, &f->d);
	f->cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}

/* Feeds every profile into s from n threads; wall and this process's CPU seconds. */
static int ingest(struct store *s, int n, double *wall, double *cpu)
{
	atomic_long next = 0;
	struct feeder *f = mem_calloc(MEM_TEST, (size_t)n, sizeof(*f));
	double a = now_s(CLOCK_MONOTONIC);
	int rc = 0;

	*cpu = 0;
	for (int i = 0; i < n; i++) {
		f[i] = (struct feeder){.s = s, .next = &next, .total = (long)n_windows * N_PROCS};
		pthread_create(&f[i].th, NULL, feed, &f[i]);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(f[i].th, NULL);
		*cpu += f[i].cpu;
		if (f[i].rc && !rc) {
			rc = f[i].rc;
			fprintf(stderr, "bench_ch: append: %s\n", ember_diag_msg(&f[i].d, rc));
		}
	}
	*wall = now_s(CLOCK_MONOTONIC) - a;
	mem_free(f);
	return rc;
}

/* One query of kind 0..3 over [t0, t1); ms, or -1 (message printed). *total: flame total. */
static double time_query(struct store *s, int kind, int64_t t0, int64_t t1, int64_t *total)
{
	struct store_matcher m = {STORE_LABEL_SERVICE, "svc-03", STORE_MATCH_EQ};
	struct store_query q = {.profile_type = PROFILE_TYPE,
				.matchers = &m,
				.n_matchers = kind == 1 ? 0 : 1,
				.start_ns = t0,
				.end_ns = t1};
	struct ember_diag d = {{0}};
	double a = now_s(CLOCK_MONOTONIC);
	struct store_result *r = NULL;
	struct prof *p, *p2;
	int rc;

	if (kind == 0) {
		rc = store_select_merge(s, &q, &p, &d);
		if (!rc) {
			*total = prof_total(p, 0);
			prof_free(p);
		}
	} else if (kind == 1) {
		const char *gb[] = {STORE_LABEL_SERVICE};
		struct store_series_opts o = {
			.step_ns = 60000000000LL, .group_by = gb, .n_group_by = 1};

		rc = store_select_series(s, &q, &o, &r, &d);
	} else if (kind == 2) {
		struct store_query b = q;

		q.end_ns = t0 + HOUR_NS;
		b.start_ns = t1 - HOUR_NS;
		rc = store_diff(s, &q, &b, &p, &p2, &d);
		if (!rc) {
			prof_free(p);
			prof_free(p2);
		}
	} else {
		rc = store_top(s, &q, 20, &r, &d);
	}
	if (r)
		store_result_free(r);
	if (rc) {
		fprintf(stderr, "bench_ch: query %d: %s\n", kind, ember_diag_msg(&d, rc));
		return -1;
	}
	return (now_s(CLOCK_MONOTONIC) - a) * 1000;
}

static double best_of_3(struct store *s, int kind, int64_t t0, int64_t t1, int64_t *total)
{
	double best = -1;

	for (int i = 0; i < 3; i++) {
		double ms = time_query(s, kind, t0, t1, total);

		if (ms >= 0 && (best < 0 || ms < best))
			best = ms;
	}
	return best;
}

/* Bytes of the database's active parts after merging them (system.parts). */
static double ch_bytes(struct store *s, const char *db)
{
	static const char *const tables[] = {"series", "profiles", "samples", "stacks", "symbols"};
	struct ember_diag d = {{0}};
	char sql[300];
	struct buf out;
	double bytes = -1;

	buf_init(&out, MEM_TEST, 1 << 20);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "OPTIMIZE TABLE %s.%s FINAL", db, tables[i]);
		if (ch_store_query(s, sql, &out, &d))
			fprintf(stderr, "bench_ch: %s: %s\n", sql, d.msg);
		out.len = 0;
	}
	snprintf(sql, sizeof(sql),
		 "SELECT sum(bytes_on_disk) FROM system.parts WHERE database = '%s' AND active",
		 db);
	if (ch_store_query(s, sql, &out, &d) == 0 && buf_putc(&out, 0) == 0)
		bytes = atof((const char *)out.data);
	else
		fprintf(stderr, "bench_ch: %s: %s\n", sql, d.msg);
	buf_fini(&out);
	return bytes;
}

int main(int argc, char **argv)
{
	const char *url = NULL, *dir_base = "/tmp";
	double hours = 2, ch_wall, ch_cpu, ch_srv0, ch_srv1, loc_wall, loc_cpu, ch_at_rest;
	long ch_pid = 0;
	int threads = 32;
	char dir[300], db[80] = "ember", cmd[400];
	struct ember_diag d = {{0}};
	struct store *ch, *loc;
	struct store_stats st;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--url") && v)
			url = v;
		else if (!strcmp(argv[i], "--hours") && v)
			hours = atof(v);
		else if (!strcmp(argv[i], "--threads") && v)
			threads = (int)strtol(v, NULL, 10);
		else if (!strcmp(argv[i], "--ch-pid") && v)
			ch_pid = strtol(v, NULL, 10);
		else if (!strcmp(argv[i], "--dir") && v)
			dir_base = v;
		else {
			fprintf(stderr,
				"usage: bench_ch --url clickhouse://HOST:PORT/DB [--hours H] "
				"[--threads N] [--ch-pid PID] [--dir DIR]\n");
			return 2;
		}
		i++;
	}
	if (!url || hours <= 0 || threads < 1 || threads > 256) {
		fprintf(stderr, "bench_ch: --url is required; --hours > 0; --threads 1..256\n");
		return 2;
	}
	{
		const char *slash = strrchr(url, '/');

		if (slash && slash[1] && !strchr(slash, ':'))
			snprintf(db, sizeof(db), "%.*s", (int)strcspn(slash + 1, "?"), slash + 1);
	}
	n_windows = (int)(hours * 3600 / WINDOW_S);
	struct gen *g = mem_calloc(MEM_TEST, 1, sizeof(*g));
	gen_init(g);
	G = g;

	struct store_opts co = {.backend = "clickhouse", .url = url};
	if (store_open(&co, &ch, &d)) {
		fprintf(stderr, "bench_ch: %s\n", d.msg);
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/ember-bench-ch-%d", dir_base, (int)getpid());
	struct store_opts lo = {
		.dir = dir, .head_max_bytes = SIZE_MAX, .block_duration_ns = INT64_MAX};
	if (store_open(&lo, &loc, &d)) {
		fprintf(stderr, "bench_ch: %s\n", d.msg);
		return 1;
	}
	uint64_t ticks = 0;
	for (int p = 0; p < N_PROCS; p++)
		ticks += (uint64_t)g->ticks[p];
	ticks *= (uint64_t)n_windows;
	printf("bench_ch: %.1f h of data: %d profiles, %" PRIu64 " samples; ClickHouse %s, "
	       "%d threads\n",
	       hours, n_windows * N_PROCS, ticks, url, threads);

	ch_srv0 = proc_cpu_s(ch_pid);
	if (ingest(ch, threads, &ch_wall, &ch_cpu))
		return 1;
	ch_srv1 = proc_cpu_s(ch_pid);
	if (ingest(loc, 1, &loc_wall, &loc_cpu))
		return 1;
	printf("ingest   clickhouse: %.0f samples/s wall (%.1f s); CPU: ember %.1f s, "
	       "clickhouse-server %.1f s: %.0f samples per CPU-second\n",
	       (double)ticks / ch_wall, ch_wall, ch_cpu,
	       ch_srv0 >= 0 && ch_srv1 >= 0 ? ch_srv1 - ch_srv0 : -1,
	       (double)ticks / (ch_cpu + (ch_srv0 >= 0 && ch_srv1 >= 0 ? ch_srv1 - ch_srv0 : 0)));
	printf("ingest   embedded:   %.0f samples/s per core (one thread, %.1f s CPU, WAL "
	       "fsynced)\n",
	       (double)ticks / loc_cpu, loc_cpu);

	if (store_cut(loc, &d) || store_compact(loc, &d)) {
		fprintf(stderr, "bench_ch: cut: %s\n", d.msg);
		return 1;
	}
	store_get_stats(loc, &st);
	ch_at_rest = ch_bytes(ch, db);
	printf("at rest  clickhouse: %.2f MiB, %.2f bytes per sample\n", ch_at_rest / 1048576,
	       ch_at_rest / (double)ticks);
	printf("at rest  embedded:   %.2f MiB, %.2f bytes per sample\n",
	       (double)st.block_bytes / 1048576, (double)st.block_bytes / (double)ticks);

	static const char *const what[] = {
		"flame graph of one service, whole range", "series of 20 services, 1-min step",
		"diff of two 1-h windows of one service", "top 20 functions of one service"};
	int64_t t1 = T0_NS + (int64_t)n_windows * WINDOW_S * 1000000000LL;
	int64_t tot_ch = -1, tot_loc = -2;
	for (int k = 0; k < 4; k++) {
		double a = best_of_3(ch, k, T0_NS, t1, &tot_ch);
		double b = best_of_3(loc, k, T0_NS, t1, &tot_loc);

		printf("query    %-42s clickhouse %8.1f ms   embedded %8.1f ms\n", what[k], a, b);
	}
	printf("flame graph totals: clickhouse %" PRId64 ", embedded %" PRId64 " (%s)\n", tot_ch,
	       tot_loc, tot_ch == tot_loc ? "equal" : "DIFFERENT");
	store_close(ch);
	store_close(loc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "bench_ch: could not remove %s\n", dir);
	mem_free(g);
	return tot_ch == tot_loc ? 0 : 1;
}

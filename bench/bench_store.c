/*
 * bench_store.c — the storage engine benchmark: a generator of agent-like data (200 processes
 * in 20 services, 19 Hz x 16 CPUs, 10 s profiles, Zipf-distributed stacks over 50k distinct
 * stacks of depth 2..40 sharing prefixes) fed through store_append, then:
 *   ingest:  samples/s per core (thread CPU time of the append calls; WAL fsync stubbed by the
 *            I/O shim so the figure is the CPU cost, not the disk's latency);
 *   memory:  head bytes per sample (runs over 2 h cut and compact hourly, as the server does);
 *            bytes per sample at rest after the last cut and compaction (blocks), next to the
 *            same profiles as gzipped pprof files (the peer: what a pprof-file store keeps);
 *   queries: best of 3 — flame graph (merge) of one service over the whole range, series of
 *            all services with a 1-min step, diff of two 1-h windows; on the head (its last
 *            hour when cutting hourly) and on the blocks after a reopen.
 * A "sample" is one 19 Hz tick. Env: BENCH_STORE_HOURS (default 6), BENCH_STORE_DIR,
 * BENCH_STORE_KEEP (keep the data directory).
 * Usage: bench_store [HOURS]
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "profile/profile.h"
#include "store/store.h"

#define N_FUNCS	   4000
#define N_STACKS   50000
#define MAX_DEPTH  40
#define N_PROCS	   200
#define N_SERVICES 20
#define WINDOW_S   10
#define HOST_TICKS (19 * 16 * WINDOW_S)
#define PERIOD_NS  52631578

static uint64_t rng = 88172645463325252ULL;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct gen {
	uint16_t stacks[N_STACKS][MAX_DEPTH]; /* function index, root first */
	uint8_t depth[N_STACKS];
	double cdf[N_STACKS];
	int ticks[N_PROCS];
};

static void gen_init(struct gen *g)
{
	double sum = 0, w[N_PROCS], wsum = 0;

	for (int i = 0; i < N_STACKS; i++) {
		int d;

		if (i < 200) {
			d = 5 + (int)(xr() % 11);
			for (int k = 0; k < d; k++)
				g->stacks[i][k] = (uint16_t)(xr() % N_FUNCS);
		} else {
			int from = (int)(xr() % (uint64_t)i),
			    keep = 2 + (int)(xr() % g->depth[from]);
			int add = 1 + (int)(xr() % 6);

			if (keep > g->depth[from])
				keep = g->depth[from];
			memcpy(g->stacks[i], g->stacks[from], (size_t)keep * 2);
			d = keep + add > MAX_DEPTH ? MAX_DEPTH : keep + add;
			for (int k = keep; k < d; k++)
				g->stacks[i][k] = (uint16_t)(xr() % N_FUNCS);
		}
		g->depth[i] = (uint8_t)d;
	}
	for (int i = 0; i < N_STACKS; i++) {
		sum += 1.0 / pow(i + 1, 1.05);
		g->cdf[i] = sum;
	}
	for (int i = 0; i < N_STACKS; i++)
		g->cdf[i] /= sum;
	for (int p = 0; p < N_PROCS; p++)
		wsum += w[p] = 1.0 / pow(p + 1, 0.8);
	for (int p = 0; p < N_PROCS; p++)
		g->ticks[p] = 1 + (int)(HOST_TICKS * w[p] / wsum);
}

static int zipf(const struct gen *g)
{
	double u = (double)(xr() >> 11) / 9007199254740992.0;
	int lo = 0, hi = N_STACKS - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (g->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One process's 10-s profile. */
static struct prof *gen_profile(const struct gen *g, int proc, int64_t t)
{
	struct prof *p = prof_new();
	uint32_t locs[MAX_DEPTH];
	char name[64];

	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = PERIOD_NS;
	prof_meta(p)->time_ns = t;
	prof_meta(p)->duration_ns = WINDOW_S * 1000000000LL;
	for (int k = 0; k < g->ticks[proc]; k++) {
		int s = (zipf(g) + (proc % N_SERVICES) * 2500) % N_STACKS;
		int64_t v = PERIOD_NS;
		uint32_t n = g->depth[s];

		for (uint32_t i = 0; i < n; i++) {
			int f = g->stacks[s][n - 1 - i];
			struct prof_function fn;
			struct prof_line line = {0};

			snprintf(name, sizeof(name), "github.com/acme/pkg%d.Func%d", f % 97, f);
			fn = (struct prof_function){.name = prof_intern_cstr(p, name),
						    .filename = prof_intern_cstr(p, "main.go")};
			line.function = prof_add_function(p, &fn);
			line.line = f % 300;
			locs[i] = prof_add_location(p, 0, 0x400000 + (uint64_t)f * 64, &line, 1,
						    false);
		}
		prof_add_sample(p, prof_add_stack(p, locs, n), 0, &v);
	}
	return p;
}

static int nop_fsync(void *ctx, int fd)
{
	(void)ctx;
	(void)fd;
	return 0;
}

static double time_query(struct store *s, int kind, const char *svc, int64_t t0, int64_t t1)
{
	struct store_matcher m = {STORE_LABEL_SERVICE, svc, STORE_MATCH_EQ};
	struct store_query q = {.profile_type = "process_cpu:cpu:nanoseconds:cpu:nanoseconds",
				.matchers = &m,
				.n_matchers = svc ? 1 : 0,
				.start_ns = t0,
				.end_ns = t1};
	double a = now_s(CLOCK_MONOTONIC);
	struct ember_diag d = {{0}};
	int rc = 0;

	if (kind == 0) {
		struct prof *p;

		rc = store_select_merge(s, &q, &p, &d);
		if (!rc)
			prof_free(p);
	} else if (kind == 1) {
		const char *gb[] = {STORE_LABEL_SERVICE};
		struct store_series_opts o = {
			.step_ns = 60000000000LL, .group_by = gb, .n_group_by = 1};
		struct store_result *r;

		rc = store_select_series(s, &q, &o, &r, &d);
		if (!rc)
			store_result_free(r);
	} else {
		struct store_query b = q;
		struct prof *l, *r;

		q.end_ns = t0 + 3600000000000LL;
		b.start_ns = t1 - 3600000000000LL;
		rc = store_diff(s, &q, &b, &l, &r, &d);
		if (!rc) {
			prof_free(l);
			prof_free(r);
		}
	}
	if (rc) {
		fprintf(stderr, "bench_store: query failed: %s\n", d.msg);
		return -1;
	}
	return (now_s(CLOCK_MONOTONIC) - a) * 1000;
}

/* Best of 3 runs, in ms. */
static double best_of_3(struct store *s, int kind, const char *svc, int64_t t0, int64_t t1)
{
	double best = -1;

	for (int i = 0; i < 3; i++) {
		double ms = time_query(s, kind, svc, t0, t1);

		if (ms >= 0 && (best < 0 || ms < best))
			best = ms;
	}
	return best;
}

static void report_queries(struct store *s, const char *where, int64_t t0, int64_t t1)
{
	printf("  %-6s flame graph of one service over the range: %8.1f ms\n", where,
	       best_of_3(s, 0, "svc-03", t0, t1));
	printf("  %-6s series of 20 services, 1-min step:        %8.1f ms\n", where,
	       best_of_3(s, 1, NULL, t0, t1));
	printf("  %-6s diff of two 1-h windows of one service:  %8.1f ms\n", where,
	       best_of_3(s, 2, "svc-03", t0, t1));
}

int main(int argc, char **argv)
{
	const char *env = getenv("BENCH_STORE_HOURS");
	double hours = argc > 1 ? atof(argv[1]) : env ? atof(env) : 6;
	int windows = (int)(hours * 3600 / WINDOW_S);
	char dir[256];
	struct gen *g = mem_calloc(MEM_TEST, 1, sizeof(*g));
	struct store_io io = {.fsync = nop_fsync};
	struct store_opts o = {
		.io = &io, .head_max_bytes = SIZE_MAX, .block_duration_ns = INT64_MAX};
	struct store *s;
	struct store_stats st;
	struct ember_diag d = {{0}};
	double cpu = 0, pprof_gz_bytes = 0;
	uint64_t ticks = 0, pprof_ticks = 0;
	int64_t t0 = 1700000000LL * 1000000000LL, t1;
	bool hourly = hours > 2;
	double head_bps = 0, head_mib = 0, cut_s = 0;
	uint64_t ticks_cut = 0;
	int n_cuts = 0;
	char cmd[600];

	snprintf(dir, sizeof(dir), "%s/ember-bench-store-%d",
		 getenv("BENCH_STORE_DIR") ? getenv("BENCH_STORE_DIR") : "/tmp", (int)getpid());
	o.dir = dir;
	gen_init(g);
	if (store_open(&o, &s, &d)) {
		fprintf(stderr, "bench_store: %s\n", d.msg);
		return 1;
	}
	printf("bench_store: %.1f h of data: %d processes, %d services, %d stacks, 10-s profiles\n",
	       hours, N_PROCS, N_SERVICES, N_STACKS);
	for (int w = 0; w < windows; w++) {
		int64_t t = t0 + (int64_t)w * WINDOW_S * 1000000000LL;

		if (hourly && w && w % (3600 / WINDOW_S) == 0) {
			double a = now_s(CLOCK_MONOTONIC);

			store_get_stats(s, &st);
			head_bps = (double)st.head_bytes / (double)(ticks - ticks_cut);
			head_mib = (double)st.head_bytes / 1048576;
			ticks_cut = ticks;
			if (store_cut(s, &d) || store_compact(s, &d)) {
				fprintf(stderr, "bench_store: cut: %s\n", d.msg);
				return 1;
			}
			cut_s += now_s(CLOCK_MONOTONIC) - a;
			n_cuts++;
		}

		for (int p = 0; p < N_PROCS; p++) {
			char pid[16], svc[16];
			struct store_label l[2] = {{STORE_LABEL_SERVICE, svc}, {"pid", pid}};
			struct prof *pr = gen_profile(g, p, t);
			struct store_append a = {.labels = l,
						 .n_labels = 2,
						 .name = "process_cpu",
						 .time_ns = t,
						 .prof = pr};
			double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);

			snprintf(pid, sizeof(pid), "%d", 1000 + p);
			snprintf(svc, sizeof(svc), "svc-%02d", p % N_SERVICES);
			if (store_append(s, &a, &d)) {
				fprintf(stderr, "bench_store: append: %s\n", d.msg);
				return 1;
			}
			cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			ticks += (uint64_t)g->ticks[p];
			if (w < 360 / WINDOW_S * 10 && w % 10 == 0) { /* sample of the first hour */
				struct buf b;

				buf_init(&b, MEM_TEST, SIZE_MAX);
				if (pprof_encode(pr, true, &b) == 0) {
					pprof_gz_bytes += (double)b.len;
					pprof_ticks += (uint64_t)g->ticks[p];
				}
				buf_fini(&b);
			}
			prof_free(pr);
		}
	}
	t1 = t0 + (int64_t)windows * WINDOW_S * 1000000000LL;
	store_get_stats(s, &st);
	printf("ingest: %" PRIu64 " samples in %" PRIu64 " appends, %.2f s CPU: %.0f samples/s "
	       "per core (target >= 2M; fsync stubbed)\n",
	       ticks, st.appends, cpu, (double)ticks / cpu);
	if (!hourly) {
		head_bps = (double)st.head_bytes / (double)ticks;
		head_mib = (double)st.head_bytes / 1048576;
	}
	printf("head: %.1f MiB for %s, %.2f bytes per sample (target <= 16)\n", head_mib,
	       hourly ? "one hour (cut hourly)" : "all data", head_bps);
	report_queries(s, "head", hourly ? t1 - 3600000000000LL : t0, t1);
	{
		double a = now_s(CLOCK_MONOTONIC);

		if (store_cut(s, &d) || store_compact(s, &d)) {
			fprintf(stderr, "bench_store: cut: %s\n", d.msg);
			return 1;
		}
		cut_s += now_s(CLOCK_MONOTONIC) - a;
		n_cuts++;
		printf("cuts and compactions: %d, %.2f s in all\n", n_cuts, cut_s);
	}
	store_close(s);
	if (store_open(&o, &s, &d)) {
		fprintf(stderr, "bench_store: reopen: %s\n", d.msg);
		return 1;
	}
	store_get_stats(s, &st);
	printf("at rest: %.2f MiB in %" PRIu64 " blocks, %.3f bytes per sample (target <= 2); "
	       "gzipped pprof: %.2f bytes per sample (%.1fx larger)\n",
	       (double)st.block_bytes / 1048576, st.blocks, (double)st.block_bytes / (double)ticks,
	       pprof_gz_bytes / (double)pprof_ticks,
	       (pprof_gz_bytes / (double)pprof_ticks) / ((double)st.block_bytes / (double)ticks));
	report_queries(s, "blocks", t0, t1);
	store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (getenv("BENCH_STORE_KEEP"))
		printf("data kept in %s\n", dir);
	else if (system(cmd))
		fprintf(stderr, "bench_store: could not remove %s\n", dir);
	mem_free(g);
	return 0;
}

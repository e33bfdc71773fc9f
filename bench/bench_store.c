/*
 * bench_store.c — the storage engine benchmark: agent-like data (bench/agent_gen.h: 200
 * processes in 20 services, 19 Hz x 16 CPUs, 10 s profiles, Zipf-distributed stacks over 50k
 * distinct stacks of depth 2..40 sharing prefixes; the same data as bench_ch) fed through
 * store_append, then:
 *   ingest:  samples/s per core (thread CPU time of the append calls; WAL fsync stubbed by the
 *            I/O shim so the figure is the CPU cost, not the disk's latency);
 *   memory:  head bytes per sample (runs over 2 h cut and compact hourly, as the server does);
 *            bytes per sample at rest after the last cut and compaction (blocks), next to the
 *            same profiles as gzipped pprof files (the peer: what a pprof-file store keeps);
 *   queries: best of 3 — flame graph (merge) of one service over the whole range, series of
 *            all services with a 1-min step, diff of two 1-h windows; on the head (its last
 *            hour when cutting hourly) and on the blocks after a reopen.
 * A "sample" is one 19 Hz tick. The data reaches the store as an agent ships it: by default
 * one profile per host and window whose samples carry service_name and pid labels (lifted into
 * series labels, one series per process, as `ember agent --push-batch` ships a host's processes
 * in one profile); BENCH_STORE_SHAPE=process appends one profile per process and window instead.
 * Env: BENCH_STORE_HOURS (default 6), BENCH_STORE_DIR, BENCH_STORE_KEEP (keep the data
 * directory).
 * Usage: bench_store [HOURS]
 *        bench_store --queries DIR HOURS   (only the block queries, on a kept data directory)
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

#include "agent_gen.h"

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	const int64_t day = 86400000000000LL;
	struct store_stats st;
	uint64_t r0;

	store_get_stats(s, &st);
	r0 = st.rollup_reads;
	if (t1 - t0 > day) { /* the last day too, as a dashboard's default window */
		printf("  %-6s flame graph of one service, last 24 h:   %8.1f ms\n", where,
		       best_of_3(s, 0, "svc-03", t1 - day, t1));
		printf("  %-6s series of 20 services, 1-min step, 24 h: %8.1f ms\n", where,
		       best_of_3(s, 1, NULL, t1 - day, t1));
	}
	printf("  %-6s flame graph of one service over the range: %8.1f ms\n", where,
	       best_of_3(s, 0, "svc-03", t0, t1));
	printf("  %-6s series of 20 services, 1-min step:        %8.1f ms\n", where,
	       best_of_3(s, 1, NULL, t0, t1));
	printf("  %-6s diff of two 1-h windows of one service:  %8.1f ms\n", where,
	       best_of_3(s, 2, "svc-03", t0, t1));
	store_get_stats(s, &st);
	printf("  %-6s (series read through rollups by these queries: %" PRIu64 ")\n", where,
	       st.rollup_reads - r0);
}

/* The block queries again on a data directory kept by an earlier run (BENCH_STORE_KEEP). */
static int queries_only(const char *dir, double hours)
{
	struct store_io io = {.fsync = nop_fsync};
	struct store_opts o = {
		.dir = dir, .io = &io, .head_max_bytes = SIZE_MAX, .block_duration_ns = INT64_MAX};
	int64_t t0 = 1700000000LL * 1000000000LL;
	int windows = (int)(hours * 3600 / WINDOW_S);
	struct ember_diag d = {{0}};
	struct store *s;
	double a = now_s(CLOCK_MONOTONIC);

	if (store_open(&o, &s, &d)) {
		fprintf(stderr, "bench_store: %s: %s\n", dir, d.msg);
		return 1;
	}
	printf("open: %.1f ms\n", (now_s(CLOCK_MONOTONIC) - a) * 1000);
	report_queries(s, "blocks", t0, t0 + (int64_t)windows * WINDOW_S * 1000000000LL);
	store_close(s);
	return 0;
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
	const char *shape = getenv("BENCH_STORE_SHAPE");
	bool host = !shape || strcmp(shape, "process");
	int host_ticks = 0;
	double head_bps = 0, head_mib = 0, cut_s = 0;
	uint64_t ticks_cut = 0;
	int n_cuts = 0;
	char cmd[600];

	if (argc == 4 && !strcmp(argv[1], "--queries")) {
		mem_free(g);
		return queries_only(argv[2], atof(argv[3]));
	}
	snprintf(dir, sizeof(dir), "%s/ember-bench-store-%d",
		 getenv("BENCH_STORE_DIR") ? getenv("BENCH_STORE_DIR") : "/tmp", (int)getpid());
	o.dir = dir;
	gen_init(g);
	if (store_open(&o, &s, &d)) {
		fprintf(stderr, "bench_store: %s\n", d.msg);
		return 1;
	}
	for (int p = 0; p < N_PROCS; p++)
		host_ticks += g->ticks[p];
	printf("bench_store: %.1f h of data: %d processes, %d services, %d stacks, 10-s profiles, "
	       "appended as %s\n",
	       hours, N_PROCS, N_SERVICES, N_STACKS,
	       host ? "one profile per host and window (sample labels service_name, pid)"
		    : "one profile per process and window");
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

		if (host) { /* one append per window: the host's profile, split by sample labels */
			struct prof *pr = gen_host_profile(g, w, t);
			struct store_append a = {.name = "process_cpu", .time_ns = t, .prof = pr};
			double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);

			if (store_append(s, &a, &d)) {
				fprintf(stderr, "bench_store: append: %s\n", d.msg);
				return 1;
			}
			cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
			prof_free(pr);
			ticks += (uint64_t)host_ticks;
		}
		for (int p = 0; p < N_PROCS; p++) {
			char pid[16], svc[16];
			struct store_label l[2] = {{STORE_LABEL_SERVICE, svc}, {"pid", pid}};
			struct prof *pr;
			bool sample =
				w < 360 / WINDOW_S * 10 && w % 10 == 0; /* of the first hour */

			if (host && !sample)
				continue;
			pr = gen_profile(g, p, w, t);
			gen_labels(p, svc, pid);
			if (!host) {
				struct store_append a = {.labels = l,
							 .n_labels = 2,
							 .name = "process_cpu",
							 .time_ns = t,
							 .prof = pr};
				double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);

				if (store_append(s, &a, &d)) {
					fprintf(stderr, "bench_store: append: %s\n", d.msg);
					return 1;
				}
				cpu += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
				ticks += (uint64_t)g->ticks[p];
			}
			if (sample) {
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

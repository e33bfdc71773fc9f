/*
 * bench_merge.c — in-process timing of the pprof decoder and of decode+merge, on files already
 * in memory (no disk I/O in the timed regions). Reports:
 *   decode: uncompressed profile.proto bytes per second through pprof_decode (best of 3 runs;
 *           each decoded profile is freed inside the timed loop), first with glibc's default
 *           malloc, then with the settings the ember CLI uses (freed memory kept, not trimmed);
 *   merge_raw: decode+merge from the uncompressed bytes (decoder + merge without zlib);
 *   merge:  the gzipped files through pprof_decode_merge into one profile, then pprof_encode;
 *   merge_session: the same through pprof_parse + a merge session (pprof_merger), as the CLI.
 * Rates are computed from the process CPU time of the timed region (steadier than wall time on
 * a shared machine; the process is single-threaded here); wall time is printed next to it.
 * Run it pinned (taskset -c 0) for single-core figures.
 * Usage: bench_merge [--only decode|parse|session] FILE...
 * --only runs one part alone (decode: the tuned-malloc decode pass; parse: pprof_parse of the
 * uncompressed bytes, the merge's phase 1 without inflation, best of 3; session:
 * merge_session), for profilers and instruction counters (callgrind) that should see nothing
 * else.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "profile/profile.h"

#define RUNS 3

/* Zero: the codec's defaults. */
static const struct pprof_limits bench_limits;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall seconds of the last timed region, next to the CPU seconds the functions return. */
static double last_wall;

static int fail(const char *what, const char *path, int rc, const struct ember_diag *d)
{
	fprintf(stderr, "bench_merge: %s: %s: %s\n", what, path,
		d && d->msg[0] ? d->msg : ember_strerror(rc));
	return 1;
}

/* Merges every input into a new profile; returns seconds or a negative value on error. */
static double merge_all(struct buf *in, int n, char **paths, struct prof **out)
{
	struct prof *dst = prof_new();
	double t0 = cpu_s(), w0 = now_s();
	for (int i = 0; i < n; i++) {
		struct ember_diag d = {{0}};
		int rc = pprof_decode_merge(dst, in[i].data, in[i].len, &bench_limits, &d);
		if (rc < 0) {
			fail("decode+merge", paths[i], rc, &d);
			prof_free(dst);
			return -1;
		}
	}
	double t = cpu_s() - t0;
	last_wall = now_s() - w0;
	*out = dst;
	return t;
}

/* merge_all through a merge session (pprof_parse + pprof_merger_add), as `ember merge` does. */
static double merge_session(struct buf *in, int n, char **paths, struct prof **out)
{
	struct prof *dst = prof_new();
	struct pprof_merger *m = pprof_merger_new(dst);
	double t0 = cpu_s(), w0 = now_s();
	for (int i = 0; i < n; i++) {
		struct ember_diag d = {{0}};
		struct pprof_parsed *pp = NULL;
		int rc = pprof_parse(in[i].data, in[i].len, &bench_limits, &pp, &d);
		if (rc == 0)
			rc = pprof_merger_add(m, pp, &d);
		pprof_parsed_free(pp);
		if (rc < 0) {
			fail("parse+merge", paths[i], rc, &d);
			pprof_merger_free(m);
			prof_free(dst);
			return -1;
		}
	}
	pprof_merger_free(m);
	double t = cpu_s() - t0;
	last_wall = now_s() - w0;
	*out = dst;
	return t;
}

/* One input through pprof_decode + prof_free, or pprof_parse + pprof_parsed_free. */
static int decode_one(const struct buf *in, struct ember_diag *d)
{
	struct prof *p = NULL;
	int rc = pprof_decode(in->data, in->len, &bench_limits, &p, d);

	prof_free(p);
	return rc;
}

static int parse_one(const struct buf *in, struct ember_diag *d)
{
	struct pprof_parsed *pp = NULL;
	int rc = pprof_parse(in->data, in->len, &bench_limits, &pp, d);

	pprof_parsed_free(pp);
	return rc;
}

/* Best of RUNS passes of one() over every input (CPU seconds; the wall time of the best in
 * last_wall); negative on error. */
static double best_pass(const char *what, int (*one)(const struct buf *, struct ember_diag *),
			struct buf *raw, int n, char **paths)
{
	double best = 1e30, best_wall = 1e30;
	for (int r = 0; r < RUNS; r++) {
		double t0 = cpu_s(), w0 = now_s();
		for (int i = 0; i < n; i++) {
			struct ember_diag d = {{0}};
			int rc = one(&raw[i], &d);
			if (rc < 0) {
				fail(what, paths[i], rc, &d);
				return -1;
			}
		}
		double t = cpu_s() - t0, w = now_s() - w0;
		best = t < best ? t : best;
		best_wall = w < best_wall ? w : best_wall;
	}
	last_wall = best_wall;
	return best;
}

/* The decode and the parse alone (named functions: callgrind's --toggle-collect targets). */
static double decode_pass(struct buf *raw, int n, char **paths)
{
	return best_pass("decode", decode_one, raw, n, paths);
}

static double parse_pass(struct buf *raw, int n, char **paths)
{
	return best_pass("parse", parse_one, raw, n, paths);
}

/* --only: one part alone, with the malloc settings of the ember CLI. */
static int run_only(const char *only, struct buf *gz, struct buf *raw, int n, char **paths,
		    size_t raw_bytes)
{
	struct prof *merged = NULL;
	double t;

	static const struct {
		const char *name;
		double (*pass)(struct buf *raw, int n, char **paths);
		const char *note;
	} parts[] = {
		{"decode", decode_pass, " (malloc tuned as in the ember CLI)"},
		{"parse", parse_pass, ""},
	};

	mem_tune_batch();
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(parts); i++) {
		if (strcmp(only, parts[i].name) != 0)
			continue;
		t = parts[i].pass(raw, n, paths);
		if (t < 0)
			return 1;
		printf("%s: %d files, %.1f MB uncompressed, best of %d: %.3f s CPU (%.3f s wall) "
		       "= %.0f MB/s per core%s\n",
		       parts[i].name, n, (double)raw_bytes / 1e6, RUNS, t, last_wall,
		       (double)raw_bytes / 1e6 / t, parts[i].note);
		return 0;
	}
	t = merge_session(gz, n, paths, &merged);
	if (t < 0)
		return 1;
	printf("merge_session: %d files %.3f s CPU (%.3f s wall); merged: %zu samples, %u "
	       "locations\n",
	       n, t, last_wall, prof_n_samples(merged), prof_n_locations(merged));
	prof_free(merged);
	return 0;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	if (argc >= 3 && strcmp(argv[1], "--only") == 0) {
		only = argv[2];
		argc -= 2;
		argv += 2;
		if (strcmp(only, "decode") != 0 && strcmp(only, "parse") != 0 &&
		    strcmp(only, "session") != 0) {
			fprintf(stderr, "bench_merge: --only takes decode, parse or session\n");
			return 2;
		}
	}
	if (argc < 2) {
		fprintf(stderr, "usage: bench_merge [--only decode|parse|session] FILE...\n");
		return 2;
	}
	int n = argc - 1;
	char **paths = argv + 1;
	struct buf *gz = mem_calloc(MEM_TEST, (size_t)n, sizeof(*gz));
	struct buf *raw = mem_calloc(MEM_TEST, (size_t)n, sizeof(*raw));
	size_t gz_bytes = 0, raw_bytes = 0;
	for (int i = 0; i < n; i++) {
		struct ember_diag d = {{0}};
		buf_init(&gz[i], MEM_TEST, (size_t)1 << 30);
		buf_init(&raw[i], MEM_TEST, (size_t)1 << 30);
		int rc = buf_read_file(&gz[i], paths[i]);
		if (rc < 0)
			return fail("read", paths[i], rc, NULL);
		if (gzip_is(gz[i].data, gz[i].len)) {
			rc = gzip_inflate(gz[i].data, gz[i].len, &bench_limits.gzip, &raw[i], &d);
			if (rc < 0)
				return fail("inflate", paths[i], rc, &d);
		} else {
			rc = buf_append(&raw[i], gz[i].data, gz[i].len);
			if (rc < 0)
				return fail("copy", paths[i], rc, NULL);
		}
		gz_bytes += gz[i].len;
		raw_bytes += raw[i].len;
	}

	if (only)
		return run_only(only, gz, raw, n, paths, raw_bytes);
	double best = decode_pass(raw, n, paths);
	if (best < 0)
		return 1;
	printf("decode: %d files, %.1f MB uncompressed, best of %d: %.3f s CPU (%.3f s wall) = "
	       "%.0f MB/s per core (glibc's default malloc)\n",
	       n, (double)raw_bytes / 1e6, RUNS, best, last_wall, (double)raw_bytes / 1e6 / best);
	mem_tune_batch();
	best = decode_pass(raw, n, paths);
	if (best < 0)
		return 1;
	printf("decode: %d files, %.1f MB uncompressed, best of %d: %.3f s CPU (%.3f s wall) = "
	       "%.0f MB/s per core (malloc tuned as in the ember CLI)\n",
	       n, (double)raw_bytes / 1e6, RUNS, best, last_wall, (double)raw_bytes / 1e6 / best);

	struct prof *merged = NULL;
	double t_raw = merge_all(raw, n, paths, &merged);
	if (t_raw < 0)
		return 1;
	prof_free(merged);
	printf("merge_raw: %d files decode+merge from uncompressed bytes: %.3f s CPU (%.3f s wall; "
	       "%.0f MB/s per core)\n",
	       n, t_raw, last_wall, (double)raw_bytes / 1e6 / t_raw);

	double t_gz = merge_all(gz, n, paths, &merged);
	if (t_gz < 0)
		return 1;
	double t_gz_wall = last_wall;
	struct buf out;
	buf_init(&out, MEM_TEST, SIZE_MAX);
	double t0 = now_s();
	int rc = pprof_encode(merged, true, &out);
	double t_enc = now_s() - t0;
	if (rc < 0)
		return fail("encode", "merged", rc, NULL);
	int64_t total = prof_n_sample_types(merged) ? prof_total(merged, 0) : 0;
	printf("merge: %d files (%.1f MB gzip) gunzip+decode+merge %.3f s CPU (%.3f s wall), "
	       "encode %.3f s, total %.3f s; merged: %zu samples, %u locations, %u functions, "
	       "value[0] total %" PRId64 "\n",
	       n, (double)gz_bytes / 1e6, t_gz, t_gz_wall, t_enc, t_gz + t_enc,
	       prof_n_samples(merged), prof_n_locations(merged), prof_n_functions(merged), total);

	prof_free(merged);
	double t_ses = merge_session(gz, n, paths, &merged);
	if (t_ses < 0)
		return 1;
	printf("merge_session: %d files gunzip+parse+merge through a merge session (as ember "
	       "merge) "
	       "%.3f s CPU (%.3f s wall); merged: %zu samples, %u locations\n",
	       n, t_ses, last_wall, prof_n_samples(merged), prof_n_locations(merged));

	buf_fini(&out);
	prof_free(merged);
	for (int i = 0; i < n; i++) {
		buf_fini(&gz[i]);
		buf_fini(&raw[i]);
	}
	mem_free(gz);
	mem_free(raw);
	return 0;
}

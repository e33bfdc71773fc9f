/*
 * cmd_merge.c — `ember merge -o OUT FILE...`: merges profiles (pprof or folded, sample types
 * must agree) into one gzipped pprof file, as `go tool pprof -proto FILE... > OUT` does.
 * Inputs are decoded straight into the merged profile, one at a time, in argument order.
 *
 * With several inputs and more than one CPU to run on, a reader thread (MERGE_READERS; reader r
 * takes inputs r, r + R, ...) reads and gunzips the next inputs while the main thread parses
 * (pprof_parse) and merges input i into the result (a few slots, so memory is the merged profile
 * plus MERGE_SLOTS inputs). Gunzip costs about as much as parsing and merging together (perf,
 * the 1000 bench profiles: 48% of the CPU time on the reader, 52% on the main thread), so one
 * reader keeps both CPUs of a two-CPU machine busy; a second would only take turns with the main
 * thread. What crosses from one CPU to the other is the inflated bytes, read once in order; the
 * parsed tables, which the merge reads all over, are made where they are used. (Parsing on two
 * readers as well took 0.84-1.00 s of wall time on two CPUs where this takes 0.78-0.82 s.)
 * On a single CPU (e.g. under taskset -c 0) a thread would only add context switches, so each
 * input is then read, gunzipped, parsed and merged in turn on the main thread. Either way the
 * merging goes through a merge session (pprof_merger), whose caches outlive each input. The
 * reader only prepares: whatever it could not prepare plainly (a read error, an empty file, an
 * input gunzip rejects) the main thread handles itself through the usual path, as it does folded
 * text and an input the parser rejects, so every message and exit code is the same as without
 * threads. Only the main thread touches the result.
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "format/pprof.h"
#include "profile/merge.h"

static const char merge_usage[] =
	"usage: ember merge -o OUT FILE...\n"
	"\n"
	"Merge profiles into one gzipped pprof file. The inputs (pprof raw or gzipped, or folded\n"
	"stacks; '-' is standard input) must have the same sample types; samples with the same\n"
	"stack and labels are added up, the time is the earliest, durations are summed.\n"
	"\n"
	"Options:\n"
	"  -o, --output OUT   the merged profile; '-' writes standard output\n"
	"  -h, --help         show this help\n"
	"\n" CLI_EXIT_HELP;

#define MERGE_SLOTS   4 /* a multiple of every reader count used */
#define MERGE_READERS 1

/* One input as prepared by the reader. */
struct merge_slot {
	struct buf file; /* the file's bytes */
	struct buf raw;	 /* gunzipped from file, when inflated */
	bool read;	 /* file holds the whole input */
	bool inflated;	 /* raw holds its pprof bytes */
	bool full;	 /* prepared, not yet consumed */
};

struct merge_pipe {
	char *const *paths;
	int n, n_readers;
	struct merge_slot slot[MERGE_SLOTS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/* Reads path into s and gunzips it when it is gzip (reader thread). */
static void prepare(struct merge_slot *s, const char *path)
{
	struct ember_diag d = {{0}};

	buf_reset(&s->file);
	buf_reset(&s->raw);
	s->inflated = false;
	s->read = buf_read_file(&s->file, path) == 0 && s->file.len > 0;
	if (s->read && gzip_is(s->file.data, s->file.len))
		s->inflated = pprof_gunzip(s->file.data, s->file.len, &cli_pprof_limits, &s->raw,
					   &d) == 0;
}

struct merge_reader {
	struct merge_pipe *mp;
	int first; /* this reader's first input */
};

static void *reader(void *arg)
{
	const struct merge_reader *r = arg;
	struct merge_pipe *mp = r->mp;

	for (int i = r->first; i < mp->n; i += mp->n_readers) {
		struct merge_slot *s = &mp->slot[i % MERGE_SLOTS];

		pthread_mutex_lock(&mp->mu);
		while (s->full && !mp->stop)
			pthread_cond_wait(&mp->cv, &mp->mu);
		bool stop = mp->stop;
		pthread_mutex_unlock(&mp->mu);
		if (stop)
			break;
		prepare(s, mp->paths[i]);
		pthread_mutex_lock(&mp->mu);
		s->full = true;
		pthread_cond_broadcast(&mp->cv);
		pthread_mutex_unlock(&mp->mu);
	}
	return NULL;
}

/* The pprof bytes of a prepared input that the session can take (what pprof_parse of the file
 * would read), or NULL: not read, folded text, a gzip that did not inflate, or one that holds
 * another gzip (which pprof_parse of the file would not unwrap twice). */
static const struct buf *pprof_bytes(const struct merge_slot *s)
{
	if (!s->read || cli_is_folded_text(&s->file))
		return NULL;
	if (!gzip_is(s->file.data, s->file.len))
		return &s->file;
	return s->inflated && !gzip_is(s->raw.data, s->raw.len) ? &s->raw : NULL;
}

/* Parses and merges one prepared input into dst (m's target); the messages of
 * cli_load_merged. */
static int merge_one(const char *cmd, const char *path, struct merge_slot *s,
		     struct pprof_merger *m, struct prof *dst)
{
	const struct buf *b = pprof_bytes(s);
	struct pprof_parsed *pp = NULL;
	struct ember_diag d = {{0}};
	struct prof *p = NULL;
	int rc;

	if (b && pprof_parse(b->data, b->len, &cli_pprof_limits, &pp, &d) == 0) {
		rc = pprof_merger_add(m, pp, &d);
		pprof_parsed_free(pp);
		if (rc == 0)
			return 0;
		cli_error(cmd, "%s: %s", path, ember_diag_msg(&d, rc));
		return CLI_EXIT_ERR;
	}
	if (s->read) /* the usual path reports why the parser rejects it */
		return cli_merge_bytes(cmd, path, &s->file, dst);
	/* Not read (or empty): read it again here, which reports why. */
	rc = cli_load_merged(cmd, (char *const *)&path, 1, &p);
	if (rc == 0) {
		if (prof_merge(dst, p, &d) < 0) {
			cli_error(cmd, "%s: %s", path, d.msg);
			rc = CLI_EXIT_ERR;
		}
		prof_free(p);
	}
	return rc;
}

/* How many reader threads to use: none on a single CPU, else one per CPU up to MERGE_READERS,
 * and never more than the inputs after the first. */
static int reader_count(int n)
{
	cpu_set_t set;
	int cpus = 1;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		cpus = CPU_COUNT(&set);
	cpus = cpus > 1 ? EMBER_MIN(cpus, MERGE_READERS) : 0;
	return EMBER_MIN(cpus, n);
}

/* cli_load_merged through a merge session (pprof_merger: its caches make each input after the
 * first cheaper), with the reading and gunzip of the next inputs on n_readers reader threads, or
 * none (then each input is prepared just before it is merged). */
static int load_pipelined(const char *cmd, char *const *paths, int n, int n_readers,
			  struct prof **out)
{
	struct merge_pipe mp = {.paths = paths, .n = n, .n_readers = n_readers};
	struct merge_reader rd[MERGE_READERS];
	pthread_t th[MERGE_READERS];
	int started = 0;
	struct pprof_merger *m;
	struct prof *dst;
	int rc = 0;

	for (int k = 0; k < MERGE_SLOTS; k++) {
		buf_init(&mp.slot[k].file, MEM_CLI, CLI_MAX_INPUT_BYTES);
		buf_init(&mp.slot[k].raw, MEM_CLI, SIZE_MAX);
	}
	pthread_mutex_init(&mp.mu, NULL);
	pthread_cond_init(&mp.cv, NULL);
	for (; started < n_readers; started++) {
		rd[started] = (struct merge_reader){.mp = &mp, .first = started};
		if (pthread_create(&th[started], NULL, reader, &rd[started]) != 0)
			break;
	}
	if (started < n_readers) {
		/* Stop the ones started (they handle only their own inputs), then go serial. */
		pthread_mutex_lock(&mp.mu);
		mp.stop = true;
		pthread_cond_broadcast(&mp.cv);
		pthread_mutex_unlock(&mp.mu);
		for (int k = 0; k < started; k++)
			pthread_join(th[k], NULL);
		rc = cli_load_merged(cmd, paths, n, out);
		goto out;
	}
	dst = prof_new();
	m = pprof_merger_new(dst);
	for (int i = 0; i < n && rc == 0; i++) {
		struct merge_slot *s = &mp.slot[n_readers ? i % MERGE_SLOTS : 0];

		if (!n_readers) {
			prepare(s, paths[i]);
			rc = merge_one(cmd, paths[i], s, m, dst);
			continue;
		}
		pthread_mutex_lock(&mp.mu);
		while (!s->full)
			pthread_cond_wait(&mp.cv, &mp.mu);
		pthread_mutex_unlock(&mp.mu);
		rc = merge_one(cmd, paths[i], s, m, dst);
		pthread_mutex_lock(&mp.mu);
		s->full = false;
		if (rc != 0)
			mp.stop = true;
		pthread_cond_broadcast(&mp.cv);
		pthread_mutex_unlock(&mp.mu);
	}
	for (int k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pprof_merger_free(m);
	if (rc != 0) {
		prof_free(dst);
		dst = NULL;
	}
	*out = dst;
out:
	for (int k = 0; k < MERGE_SLOTS; k++) {
		buf_fini(&mp.slot[k].file);
		buf_fini(&mp.slot[k].raw);
	}
	pthread_cond_destroy(&mp.cv);
	pthread_mutex_destroy(&mp.mu);
	return rc;
}

int cmd_merge(int argc, char **argv)
{
	const char *cmd = argv[0];
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			fputs(merge_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (!out_path)
		return cli_usage_error(cmd, "no output: use -o OUT ('-' for standard output)");
	if (optind >= argc)
		return cli_usage_error(cmd, "no input files");

	struct prof *p = NULL;
	int n = argc - optind;
	int rc = n > 1 ? load_pipelined(cmd, argv + optind, n, reader_count(n - 1), &p)
		       : cli_load_merged(cmd, argv + optind, n, &p);
	if (rc != 0)
		return rc;
	struct buf out;
	buf_init(&out, MEM_CLI, SIZE_MAX);
	int erc = pprof_encode(p, true, &out);
	if (erc < 0) {
		cli_error(cmd, "%s: cannot encode: %s", out_path, ember_strerror(erc));
		rc = CLI_EXIT_ERR;
	} else {
		rc = cli_write(cmd, &out, out_path);
	}
	buf_fini(&out);
	prof_free(p);
	return rc;
}

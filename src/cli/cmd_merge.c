/*
 * cmd_merge.c — `ember merge -o OUT FILE...`: merges profiles (pprof or folded, sample types
 * must agree) into one gzipped pprof file, as `go tool pprof -proto FILE... > OUT` does.
 * Inputs are decoded straight into the merged profile, one at a time, in argument order.
 *
 * With several inputs, a reader thread reads and gunzips input i+1 while the main thread
 * decodes and merges input i (two slots, so memory is the merged profile plus two inputs). The
 * reader only prepares bytes: whatever it could not prepare plainly (a read error, an empty
 * file, bad gzip) the main thread reads again itself through the usual path, so every message
 * and exit code is the same as without the thread. The merge itself stays on one thread.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "format/gzip.h"
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

#define MERGE_SLOTS 2

/* One input as prepared by the reader. */
struct merge_slot {
	struct buf file; /* the file's bytes */
	struct buf raw;	 /* their inflation when gzipped */
	const struct buf *use; /* what to decode, or NULL: the main thread reads the file itself */
	bool full;	       /* prepared, not yet consumed */
};

struct merge_pipe {
	char *const *paths;
	int n;
	struct merge_slot slot[MERGE_SLOTS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

/* Reads and gunzips paths[i] into s (reader thread). */
static void prepare(struct merge_slot *s, const char *path)
{
	struct gzip_limits gl = {.max_out = CLI_MAX_INPUT_BYTES, .max_ratio = 0};

	buf_reset(&s->file);
	buf_reset(&s->raw);
	s->use = NULL;
	if (buf_read_file(&s->file, path) < 0 || s->file.len == 0)
		return;
	if (!gzip_is(s->file.data, s->file.len)) {
		s->use = &s->file;
		return;
	}
	/* Same limits as the decoder's own gunzip; an empty inflation keeps the gzip path. */
	if (gzip_inflate(s->file.data, s->file.len, &gl, &s->raw, NULL) == 0 && s->raw.len > 0)
		s->use = &s->raw;
	else
		s->use = &s->file;
}

static void *reader(void *arg)
{
	struct merge_pipe *mp = arg;

	for (int i = 0; i < mp->n; i++) {
		struct merge_slot *s = &mp->slot[i % MERGE_SLOTS];

		pthread_mutex_lock(&mp->mu);
		while (s->full && !mp->stop)
			pthread_cond_wait(&mp->cv, &mp->mu);
		pthread_mutex_unlock(&mp->mu);
		if (mp->stop)
			break;
		prepare(s, mp->paths[i]);
		pthread_mutex_lock(&mp->mu);
		s->full = true;
		pthread_cond_broadcast(&mp->cv);
		pthread_mutex_unlock(&mp->mu);
	}
	return NULL;
}

/* Merges input i from its slot (or, when it was not prepared, through cli_load_profile). */
static int merge_one(const char *cmd, const char *path, const struct merge_slot *s,
		     struct prof *dst)
{
	struct prof *p = NULL;
	int rc;

	if (s->use)
		return cli_merge_bytes(cmd, path, s->use, dst);
	rc = cli_load_merged(cmd, (char *const *)&path, 1, &p);
	if (rc == 0) {
		struct ember_diag d = {{0}};

		if (prof_merge(dst, p, &d) < 0) {
			cli_error(cmd, "%s: %s", path, d.msg);
			rc = CLI_EXIT_ERR;
		}
		prof_free(p);
	}
	return rc;
}

/* cli_load_merged with the reading and gunzip of the next input on a second thread. */
static int load_pipelined(const char *cmd, char *const *paths, int n, struct prof **out)
{
	struct merge_pipe mp = {.paths = paths, .n = n};
	struct prof *dst;
	pthread_t th;
	int rc = 0;

	for (int k = 0; k < MERGE_SLOTS; k++) {
		buf_init(&mp.slot[k].file, MEM_CLI, CLI_MAX_INPUT_BYTES);
		buf_init(&mp.slot[k].raw, MEM_CLI, CLI_MAX_INPUT_BYTES);
	}
	pthread_mutex_init(&mp.mu, NULL);
	pthread_cond_init(&mp.cv, NULL);
	if (pthread_create(&th, NULL, reader, &mp) != 0) {
		rc = cli_load_merged(cmd, paths, n, out);
		goto out;
	}
	dst = prof_new();
	for (int i = 0; i < n && rc == 0; i++) {
		struct merge_slot *s = &mp.slot[i % MERGE_SLOTS];

		pthread_mutex_lock(&mp.mu);
		while (!s->full)
			pthread_cond_wait(&mp.cv, &mp.mu);
		pthread_mutex_unlock(&mp.mu);
		rc = merge_one(cmd, paths[i], s, dst);
		pthread_mutex_lock(&mp.mu);
		s->full = false;
		if (rc != 0)
			mp.stop = true;
		pthread_cond_broadcast(&mp.cv);
		pthread_mutex_unlock(&mp.mu);
	}
	pthread_join(th, NULL);
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
	int rc = n > 1 ? load_pipelined(cmd, argv + optind, n, &p)
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

/*
 * cli_io.c — profile files in and out for the CLI: reading with a size cap, detecting the input
 * format (gzip or raw profile.proto vs folded text), decoding with the decoder's own message
 * passed through, merging many inputs, choosing sample types, and naming output formats.
 * Every error message names the file; this file never exits the process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "format/folded.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "profile/merge.h"

/* How much of the start of an input is inspected to tell text from binary. */
#define SNIFF_BYTES 4096

const struct pprof_limits cli_pprof_limits = {.gzip = {.max_out = CLI_MAX_INPUT_BYTES},
					      .max_bytes = CLI_MAX_INPUT_BYTES};

/* Folded text has no control bytes but tab, CR and LF; profile.proto starts with a tag and a
 * length, which always puts a control byte in the first few bytes. */
static bool looks_like_text(const uint8_t *d, size_t n)
{
	size_t m = EMBER_MIN(n, (size_t)SNIFF_BYTES);
	for (size_t i = 0; i < m; i++) {
		uint8_t c = d[i];
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
			return false;
	}
	return true;
}

static void report(const char *cmd, const char *path, int rc, const struct ember_diag *d)
{
	const char *msg = ember_diag_msg(d, rc);
	cli_error(cmd, "%s: %s", path, msg);
}

static int read_input(const char *cmd, const char *path, struct buf *b)
{
	int rc = buf_read_file(b, path);
	if (rc == -EMBER_ELIMIT) {
		cli_error(cmd, "%s: larger than the %zu MiB input limit", path,
			  CLI_MAX_INPUT_BYTES >> 20);
		return CLI_EXIT_ERR;
	}
	if (rc < 0) {
		cli_error(cmd, "%s: %s", path, ember_strerror(rc));
		return CLI_EXIT_ERR;
	}
	if (b->len == 0) {
		cli_error(cmd, "%s: empty file, not a profile", path);
		return CLI_EXIT_ERR;
	}
	return 0;
}

static int folded_into(const char *cmd, const char *path, const uint8_t *data, size_t len,
		       struct prof *dst, struct prof **out)
{
	struct ember_diag d = {{0}};
	struct prof *p = NULL;
	int rc = folded_read((const char *)data, len, NULL, NULL, &p, &d);
	if (rc < 0) {
		report(cmd, path, rc, &d);
		return CLI_EXIT_ERR;
	}
	if (!dst) {
		*out = p;
		return 0;
	}
	memset(&d, 0, sizeof(d));
	rc = prof_merge(dst, p, &d);
	prof_free(p);
	if (rc < 0) {
		report(cmd, path, rc, &d);
		return CLI_EXIT_ERR;
	}
	return 0;
}

/* Gzipped input is normally pprof; a gzipped folded file is recognised after the fact. */
static int gzipped_folded(const char *cmd, const char *path, const struct buf *in, struct prof *dst,
			  struct prof **out, bool *handled)
{
	struct buf raw;
	struct gzip_limits gl = {.max_out = CLI_MAX_INPUT_BYTES, .max_ratio = 0};
	int ret = 0;
	*handled = false;
	buf_init(&raw, MEM_CLI, CLI_MAX_INPUT_BYTES);
	if (gzip_inflate(in->data, in->len, &gl, &raw, NULL) == 0 && raw.len > 0 &&
	    looks_like_text(raw.data, raw.len)) {
		*handled = true;
		ret = folded_into(cmd, path, raw.data, raw.len, dst, out);
	}
	buf_fini(&raw);
	return ret;
}

/* Decodes b (the contents of path) into a new profile (*out) or, when dst is set, into dst. */
static int decode_into(const char *cmd, const char *path, const struct buf *b, struct prof *dst,
		       struct prof **out)
{
	bool gz = gzip_is(b->data, b->len);
	if (!gz && looks_like_text(b->data, b->len))
		return folded_into(cmd, path, b->data, b->len, dst, out);

	struct ember_diag d = {{0}};
	int rc;
	if (dst)
		rc = pprof_decode_merge(dst, b->data, b->len, &cli_pprof_limits, &d);
	else
		rc = pprof_decode(b->data, b->len, &cli_pprof_limits, out, &d);
	if (rc == 0)
		return 0;
	if (gz && rc == -EMBER_EFORMAT) {
		bool handled;
		int frc = gzipped_folded(cmd, path, b, dst, out, &handled);
		if (handled)
			return frc;
	}
	report(cmd, path, rc, &d);
	return CLI_EXIT_ERR;
}

int cli_merge_bytes(const char *cmd, const char *path, const struct buf *b, struct prof *dst)
{
	return decode_into(cmd, path, b, dst, NULL);
}

bool cli_is_folded_text(const struct buf *b)
{
	return !gzip_is(b->data, b->len) && looks_like_text(b->data, b->len);
}

int cli_load_profile(const char *cmd, const char *path, struct prof **out)
{
	struct buf b;
	buf_init(&b, MEM_CLI, CLI_MAX_INPUT_BYTES);
	*out = NULL;
	int rc = read_input(cmd, path, &b);
	if (rc == 0)
		rc = decode_into(cmd, path, &b, NULL, out);
	buf_fini(&b);
	return rc;
}

int cli_load_merged(const char *cmd, char *const *paths, int n, struct prof **out)
{
	struct buf b;
	struct prof *dst = prof_new();
	int rc = 0;
	buf_init(&b, MEM_CLI, CLI_MAX_INPUT_BYTES);
	for (int i = 0; i < n && rc == 0; i++) {
		buf_reset(&b);
		rc = read_input(cmd, paths[i], &b);
		if (rc == 0)
			rc = decode_into(cmd, paths[i], &b, dst, NULL);
	}
	buf_fini(&b);
	if (rc != 0) {
		prof_free(dst);
		*out = NULL;
		return rc;
	}
	*out = dst;
	return 0;
}

static void list_sample_types(const struct prof *p, char *out, size_t n)
{
	const struct prof_value_type *st = prof_sample_types(p);
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < prof_n_sample_types(p) && used < n; i++) {
		int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "",
				 prof_string(p, st[i].type));
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int cli_pick_sample_type(const char *cmd, const char *what, const struct prof *p, const char *name,
			 size_t *vi)
{
	size_t n = prof_n_sample_types(p);
	if (n == 0) {
		cli_error(cmd, "%s: the profile has no sample types", what);
		return CLI_EXIT_ERR;
	}
	if (!name) {
		*vi = prof_default_sample_type(p);
		return 0;
	}
	int idx = prof_find_sample_type(p, name, NULL);
	if (idx >= 0) {
		*vi = (size_t)idx;
		return 0;
	}
	/* pprof's -sample_index also takes a 0-based index. */
	char *end = NULL;
	errno = 0;
	long v = strtol(name, &end, 10);
	if (errno == 0 && end != name && *end == '\0' && v >= 0 && (size_t)v < n) {
		*vi = (size_t)v;
		return 0;
	}
	char types[400];
	list_sample_types(p, types, sizeof(types));
	cli_error(cmd, "%s: no sample type '%s' (the profile has: %s)", what, name, types);
	return CLI_EXIT_ERR;
}

enum cli_out_format cli_out_format_parse(const char *name)
{
	if (!strcmp(name, "pprof") || !strcmp(name, "proto"))
		return CLI_OUT_PPROF;
	if (!strcmp(name, "folded") || !strcmp(name, "collapsed"))
		return CLI_OUT_FOLDED;
	if (!strcmp(name, "speedscope"))
		return CLI_OUT_SPEEDSCOPE;
	if (!strcmp(name, "json") || !strcmp(name, "flamebearer"))
		return CLI_OUT_FLAMEBEARER;
	if (!strcmp(name, "svg"))
		return CLI_OUT_SVG;
	return CLI_OUT_NONE;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum cli_out_format cli_out_format_from_path(const char *path)
{
	static const struct {
		const char *ext;
		enum cli_out_format f;
	} exts[] = {
		{".speedscope.json", CLI_OUT_SPEEDSCOPE},
		{".json", CLI_OUT_FLAMEBEARER},
		{".svg", CLI_OUT_SVG},
		{".pb.gz", CLI_OUT_PPROF},
		{".pb", CLI_OUT_PPROF},
		{".pprof", CLI_OUT_PPROF},
		{".prof", CLI_OUT_PPROF},
		{".folded", CLI_OUT_FOLDED},
		{".collapsed", CLI_OUT_FOLDED},
		{".txt", CLI_OUT_FOLDED},
	};
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(exts); i++)
		if (ends_with(path, exts[i].ext))
			return exts[i].f;
	return CLI_OUT_NONE;
}

int cli_write(const char *cmd, const struct buf *b, const char *path)
{
	int rc = buf_write_file(b, path);
	if (rc < 0) {
		cli_error(cmd, "%s: cannot write: %s", strcmp(path, "-") ? path : "stdout",
			  ember_strerror(rc));
		return CLI_EXIT_ERR;
	}
	return 0;
}

void cli_flamebearer_units(const struct prof *p, size_t vi, const char **units,
			   int64_t *sample_rate)
{
	const struct prof_value_type *st = &prof_sample_types(p)[vi];
	const char *type = prof_string(p, st->type);
	const char *unit = prof_string(p, st->unit);
	*sample_rate = 100;
	if (!strcmp(unit, "nanoseconds")) {
		/* Values are ns; a rate of 1e9 "samples" per second makes the UI show seconds. */
		*units = strstr(type, "delay") || strstr(type, "lock") ? "lock_nanoseconds"
								       : "samples";
		*sample_rate = 1000000000;
	} else if (!strcmp(unit, "bytes")) {
		*units = "bytes";
	} else if (strstr(type, "objects")) {
		*units = "objects";
	} else if (!strcmp(type, "goroutine") || !strcmp(type, "goroutines")) {
		*units = "goroutines";
	} else if (!strcmp(type, "contentions")) {
		*units = "lock_samples";
	} else {
		*units = "samples";
	}
}

/*
 * cmd_diff.c — `ember diff BASE NEW`: per-function comparison of two profiles, biggest absolute
 * change first (base, new, delta, delta%), and optionally a differential flame graph (SVG, or
 * flamebearer diff JSON) with widths from NEW and colour from the change. Function names are
 * joined through a string table; the library computes the per-profile top tables and the tree.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "cli/cli.h"
#include "format/flamebearer.h"
#include "format/svg.h"
#include "profile/flame.h"
#include "profile/merge.h"
#include "profile/top.h"

#define DEFAULT_MAX_NODES 8192

static const char diff_usage[] =
	"usage: ember diff BASE NEW [-o OUT] [-n N] [--cum] [--sample-type NAME] [--normalize]\n"
	"                  [--raw] [--max-nodes N]\n"
	"\n"
	"Compare two profiles (pprof or folded; '-' is standard input) per function and print the\n"
	"biggest changes first: base value, new value, delta = new - base, and delta as a\n"
	"percentage of the base value. Functions whose value did not change are not listed.\n"
	"\n"
	"Options:\n"
	"  -o, --output OUT        also write a differential flame graph: .svg -> SVG (widths "
	"from\n"
	"                          NEW, red = grew, blue = shrank), .json -> flamebearer diff "
	"JSON\n"
	"  -f, --format FMT        svg | json, when OUT's extension says neither; with -o -\n"
	"                          the graph goes to standard output and the table is not printed\n"
	"  -n, --nodecount N       rows to print (default 20; 0 = all)\n"
	"  -c, --cum               compare cumulative values instead of flat\n"
	"  -t, --sample-type NAME  sample type (default: NEW's default type; BASE must have it)\n"
	"      --normalize         scale BASE so that its total equals NEW's first\n"
	"      --raw               print values as exact integers in the profile's unit\n"
	"      --max-nodes N       flame graph: fold the smallest subtrees beyond N nodes\n"
	"                          (default 8192; 0 = no limit)\n"
	"  -h, --help              show this help\n"
	"\n" CLI_EXIT_HELP;

struct diff_opts {
	const char *out;
	enum cli_out_format fmt;
	long n;
	bool by_cum;
	bool raw;
	bool normalize;
	const char *sample_type;
	long max_nodes;
};

struct diff_row {
	uint32_t name; /* id in the name table */
	int64_t base;
	int64_t cur;
};

struct diff_table {
	struct strtab *names;
	struct diff_row *rows; /* indexed by name id - 1 */
	size_t n;
	size_t cap;
};

static struct diff_row *table_row(struct diff_table *t, const char *name)
{
	uint32_t id = strtab_intern_cstr(t->names, name);
	if (id > t->n) {
		mem_grow(MEM_CLI, (void **)&t->rows, &t->cap, id, sizeof(*t->rows));
		for (size_t i = t->n; i < id; i++)
			t->rows[i] = (struct diff_row){.name = (uint32_t)(i + 1)};
		t->n = id;
	}
	return &t->rows[id - 1];
}

static void table_add(struct diff_table *t, const struct prof *p, size_t vi, bool by_cum,
		      bool is_base)
{
	struct prof_top *top = prof_top_new(p, vi, by_cum);
	for (size_t i = 0; i < prof_top_len(top); i++) {
		const struct prof_top_row *r = prof_top_row(top, i);
		struct diff_row *row = table_row(t, r->name);
		int64_t v = by_cum ? r->cum : r->flat;
		if (is_base)
			row->base += v;
		else
			row->cur += v;
	}
	prof_top_free(top);
}

static const struct strtab *sort_names; /* qsort has no context argument */

static int cmp_rows(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	int64_t dx = x->cur - x->base, dy = y->cur - y->base;
	uint64_t ax = dx < 0 ? (uint64_t)0 - (uint64_t)dx : (uint64_t)dx;
	uint64_t ay = dy < 0 ? (uint64_t)0 - (uint64_t)dy : (uint64_t)dy;
	if (ax != ay)
		return ax > ay ? -1 : 1;
	return strcmp(strtab_get(sort_names, x->name, NULL), strtab_get(sort_names, y->name, NULL));
}

static void format_delta(char *out, size_t n, int64_t v, const struct cli_scale *sc)
{
	char tmp[48];
	cli_scale_format(sc, tmp, sizeof(tmp), v);
	snprintf(out, n, "%s%s", v > 0 ? "+" : "", tmp);
}

static void format_delta_pct(char *out, size_t n, int64_t base, int64_t cur)
{
	if (base == 0)
		snprintf(out, n, "%s", cur == 0 ? "0%" : "new");
	else
		snprintf(out, n, "%+.2f%%",
			 100.0 * ((double)cur - (double)base) / fabs((double)base));
}

static void print_table(const struct prof *cur, size_t vi, struct diff_table *t, int64_t base_total,
			int64_t cur_total, const struct diff_opts *o)
{
	const struct prof_value_type *st = &prof_sample_types(cur)[vi];
	const char *unit = prof_string(cur, st->unit);
	char a[64], b[64], c[64], d[64];

	sort_names = t->names;
	qsort(t->rows, t->n, sizeof(*t->rows), cmp_rows);
	sort_names = NULL;

	size_t changed = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].cur != t->rows[i].base)
			changed++;
	size_t show = o->n == 0 ? changed : EMBER_MIN(changed, (size_t)o->n);

	/* One display unit for the table, from its smallest non-zero value and largest total. */
	int64_t min_value = 0;
	for (size_t i = 0; i < show; i++) {
		const struct diff_row *r = &t->rows[i];
		int64_t vals[3] = {r->base, r->cur, r->cur - r->base};
		for (size_t k = 0; k < 3; k++) {
			int64_t v = vals[k] < 0 ? -vals[k] : vals[k];
			if (v != 0 && (min_value == 0 || v < min_value))
				min_value = v;
		}
	}
	struct cli_scale sc;
	cli_scale_pick(&sc, unit, min_value, EMBER_MAX(base_total, cur_total), o->raw);

	printf("Type: %s (%s)\n", prof_string(cur, st->type), o->by_cum ? "cum" : "flat");
	cli_scale_format(&sc, a, sizeof(a), base_total);
	cli_scale_format(&sc, b, sizeof(b), cur_total);
	format_delta(c, sizeof(c), cur_total - base_total, &sc);
	format_delta_pct(d, sizeof(d), base_total, cur_total);
	printf("Base total %s, new total %s, change %s (%s)\n", a, b, c, d);
	if (show < changed)
		printf("Showing top %zu changes out of %zu\n", show, changed);
	printf("%10s %10s %10s %9s  %s\n", "base", "new", "delta", "delta%", "name");
	for (size_t i = 0; i < show; i++) {
		const struct diff_row *r = &t->rows[i];
		cli_scale_format(&sc, a, sizeof(a), r->base);
		cli_scale_format(&sc, b, sizeof(b), r->cur);
		format_delta(c, sizeof(c), r->cur - r->base, &sc);
		format_delta_pct(d, sizeof(d), r->base, r->cur);
		printf("%10s %10s %10s %9s  %s\n", a, b, c, d, strtab_get(t->names, r->name, NULL));
	}
}

static int write_graph(const char *cmd, const struct diff_opts *o, const struct prof *base,
		       size_t bvi, const struct prof *cur, size_t cvi)
{
	struct flame *f = flame_new_diff(base, bvi, cur, cvi, (size_t)o->max_nodes);
	struct buf out;
	int rc;
	buf_init(&out, MEM_CLI, SIZE_MAX);
	if (o->fmt == CLI_OUT_SVG) {
		struct svg_opts so = {.unit = prof_string(cur, prof_sample_types(cur)[cvi].unit)};
		rc = svg_write(f, &so, &out);
	} else {
		struct flamebearer_meta m = {.name = "diff"};
		cli_flamebearer_units(cur, cvi, &m.units, &m.sample_rate);
		rc = flamebearer_write(f, &m, &out);
	}
	flame_free(f);
	if (rc < 0) {
		cli_error(cmd, "%s: cannot encode: %s", o->out, ember_strerror(rc));
		rc = CLI_EXIT_ERR;
	} else {
		rc = cli_write(cmd, &out, o->out);
	}
	buf_fini(&out);
	return rc;
}

static int parse_args(int argc, char **argv, struct diff_opts *o)
{
	const char *cmd = argv[0];
	enum {
		OPT_NORMALIZE = 256,
		OPT_RAW,
		OPT_MAX_NODES
	};
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"nodecount", required_argument, NULL, 'n'},
		{"cum", no_argument, NULL, 'c'},
		{"sample-type", required_argument, NULL, 't'},
		{"normalize", no_argument, NULL, OPT_NORMALIZE},
		{"raw", no_argument, NULL, OPT_RAW},
		{"max-nodes", required_argument, NULL, OPT_MAX_NODES},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *fmt_name = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:f:n:ct:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->out = optarg;
			break;
		case 'f':
			fmt_name = optarg;
			break;
		case 'n':
			if (cli_parse_long(cmd, "-n", optarg, 0, 1000000000, &o->n))
				return CLI_EXIT_USAGE;
			break;
		case 'c':
			o->by_cum = true;
			break;
		case 't':
			o->sample_type = optarg;
			break;
		case OPT_NORMALIZE:
			o->normalize = true;
			break;
		case OPT_RAW:
			o->raw = true;
			break;
		case OPT_MAX_NODES:
			if (cli_parse_long(cmd, "--max-nodes", optarg, 0, 100000000, &o->max_nodes))
				return CLI_EXIT_USAGE;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return -1;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(cmd, "two input files expected (BASE NEW), got %d",
				       argc - optind);
	if (fmt_name) {
		o->fmt = cli_out_format_parse(fmt_name);
		if (o->fmt != CLI_OUT_SVG && o->fmt != CLI_OUT_FLAMEBEARER)
			return cli_usage_error(cmd, "--format for diff is svg or json, not '%s'",
					       fmt_name);
	} else if (o->out) {
		o->fmt = cli_out_format_from_path(o->out);
		if (o->fmt != CLI_OUT_SVG && o->fmt != CLI_OUT_FLAMEBEARER)
			return cli_usage_error(cmd,
					       "'%s': a diff is written as .svg or .json "
					       "(or give --format)",
					       o->out);
	}
	if (fmt_name && !o->out)
		return cli_usage_error(cmd, "--format needs -o OUT");
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct diff_opts o = {.n = 20, .max_nodes = DEFAULT_MAX_NODES};
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	const char *base_path = argv[optind], *cur_path = argv[optind + 1];
	if (strcmp(base_path, "-") == 0 && strcmp(cur_path, "-") == 0)
		return cli_usage_error(cmd, "only one input can be standard input");

	struct prof *base = NULL, *cur = NULL;
	size_t bvi = 0, cvi = 0;
	rc = cli_load_profile(cmd, base_path, &base);
	if (rc == 0)
		rc = cli_load_profile(cmd, cur_path, &cur);
	if (rc == 0)
		rc = cli_pick_sample_type(cmd, cur_path, cur, o.sample_type, &cvi);
	if (rc == 0) {
		const char *type = prof_string(cur, prof_sample_types(cur)[cvi].type);
		rc = cli_pick_sample_type(cmd, base_path, base, type, &bvi);
	}
	if (rc == 0) {
		int64_t cur_total = prof_total(cur, cvi);
		int64_t base_total = prof_total(base, bvi);
		if (o.normalize && base_total != 0) {
			prof_scale(base, (double)cur_total / (double)base_total);
			base_total = prof_total(base, bvi);
		}
		struct diff_table t = {.names = strtab_new(MEM_CLI)};
		table_add(&t, base, bvi, o.by_cum, true);
		table_add(&t, cur, cvi, o.by_cum, false);
		/* With the graph on standard output, the table would corrupt it. */
		if (!o.out || strcmp(o.out, "-") != 0)
			print_table(cur, cvi, &t, base_total, cur_total, &o);
		mem_free(t.rows);
		strtab_free(t.names);
		if (o.out)
			rc = write_graph(cmd, &o, base, bvi, cur, cvi);
	}
	prof_free(base);
	prof_free(cur);
	return rc;
}

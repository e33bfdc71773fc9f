/*
 * cmd_convert.c — `ember convert IN -o OUT`: reads a profile in any input format Ember knows
 * (pprof raw or gzipped, folded text; detected from content) and writes it as pprof, folded,
 * speedscope, flamebearer JSON or an SVG flame graph, the format taken from --format or OUT's
 * extension. Parsing and printing only; the codecs do the work.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "format/flamebearer.h"
#include "format/folded.h"
#include "format/pprof.h"
#include "format/speedscope.h"
#include "format/svg.h"
#include "profile/flame.h"
#include "profile/merge.h"

#define DEFAULT_MAX_NODES 8192

static const char convert_usage[] =
	"usage: ember convert IN -o OUT [--format FMT] [--sample-type NAME] [--max-nodes N]\n"
	"\n"
	"Convert a profile between formats. IN is pprof (raw or gzipped) or folded stacks text,\n"
	"detected from its content; '-' reads standard input.\n"
	"\n"
	"Options:\n"
	"  -o, --output OUT        where to write; '-' writes standard output (then --format is\n"
	"                          required)\n"
	"  -f, --format FMT        pprof | folded | speedscope | svg | json (flamebearer).\n"
	"                          Default: from OUT's extension: .pb .pb.gz .pprof .prof -> "
	"pprof\n"
	"                          (gzipped), .folded .collapsed .txt -> folded, .speedscope.json "
	"->\n"
	"                          speedscope, .json -> flamebearer JSON, .svg -> SVG\n"
	"  -t, --sample-type NAME  sample type (e.g. cpu, alloc_space, or a 0-based index). For\n"
	"                          pprof and speedscope output it keeps only that type; folded, "
	"svg\n"
	"                          and json always use one (default: the profile's default type)\n"
	"      --max-nodes N       svg/json: fold the smallest subtrees into 'other' beyond N\n"
	"                          nodes (default 8192; 0 = no limit)\n"
	"      --title TEXT        svg: the title\n"
	"  -h, --help              show this help\n"
	"\n" CLI_EXIT_HELP;

struct convert_opts {
	const char *in;
	const char *out;
	enum cli_out_format fmt;
	const char *sample_type;
	const char *title;
	long max_nodes;
};

static int render(const char *cmd, const struct convert_opts *o, struct prof *p, struct buf *out)
{
	size_t vi = 0;
	int rc = cli_pick_sample_type(cmd, o->in, p, o->sample_type, &vi);
	if (rc != 0)
		return rc;
	const char *unit = prof_string(p, prof_sample_types(p)[vi].unit);

	switch (o->fmt) {
	case CLI_OUT_PPROF:
	case CLI_OUT_SPEEDSCOPE: {
		struct prof *sel = o->sample_type ? prof_select_type(p, vi) : NULL;
		const struct prof *src = sel ? sel : p;
		if (o->fmt == CLI_OUT_PPROF)
			rc = pprof_encode(src, true, out);
		else
			rc = speedscope_write(src, cli_basename(o->in), out);
		prof_free(sel);
		break;
	}
	case CLI_OUT_FOLDED:
		rc = folded_write(p, vi, out);
		break;
	case CLI_OUT_FLAMEBEARER:
	case CLI_OUT_SVG: {
		struct flame *f = flame_new(p, vi, (size_t)o->max_nodes);
		if (o->fmt == CLI_OUT_SVG) {
			struct svg_opts so = {.title = o->title, .unit = unit};
			rc = svg_write(f, &so, out);
		} else {
			struct flamebearer_meta m = {.name = cli_basename(o->in)};
			cli_flamebearer_units(p, vi, &m.units, &m.sample_rate);
			rc = flamebearer_write(f, &m, out);
		}
		flame_free(f);
		break;
	}
	case CLI_OUT_NONE:
		rc = -EMBER_EUSAGE;
		break;
	}
	if (rc < 0) {
		cli_error(cmd, "%s: cannot encode: %s", strcmp(o->out, "-") ? o->out : "stdout",
			  ember_strerror(rc));
		return CLI_EXIT_ERR;
	}
	return 0;
}

int cmd_convert(int argc, char **argv)
{
	const char *cmd = argv[0];
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"sample-type", required_argument, NULL, 't'},
		{"max-nodes", required_argument, NULL, 'N'},
		{"title", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct convert_opts o = {.max_nodes = DEFAULT_MAX_NODES, .fmt = CLI_OUT_NONE};
	const char *fmt_name = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:f:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.out = optarg;
			break;
		case 'f':
			fmt_name = optarg;
			break;
		case 't':
			o.sample_type = optarg;
			break;
		case 'N':
			if (cli_parse_long(cmd, "--max-nodes", optarg, 0, 100000000, &o.max_nodes))
				return CLI_EXIT_USAGE;
			break;
		case 'T':
			o.title = optarg;
			break;
		case 'h':
			fputs(convert_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (argc - optind == 0)
		return cli_usage_error(cmd, "no input file");
	if (argc - optind > 1)
		return cli_usage_error(cmd, "one input file expected, got %d", argc - optind);
	o.in = argv[optind];
	if (!o.out)
		return cli_usage_error(cmd, "no output: use -o OUT ('-' for standard output)");
	if (fmt_name) {
		o.fmt = cli_out_format_parse(fmt_name);
		if (o.fmt == CLI_OUT_NONE)
			return cli_usage_error(cmd,
					       "unknown format '%s' (pprof, folded, speedscope, "
					       "svg, json)",
					       fmt_name);
	} else if (strcmp(o.out, "-") == 0) {
		return cli_usage_error(cmd, "writing to standard output needs --format");
	} else {
		o.fmt = cli_out_format_from_path(o.out);
		if (o.fmt == CLI_OUT_NONE)
			return cli_usage_error(
				cmd, "cannot tell the format from '%s'; use --format", o.out);
	}

	struct prof *p = NULL;
	int rc = cli_load_profile(cmd, o.in, &p);
	if (rc != 0)
		return rc;
	struct buf out;
	buf_init(&out, MEM_CLI, SIZE_MAX);
	rc = render(cmd, &o, p, &out);
	if (rc == 0)
		rc = cli_write(cmd, &out, o.out);
	buf_fini(&out);
	prof_free(p);
	return rc;
}

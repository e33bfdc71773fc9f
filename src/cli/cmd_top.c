/*
 * cmd_top.c — `ember top FILE...`: merges the files and prints the functions with the largest
 * flat (or cumulative) values, the way `go tool pprof -top` does: a header with the total, then
 * "flat flat% sum% cum cum% name" rows. --raw prints exact integers instead of scaled units.
 * Focus/ignore/tagfocus filters are the library's; percentages stay relative to the unfiltered
 * total, as pprof's are.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "profile/filter.h"
#include "profile/top.h"

static const char top_usage[] =
	"usage: ember top [-n N] [--cum] [--focus RE] [--ignore RE] [--tagfocus KEY=RE]\n"
	"                 [--sample-type NAME] [--raw] FILE...\n"
	"\n"
	"Print the functions with the largest values, like 'go tool pprof -top'. The files (pprof\n"
	"or folded; '-' is standard input) are merged first and must have the same sample types.\n"
	"flat is the value of samples whose leaf is the function, cum of samples with the "
	"function\n"
	"anywhere on the stack (counted once); flat%, sum% and cum% are of the total.\n"
	"\n"
	"Options:\n"
	"  -n, --nodecount N       rows to print (default 20; 0 = all)\n"
	"  -c, --cum               sort by cumulative value instead of flat\n"
	"      --focus RE          keep samples with a function matching RE (PCRE2, unanchored)\n"
	"      --ignore RE         drop samples with a function matching RE\n"
	"      --tagfocus KEY=RE   keep samples whose label KEY matches RE (anchored)\n"
	"  -t, --sample-type NAME  sample type to show (e.g. cpu, alloc_space, or a 0-based\n"
	"                          index); default: the profile's default type\n"
	"      --raw               print values as exact integers in the profile's unit\n"
	"  -h, --help              show this help\n"
	"\n" CLI_EXIT_HELP;

struct top_opts {
	long n;
	bool by_cum;
	bool raw;
	const char *sample_type;
	struct prof_filter_opts filter;
	char tag_key[256];
};

static void print_table(const struct prof *p, size_t vi, const struct prof_top *t, int64_t total,
			const struct top_opts *o)
{
	const struct prof_value_type *st = &prof_sample_types(p)[vi];
	const char *unit = prof_string(p, st->unit);
	size_t n_rows = 0;
	for (size_t i = 0; i < prof_top_len(t); i++) {
		const struct prof_top_row *r = prof_top_row(t, i);
		if (r->flat != 0 || r->cum != 0)
			n_rows++;
	}
	size_t show = o->n == 0 ? n_rows : EMBER_MIN(n_rows, (size_t)o->n);

	/* The sum of the rows shown, and their smallest value (flat, else cum) for the unit. */
	int64_t shown_flat = 0, min_value = 0;
	for (size_t i = 0, k = 0; i < prof_top_len(t) && k < show; i++) {
		const struct prof_top_row *r = prof_top_row(t, i);
		if (r->flat == 0 && r->cum == 0)
			continue;
		shown_flat += r->flat;
		int64_t v = r->flat != 0 ? r->flat : r->cum;
		v = v < 0 ? -v : v;
		if (min_value == 0 || v < min_value)
			min_value = v;
		k++;
	}
	struct cli_scale sc;
	cli_scale_pick(&sc, unit, min_value, total, o->raw);

	char a[64], b[64], c[64];
	printf("Type: %s\n", prof_string(p, st->type));
	cli_scale_format(&sc, a, sizeof(a), shown_flat);
	cli_format_percent(b, sizeof(b), shown_flat, total);
	cli_scale_format(&sc, c, sizeof(c), total);
	printf("Showing nodes accounting for %s, %s of %s total\n", a, b, c);
	if (show < n_rows)
		printf("Showing top %zu nodes out of %zu\n", show, n_rows);
	printf("%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");

	int64_t sum = 0;
	for (size_t i = 0, k = 0; i < prof_top_len(t) && k < show; i++) {
		const struct prof_top_row *r = prof_top_row(t, i);
		if (r->flat == 0 && r->cum == 0)
			continue;
		k++;
		sum += r->flat;
		char flat[64], flat_pct[32], sum_pct[32], cum[64], cum_pct[32];
		cli_scale_format(&sc, flat, sizeof(flat), r->flat);
		cli_format_percent(flat_pct, sizeof(flat_pct), r->flat, total);
		cli_format_percent(sum_pct, sizeof(sum_pct), sum, total);
		cli_scale_format(&sc, cum, sizeof(cum), r->cum);
		cli_format_percent(cum_pct, sizeof(cum_pct), r->cum, total);
		printf("%10s %6s %6s %10s %6s  %s\n", flat, flat_pct, sum_pct, cum, cum_pct,
		       r->name);
	}
}

static int parse_tagfocus(const char *cmd, const char *arg, struct top_opts *o)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : 0;
	if (!eq || klen == 0 || klen >= sizeof(o->tag_key))
		return cli_usage_error(cmd, "--tagfocus wants KEY=REGEX, not '%s'", arg);
	memcpy(o->tag_key, arg, klen);
	o->tag_key[klen] = '\0';
	o->filter.label_key = o->tag_key;
	o->filter.label_re = eq + 1;
	return 0;
}

int cmd_top(int argc, char **argv)
{
	const char *cmd = argv[0];
	enum {
		OPT_FOCUS = 256,
		OPT_IGNORE,
		OPT_TAGFOCUS,
		OPT_RAW
	};
	static const struct option longopts[] = {
		{"nodecount", required_argument, NULL, 'n'},
		{"cum", no_argument, NULL, 'c'},
		{"focus", required_argument, NULL, OPT_FOCUS},
		{"ignore", required_argument, NULL, OPT_IGNORE},
		{"tagfocus", required_argument, NULL, OPT_TAGFOCUS},
		{"sample-type", required_argument, NULL, 't'},
		{"raw", no_argument, NULL, OPT_RAW},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct top_opts o = {.n = 20};
	int c;
	while ((c = getopt_long(argc, argv, "n:ct:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_long(cmd, "-n", optarg, 0, 1000000000, &o.n))
				return CLI_EXIT_USAGE;
			break;
		case 'c':
			o.by_cum = true;
			break;
		case OPT_FOCUS:
			o.filter.focus = optarg;
			break;
		case OPT_IGNORE:
			o.filter.ignore = optarg;
			break;
		case OPT_TAGFOCUS:
			if (parse_tagfocus(cmd, optarg, &o))
				return CLI_EXIT_USAGE;
			break;
		case 't':
			o.sample_type = optarg;
			break;
		case OPT_RAW:
			o.raw = true;
			break;
		case 'h':
			fputs(top_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cmd, "no input file");

	struct prof *p = NULL;
	int rc = cli_load_merged(cmd, argv + optind, argc - optind, &p);
	if (rc != 0)
		return rc;
	size_t vi = 0;
	const char *what = argc - optind == 1 ? argv[optind] : "merged profile";
	rc = cli_pick_sample_type(cmd, what, p, o.sample_type, &vi);
	if (rc != 0) {
		prof_free(p);
		return rc;
	}
	int64_t total = prof_total(p, vi);

	struct prof *shown = p;
	if (o.filter.focus || o.filter.ignore || o.filter.label_key) {
		struct ember_diag d = {{0}};
		int frc = prof_filter(p, &o.filter, &shown, &d);
		if (frc < 0) {
			prof_free(p);
			if (frc == -EMBER_EUSAGE)
				return cli_usage_error(cmd, "%s", ember_diag_msg(&d, frc));
			cli_error(cmd, "%s", ember_diag_msg(&d, frc));
			return CLI_EXIT_ERR;
		}
	}
	struct prof_top *t = prof_top_new(shown, vi, o.by_cum);
	print_table(shown, vi, t, total, &o);
	prof_top_free(t);
	if (shown != p)
		prof_free(shown);
	prof_free(p);
	return CLI_EXIT_OK;
}

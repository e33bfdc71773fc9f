/*
 * cmd_merge.c — `ember merge -o OUT FILE...`: merges profiles (pprof or folded, sample types
 * must agree) into one gzipped pprof file, as `go tool pprof -proto FILE... > OUT` does.
 * Inputs are decoded straight into the merged profile, one at a time, so memory is the merged
 * profile plus one input.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "cli/cli.h"
#include "format/pprof.h"

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
	int rc = cli_load_merged(cmd, argv + optind, argc - optind, &p);
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

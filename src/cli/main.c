/*
 * main.c — the `ember` entry point: a dispatch table of subcommands (git/perf style), global
 * --help/--version, `ember help CMD`, and the wrapper every command runs in. The wrapper gives
 * the command an argv whose argv[0] is "ember CMD" (so getopt's messages name it) and, after it
 * returns, flushes stdout and turns a write error there into exit status 1.
 *
 * Commands live one per file (cmd_<name>.c); this file never parses a command's options.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/version.h"

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cli_cmd cli_cmds[] = {
	{"record", cmd_record, "profile a command or a PID to a file, like perf record"},
	{"convert", cmd_convert, "convert a profile between pprof, folded, speedscope, JSON, SVG"},
	{"top", cmd_top, "print the functions with the largest flat or cumulative values"},
	{"merge", cmd_merge, "merge profiles into one pprof file"},
	{"diff", cmd_diff, "compare two profiles per function; write a differential flame graph"},
	{"agent", cmd_agent, "sample every process on this host continuously (eBPF)"},
	{"server", cmd_server, "serve the ingest and query APIs over HTTP, store profiles"},
	{"query", cmd_query, "query a server: top functions, folded/pprof export, series, labels"},
};

static void print_usage(FILE *f)
{
	fprintf(f, "usage: ember [--version] [--help] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(cli_cmds); i++)
		fprintf(f, "   %-10s %s\n", cli_cmds[i].name, cli_cmds[i].summary);
	fprintf(f,
		"\n'ember help COMMAND' or 'ember COMMAND --help' describes a command.\n"
		"Exit status: 0 on success, 1 on a runtime or input error, 2 on a usage error.\n");
}

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(cli_cmds); i++)
		if (strcmp(cli_cmds[i].name, name) == 0)
			return &cli_cmds[i];
	return NULL;
}

/* Runs cmd with argv[0] = "ember NAME" and checks that everything reached stdout. */
static int run_cmd(const struct cli_cmd *cmd, int argc, char **argv)
{
	struct buf prog;
	buf_init(&prog, MEM_CLI, 256);
	if (buf_printf(&prog, "ember %s", cmd->name) < 0) {
		buf_fini(&prog);
		return CLI_EXIT_ERR;
	}
	char **sub = mem_calloc(MEM_CLI, (size_t)argc + 1, sizeof(*sub));
	sub[0] = (char *)prog.data;
	for (int i = 1; i < argc; i++)
		sub[i] = argv[i];
	sub[argc] = NULL;

	cli_getopt_reset();
	mem_tune_batch();
	int rc = cmd->fn(argc, sub);

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "ember %s: error writing to stdout: %s\n", cmd->name,
			strerror(errno ? errno : EIO));
		rc = CLI_EXIT_ERR;
	}
	mem_free(sub);
	buf_fini(&prog);
	return rc;
}

static int help_cmd(const char *name)
{
	const struct cli_cmd *cmd = find_cmd(name);
	if (!cmd) {
		fprintf(stderr, "ember help: '%s' is not an ember command; see 'ember --help'.\n",
			name);
		return CLI_EXIT_USAGE;
	}
	char arg0[] = "";
	char arg1[] = "--help";
	char *argv[] = {arg0, arg1, NULL};
	return run_cmd(cmd, 2, argv);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
	    (strcmp(name, "help") == 0 && argc == 2)) {
		print_usage(stdout);
		return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_ERR;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("ember %s\n", EMBER_VERSION);
		return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_ERR;
	}
	if (strcmp(name, "help") == 0) {
		if (argc > 3) {
			fprintf(stderr, "usage: ember help [COMMAND]\n");
			return CLI_EXIT_USAGE;
		}
		return help_cmd(argv[2]);
	}
	if (name[0] == '-') {
		fprintf(stderr, "ember: unknown option '%s'\n\n", name);
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const struct cli_cmd *cmd = find_cmd(name);
	if (!cmd) {
		fprintf(stderr, "ember: '%s' is not an ember command\n\n", name);
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	return run_cmd(cmd, argc - 1, argv + 1);
}

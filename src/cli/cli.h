/*
 * cli.h — what the `ember` subcommands share: the command entry points, exit codes, error
 * printing, loading profile files (format autodetected), picking a sample type, writing
 * outputs by format, and pprof-like value formatting.
 *
 * Commands stay thin: parse arguments, call the library, print. Every message goes to stderr as
 * "ember CMD: ..." and names the file it is about. Nothing here keeps global state besides what
 * getopt keeps.
 */
#ifndef EMBER_CLI_CLI_H
#define EMBER_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "profile/profile.h"

/* Exit codes, the same for every command. */
#define CLI_EXIT_OK    0 /* success */
#define CLI_EXIT_ERR   1 /* runtime or input error: unreadable, corrupt or incompatible input */
#define CLI_EXIT_USAGE 2 /* bad command line */

/* Largest input file read, and largest decompressed profile. */
#define CLI_MAX_INPUT_BYTES ((size_t)1 << 30)

struct pprof_limits;
/* The limits every command decodes pprof input with (CLI_MAX_INPUT_BYTES, inflated or not). */
extern const struct pprof_limits cli_pprof_limits;

/* The text every command's --help ends with. */
#define CLI_EXIT_HELP                                                                        \
	"Exit status: 0 on success, 1 on a runtime or input error (unreadable, corrupt or\n" \
	"incompatible profile, write failure), 2 on a usage error.\n"

/* Subcommands: argv[0] is "ember NAME"; return an exit code. */
int cmd_convert(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_record(int argc, char **argv); /* cmd_record.c */
int cmd_agent(int argc, char **argv);  /* cmd_agent.c */
int cmd_server(int argc, char **argv); /* cmd_server.c */
int cmd_query(int argc, char **argv);  /* cmd_query.c */

/* "ember CMD: " + message + newline on stderr. cmd is argv[0] of the command ("ember top"). */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints the message and a "Try 'CMD --help'" hint; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets getopt for a fresh parse of a command's argv. */
void cli_getopt_reset(void);
/* Parses a decimal integer in [min, max] given to option opt; a usage error message otherwise. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long min, long max, long *out);

/* Input formats (autodetected from content). */
enum cli_in_format {
	CLI_IN_PPROF,  /* profile.proto, raw or gzipped */
	CLI_IN_FOLDED, /* folded stacks text (also gzipped) */
};

/* Reads path ("-" = stdin) and decodes it. On error prints "ember CMD: PATH: why" and returns
 * CLI_EXIT_ERR. */
int cli_load_profile(const char *cmd, const char *path, struct prof **out);
/* Loads paths[0..n) and merges them into one new profile (sample types must agree). */
int cli_load_merged(const char *cmd, char *const *paths, int n, struct prof **out);
/* Decodes b, the contents of path (already read, possibly gunzipped), into dst as
 * cli_load_merged does for each input; the same messages. */
int cli_merge_bytes(const char *cmd, const char *path, const struct buf *b, struct prof *dst);
/* Whether the input decoders would read b as folded text (not gzip, no binary bytes). */
bool cli_is_folded_text(const struct buf *b);

/* Sample type index: the one whose type is `name` (NULL = the profile's default). Prints the
 * available types and returns CLI_EXIT_ERR when absent. what names the profile in messages. */
int cli_pick_sample_type(const char *cmd, const char *what, const struct prof *p, const char *name,
			 size_t *vi);

/* Output formats. */
enum cli_out_format {
	CLI_OUT_NONE,
	CLI_OUT_PPROF,	     /* gzipped profile.proto */
	CLI_OUT_FOLDED,	     /* folded stacks */
	CLI_OUT_SPEEDSCOPE,  /* speedscope JSON */
	CLI_OUT_FLAMEBEARER, /* Pyroscope flamebearer JSON */
	CLI_OUT_SVG,	     /* interactive SVG flame graph */
};

/* "pprof", "folded", ... -> format; CLI_OUT_NONE when unknown. */
enum cli_out_format cli_out_format_parse(const char *name);
/* From a file name's extension; CLI_OUT_NONE when it says nothing. */
enum cli_out_format cli_out_format_from_path(const char *path);

/* Writes b to path ("-" = stdout) atomically; prints "ember CMD: PATH: why" on failure. */
int cli_write(const char *cmd, const struct buf *b, const char *path);

/* Flamebearer metadata for a sample type (units and sample rate as Pyroscope names them). */
void cli_flamebearer_units(const struct prof *p, size_t vi, const char **units,
			   int64_t *sample_rate);

/* How a table prints values: one display unit for the whole table, as pprof picks it.
 * Nanoseconds (and other time units) scale to ns/us/ms/s/hrs, bytes to B/kB/MB/GB/TB/PB
 * (1024-based), printed with two decimals ("1.50s", "10ms"); anything else, or raw, prints the
 * exact integer. A plain value struct. */
struct cli_scale {
	const char *suffix; /* NULL: exact integers */
	double factor;	    /* profile units per display unit */
};

/* Picks the display unit for a table from its smallest non-zero |value| and its total: the
 * unit of the smallest, or of 100x the smallest when the total needs a larger unit. */
void cli_scale_pick(struct cli_scale *s, const char *unit, int64_t min_nonzero, int64_t total,
		    bool raw);
void cli_scale_format(const struct cli_scale *s, char *out, size_t n, int64_t v);

/* |part/total| as "12.34%", "100%" (within 0.05), "0.52%" (two digits below 1%); total 0
 * gives "0%". */
void cli_format_percent(char *out, size_t n, int64_t part, int64_t total);

/* The last path component of path ("-" gives "stdin"). */
const char *cli_basename(const char *path);

#endif

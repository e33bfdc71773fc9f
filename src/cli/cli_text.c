/*
 * cli_text.c — the CLI's text helpers: error and usage messages on stderr, getopt reset, checked
 * integer parsing of option values, and pprof-like formatting of values (two decimals, unit
 * chosen by magnitude) and percentages (magnitude, two decimals; two digits below 1%).
 * Formatting writes into caller buffers and never allocates.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cmd);
	return CLI_EXIT_USAGE;
}

void cli_getopt_reset(void)
{
	/* 0 makes glibc reinitialise its internal state, not just the index. */
	optind = 0;
	opterr = 1;
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return cli_usage_error(cmd, "option '%s' wants an integer in [%ld, %ld], not '%s'",
				       opt, min, max, s);
	*out = v;
	return 0;
}

const char *cli_basename(const char *path)
{
	if (strcmp(path, "-") == 0)
		return "stdin";
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

struct scale_unit {
	const char *suffix;
	double factor; /* base units (ns or bytes) */
};

static const struct scale_unit time_units[] = {
	{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"hrs", 3600e9},
};

static const struct scale_unit byte_units[] = {
	{"B", 1},
	{"kB", 1024.0},
	{"MB", 1024.0 * 1024},
	{"GB", 1024.0 * 1024 * 1024},
	{"TB", 1024.0 * 1024 * 1024 * 1024},
	{"PB", 1024.0 * 1024 * 1024 * 1024 * 1024},
};

/* Base units per profile unit for time units (base ns), 0 when not a time unit. */
static double time_unit_ns(const char *unit)
{
	if (!strcmp(unit, "nanoseconds") || !strcmp(unit, "nanosecond") || !strcmp(unit, "ns"))
		return 1;
	if (!strcmp(unit, "microseconds") || !strcmp(unit, "microsecond") || !strcmp(unit, "us"))
		return 1e3;
	if (!strcmp(unit, "milliseconds") || !strcmp(unit, "millisecond") || !strcmp(unit, "ms"))
		return 1e6;
	if (!strcmp(unit, "seconds") || !strcmp(unit, "second") || !strcmp(unit, "s"))
		return 1e9;
	return 0;
}

static bool is_byte_unit(const char *unit)
{
	return !strcmp(unit, "bytes") || !strcmp(unit, "byte") || !strcmp(unit, "B");
}

/* The largest unit in which |v| base units is at least 1. */
static const struct scale_unit *unit_for(double v, const struct scale_unit *u, size_t n)
{
	const struct scale_unit *best = &u[0];
	double mag = fabs(v);
	for (size_t i = 1; i < n; i++)
		if (mag >= u[i].factor)
			best = &u[i];
	return best;
}

void cli_scale_pick(struct cli_scale *s, const char *unit, int64_t min_nonzero, int64_t total,
		    bool raw)
{
	s->suffix = NULL;
	s->factor = 1;
	if (raw || !unit)
		return;
	const struct scale_unit *units;
	size_t n;
	double base = time_unit_ns(unit);
	if (base > 0) {
		units = time_units;
		n = EMBER_ARRAY_SIZE(time_units);
	} else if (is_byte_unit(unit)) {
		base = 1;
		units = byte_units;
		n = EMBER_ARRAY_SIZE(byte_units);
	} else {
		return;
	}
	double lo = fabs((double)min_nonzero) * base, hi = fabs((double)total) * base;
	if (lo == 0)
		lo = hi;
	const struct scale_unit *u = unit_for(lo, units, n);
	if (u != unit_for(hi, units, n) && lo * 100 < hi)
		u = unit_for(lo * 100, units, n); /* lets the smallest show as 0.01 */
	s->suffix = u->suffix;
	s->factor = u->factor / base;
}

void cli_scale_format(const struct cli_scale *s, char *out, size_t n, int64_t v)
{
	if (!s->suffix) {
		snprintf(out, n, "%" PRId64, v);
		return;
	}
	char num[64];
	snprintf(num, sizeof(num), "%.2f", (double)v / s->factor);
	size_t len = strlen(num);
	if (len > 3 && strcmp(num + len - 3, ".00") == 0)
		num[len - 3] = '\0';
	if (strcmp(num, "0") == 0 || strcmp(num, "-0") == 0)
		snprintf(out, n, "0");
	else
		snprintf(out, n, "%s%s", num, s->suffix);
}

void cli_format_percent(char *out, size_t n, int64_t part, int64_t total)
{
	double pct = total == 0 ? 0 : fabs(100.0 * (double)part / (double)total);
	if (pct >= 99.95 && pct <= 100.05)
		snprintf(out, n, "100%%");
	else if (pct >= 1.0)
		snprintf(out, n, "%.2f%%", pct);
	else
		snprintf(out, n, "%.2g%%", pct); /* two significant digits below 1% */
}

/*
 * log.c — the leveled logger: plain "ember: level: msg" lines for the CLI or
 * "ts=... level=... msg=\"...\"" lines for daemons, on stderr, one write per line.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

enum log_level log_level_current = LOG_LEVEL_WARN;
static bool structured;
static bool json;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void log_set_level(enum log_level lvl)
{
	log_level_current = lvl;
}

int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EMBER_EUSAGE;
}

void log_set_structured(bool on)
{
	structured = on;
}

void log_set_json(bool on)
{
	json = on;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char msg[2048], line[2600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (structured) {
		struct timespec ts;
		struct tm tm;
		char esc[2200];
		size_t j = 0;

		for (size_t i = 0; msg[i] && j + 7 < sizeof(esc); i++) {
			unsigned char ch = (unsigned char)msg[i];

			if (ch == '"' || ch == '\\')
				esc[j++] = '\\';
			if (ch == '\n' || ch == '\t')
				ch = ' ';
			if (json && ch < 0x20)
				j += (size_t)snprintf(esc + j, 7, "\\u%04x", ch);
			else
				esc[j++] = (char)ch;
		}
		esc[j] = 0;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(
			line, sizeof(line),
			json ? "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\","
			       "\"msg\":\"%s\"}\n"
			     : "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=\"%s\"\n",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl], esc);
	} else {
		n = snprintf(line, sizeof(line), "ember: %s: %s\n", level_names[lvl], msg);
	}
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

		if (write(STDERR_FILENO, line, len) < 0) {
			/* nothing sensible to do if stderr is gone */
		}
	}
}

/*
 * fmt_check.h — helpers for the format writer tests: run a Python 3 script over a writer's output
 * (JSON/XML parsers as independent judges of validity) and capture what it prints. Input and
 * script go through files in the test's temporary directory. Returns -1 when python3 is missing,
 * so callers can SKIP, else the script's exit status.
 */
#ifndef EMBER_TESTS_UNIT_FMT_CHECK_H
#define EMBER_TESTS_UNIT_FMT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test.h"

static inline int fmt_check_write(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	if (n && fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static inline int fmt_check_have_python(void)
{
	return system("python3 -c 'import json, xml.etree.ElementTree' >/dev/null 2>&1") == 0;
}

/* Runs `python3 script < input`; stdout (NUL-terminated, truncated to cap) goes to out. */
static inline int fmt_check_python(const char *script, const void *input, size_t n, char *out,
				   size_t cap)
{
	char spath[512], ipath[512], cmd[1200];
	size_t len = 0;
	FILE *f;
	int st;

	if (!fmt_check_have_python())
		return -1;
	snprintf(spath, sizeof(spath), "%s/check.py", test_tmpdir());
	snprintf(ipath, sizeof(ipath), "%s/input", test_tmpdir());
	if (fmt_check_write(spath, script, strlen(script)) || fmt_check_write(ipath, input, n))
		return -1;
	snprintf(cmd, sizeof(cmd), "python3 '%s' < '%s'", spath, ipath);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	if (out && cap) {
		len = fread(out, 1, cap - 1, f);
		out[len] = 0;
	}
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#endif

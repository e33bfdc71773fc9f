/*
 * main.c — the unit test runner: runs every registered TEST (optionally filtered by name
 * substrings given as arguments), each with a fresh temporary directory, and prints one
 * PASS/FAIL/SKIP line per test and the closing "N passed, N failed, N skipped".
 * Leaks are checked per test through the allocator's byte counters.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "test.h"

struct test_case {
	const char *name;
	const char *file;
	test_fn fn;
};

static struct test_case cases[1024];
static size_t n_cases;
static int cur_failed, cur_skipped;
static char cur_reason[512];
static char tmpdir[256];

void test_register(const char *name, const char *file, test_fn fn)
{
	if (n_cases >= (sizeof(cases) / sizeof(cases[0]))) {
		fprintf(stderr, "too many tests\n");
		exit(2);
	}
	cases[n_cases].name = name;
	cases[n_cases].file = file;
	cases[n_cases].fn = fn;
	n_cases++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int off;

	cur_failed = 1;
	off = snprintf(cur_reason, sizeof(cur_reason), "%s:%d: ", file, line);
	va_start(ap, fmt);
	if (off > 0 && (size_t)off < sizeof(cur_reason))
		vsnprintf(cur_reason + off, sizeof(cur_reason) - (size_t)off, fmt, ap);
	va_end(ap);
}

void test_skip(const char *reason)
{
	cur_skipped = 1;
	snprintf(cur_reason, sizeof(cur_reason), "%s", reason);
}

const char *test_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ember-unit-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}

const char *test_data_path(const char *name)
{
	static char path[512];
	const char *dir = getenv("EMBER_TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data", name);
	return path;
}

static void cleanup_tmpdir(void)
{
	char cmd[300];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	tmpdir[0] = 0;
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n_cases; i++) {
		const struct test_case *t = &cases[i];
		int64_t before;

		if (!selected(t->name, argc, argv))
			continue;
		cur_failed = cur_skipped = 0;
		cur_reason[0] = 0;
		before = mem_bytes_total();
		mem_fail_after(0);
		t->fn();
		mem_fail_after(0);
		cleanup_tmpdir();
		if (!cur_failed && !cur_skipped && mem_bytes_total() != before) {
			cur_failed = 1;
			snprintf(cur_reason, sizeof(cur_reason), "leak: %lld bytes still allocated",
				 (long long)(mem_bytes_total() - before));
		}
		if (cur_failed) {
			printf("FAIL unit/%s: %s\n", t->name, cur_reason);
			failed++;
		} else if (cur_skipped) {
			printf("SKIP unit/%s: %s\n", t->name, cur_reason);
			skipped++;
		} else {
			printf("PASS unit/%s\n", t->name);
			passed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

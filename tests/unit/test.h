/*
 * test.h — the unit test harness. A test is `TEST(name) { ... }` in any file of tests/unit/; it
 * registers itself at start-up. Checks: CHECK(cond), CHECK_EQ_INT(a, b), CHECK_EQ_STR(a, b),
 * CHECK_OK(expr) (expr == 0). A failed check records the failure and returns from the test.
 * SKIP("reason") ends a test as skipped. The runner prints PASS/FAIL/SKIP lines and closes with
 * "N passed, N failed, N skipped". `unit NAME...` runs only tests whose name contains NAME.
 */
#ifndef EMBER_TESTS_UNIT_TEST_H
#define EMBER_TESTS_UNIT_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);

void test_register(const char *name, const char *file, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void test_skip(const char *reason);
/* A per-test temporary directory (created on first use, removed after the test). */
const char *test_tmpdir(void);
/* Path of a file under the test data dir (tests/data), for fixtures. */
const char *test_data_path(const char *name);

#define TEST(name)                                                     \
	static void test_##name(void);                                 \
	__attribute__((constructor)) static void test_reg_##name(void) \
	{                                                              \
		test_register(#name, __FILE__, test_##name);           \
	}                                                              \
	static void test_##name(void)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
			return;                                            \
		}                                                          \
	} while (0)

#define CHECK_MSG(cond, ...)                                        \
	do {                                                        \
		if (!(cond)) {                                      \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
			return;                                     \
		}                                                   \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                       \
	do {                                                                                     \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                    \
		if (a_ != b_) {                                                                  \
			test_fail(__FILE__, __LINE__,                                            \
				  "%s == %" PRId64 ", expected %s == %" PRId64, #a, a_, #b, b_); \
			return;                                                                  \
		}                                                                                \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                 \
	do {                                                                               \
		const char *a_ = (a), *b_ = (b);                                           \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                   \
			test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
			return;                                                            \
		}                                                                          \
	} while (0)

#define CHECK_OK(expr)                                                               \
	do {                                                                         \
		int rc_ = (expr);                                                    \
		if (rc_ != 0) {                                                      \
			test_fail(__FILE__, __LINE__, "%s returned %d", #expr, rc_); \
			return;                                                      \
		}                                                                    \
	} while (0)

#define SKIP(reason)               \
	do {                       \
		test_skip(reason); \
		return;            \
	} while (0)

#endif

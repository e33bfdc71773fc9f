/*
 * test_json.c — the streaming JSON writer: exact bytes for escaping (short escapes, \u00XX
 * controls, U+2028/9, invalid UTF-8 as U+FFFD per maximal subpart), automatic commas, numbers
 * (int64/uint64 extremes, shortest round-trip doubles, NaN/Inf as null, locale independence),
 * the sticky error (depth, buffer limit, unbalanced ends) and validity by Python's json module.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "fmt_check.h"
#include "format/json.h"
#include "test.h"

/* Writes one string value and compares the output bytes. */
static int str_is(const char *in, size_t n, const char *expect)
{
	struct buf b;
	struct json_writer w;
	int ok;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	json_strn(&w, in, n);
	ok = json_finish(&w) == 0 && b.len == strlen(expect) && memcmp(b.data, expect, b.len) == 0;
	if (!ok)
		fprintf(stderr, "got: %.*s\nexpected: %s\n", (int)b.len, (const char *)b.data,
			expect);
	buf_fini(&b);
	return ok;
}

TEST(json_escape_specials)
{
	CHECK(str_is("plain", 5, "\"plain\""));
	CHECK(str_is("", 0, "\"\""));
	CHECK(str_is("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\""));
	CHECK(str_is("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\""));
	CHECK(str_is("\x01\x1f", 2, "\"\\u0001\\u001f\""));
	CHECK(str_is("a\0b", 3, "\"a\\u0000b\""));
	CHECK(str_is("\x7f", 1, "\"\x7f\""));
	/* U+2028/U+2029 are valid JSON but end a line in JavaScript: escaped. */
	CHECK(str_is("x\xe2\x80\xa8y\xe2\x80\xa9", 8, "\"x\\u2028y\\u2029\""));
}

TEST(json_escape_utf8)
{
	/* Valid multi-byte sequences pass through unchanged. */
	CHECK(str_is("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
		     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
	/* Invalid bytes and sequences: one U+FFFD per maximal invalid subpart. */
	CHECK(str_is("\xff", 1, "\"\xef\xbf\xbd\""));
	CHECK(str_is("a\xe2\x82", 3, "\"a\xef\xbf\xbd\""));	      /* truncated at the end */
	CHECK(str_is("\xe2\x82z", 3, "\"\xef\xbf\xbdz\""));	      /* truncated, then ASCII */
	CHECK(str_is("\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"")); /* overlong */
	CHECK(str_is("\xed\xa0\x80", 3,
		     "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"")); /* surrogate */
	CHECK(str_is("\xf4\x90\x80\x80", 4,
		     "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"")); /* > U+10FFFF */
	CHECK(str_is("\x80", 1, "\"\xef\xbf\xbd\""));	      /* lone continuation */
	CHECK(str_is("\xf0\x9f\x98", 3, "\"\xef\xbf\xbd\"")); /* 3 of 4 bytes */
}

TEST(json_structure_commas)
{
	struct buf b;
	struct json_writer w;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	json_obj_begin(&w);
	json_key(&w, "a");
	json_int(&w, 1);
	json_key(&w, "b");
	json_arr_begin(&w);
	json_int(&w, 1);
	json_uint(&w, 2);
	json_obj_begin(&w);
	json_key(&w, "c");
	json_null(&w);
	json_obj_end(&w);
	json_arr_begin(&w);
	json_arr_end(&w);
	json_obj_begin(&w);
	json_obj_end(&w);
	json_arr_end(&w);
	json_key(&w, "d");
	json_bool(&w, true);
	json_key(&w, "e");
	json_bool(&w, false);
	json_key(&w, "k\"ey");
	json_str(&w, "x");
	json_key(&w, "n");
	json_str(&w, NULL);
	json_obj_end(&w);
	CHECK_OK(json_finish(&w));
	CHECK_EQ_STR((const char *)b.data,
		     "{\"a\":1,\"b\":[1,2,{\"c\":null},[],{}],\"d\":true,\"e\":false,"
		     "\"k\\\"ey\":\"x\",\"n\":null}");
	buf_fini(&b);
}

TEST(json_numbers)
{
	struct buf b;
	struct json_writer w;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	json_arr_begin(&w);
	json_int(&w, INT64_MIN);
	json_int(&w, INT64_MAX);
	json_uint(&w, UINT64_MAX);
	json_double(&w, 0.1);
	json_double(&w, 1.5);
	json_double(&w, 100);
	json_double(&w, -2.5e-300);
	json_double(&w, 1e300);
	json_double(&w, NAN);
	json_double(&w, INFINITY);
	json_double(&w, -INFINITY);
	json_double(&w, 1.0 / 3.0);
	json_arr_end(&w);
	CHECK_OK(json_finish(&w));
	CHECK_EQ_STR((const char *)b.data,
		     "[-9223372036854775808,9223372036854775807,18446744073709551615,0.1,1.5,100,"
		     "-2.5e-300,1e+300,null,null,null,0.3333333333333333]");
	buf_fini(&b);
}

TEST(json_double_roundtrip)
{
	/* Every double written reads back exactly (shortest of 15..17 digits). */
	double vals[] = {0.3,  2.0 / 3.0, 123456789.123456789, 5e-324, 1.7976931348623157e308, -0.0,
			 4.35, 0.1 + 0.2};

	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct buf b;
		struct json_writer w;
		double back;

		buf_init(&b, MEM_TEST, SIZE_MAX);
		json_init(&w, &b);
		json_double(&w, vals[i]);
		CHECK_OK(json_finish(&w));
		back = strtod((const char *)b.data, NULL);
		CHECK_MSG(back == vals[i] && signbit(back) == signbit(vals[i]), "%s",
			  (const char *)b.data);
		buf_fini(&b);
	}
}

TEST(json_double_locale)
{
	static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8",  "fr_FR.UTF-8",
					    "fr_FR.utf8",  "ru_RU.UTF-8", "nl_NL.UTF-8"};
	const char *got = NULL;
	struct buf b;
	struct json_writer w;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !got; i++)
		got = setlocale(LC_NUMERIC, names[i]);
	if (!got) {
		/* None installed: compile de_DE into the test's directory (glibc's localedef and
		 * the locale sources from Debian's locales package) and point LOCPATH at it. */
		char cmd[700], dir[600];

		snprintf(dir, sizeof(dir), "%s/de_DE.UTF-8", test_tmpdir());
		snprintf(cmd, sizeof(cmd), "localedef -i de_DE -f UTF-8 '%s' >/dev/null 2>&1", dir);
		if (system(cmd) == -1 || access(dir, F_OK) != 0)
			SKIP("no locale with a decimal comma installed, and localedef could not "
			     "make one");
		setenv("LOCPATH", test_tmpdir(), 1);
		got = setlocale(LC_NUMERIC, "de_DE.UTF-8");
		if (!got) {
			unsetenv("LOCPATH");
			SKIP("localedef made de_DE but setlocale refused it");
		}
	}
	bool comma = strcmp(localeconv()->decimal_point, ",") == 0;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	json_double(&w, 1.25);
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
	CHECK_MSG(comma, "the locale chosen has no decimal comma");
	CHECK_OK(json_finish(&w));
	CHECK_EQ_STR((const char *)b.data, "1.25");
	buf_fini(&b);
}

TEST(json_sticky_errors)
{
	struct buf b;
	struct json_writer w;

	/* Too deep: the limit error sticks and nothing more is written. */
	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
		json_arr_begin(&w);
	CHECK_EQ_INT(w.err, -EMBER_ELIMIT);
	CHECK(b.len < JSON_MAX_DEPTH);
	size_t len = b.len;
	json_str(&w, "more");
	for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
		json_arr_end(&w);
	CHECK_EQ_INT(b.len, len);
	CHECK_EQ_INT(json_finish(&w), -EMBER_ELIMIT);
	buf_fini(&b);

	/* The buffer bound. */
	buf_init(&b, MEM_TEST, 16);
	json_init(&w, &b);
	json_arr_begin(&w);
	json_str(&w, "a string longer than sixteen bytes");
	json_arr_end(&w);
	CHECK_EQ_INT(json_finish(&w), -EMBER_ELIMIT);
	CHECK(b.len <= 16);
	buf_fini(&b);

	/* Unbalanced. */
	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	json_obj_begin(&w);
	CHECK_EQ_INT(json_finish(&w), -EINVAL);
	json_init(&w, &b);
	json_arr_end(&w);
	CHECK_EQ_INT(json_finish(&w), -EINVAL);
	buf_fini(&b);
}

TEST(json_valid_for_python)
{
	/* All 256 byte values in a value and bytes 1..255 in a key: Python must parse the document
	 * and see bytes below 0x80 as themselves and every byte >= 0x80 as one U+FFFD. */
	static const char script[] =
		"import json, sys\n"
		"d = json.load(sys.stdin)\n"
		"want = ''.join(chr(i) for i in range(128)) + '\\ufffd' * 128\n"
		"assert d['s'] == want, repr(d['s'])\n"
		"assert d[want[1:]] == [1, -2, 0.5, None, True, 'h\\u00e9\\u2028']\n"
		"print('ok')\n";
	char all[256], key[256], out[64];
	struct buf b;
	struct json_writer w;
	int rc;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	memcpy(key, all + 1, 255);
	key[255] = 0;
	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	json_obj_begin(&w);
	json_key(&w, "s");
	json_strn(&w, all, sizeof(all));
	json_key(&w, key);
	json_arr_begin(&w);
	json_int(&w, 1);
	json_int(&w, -2);
	json_double(&w, 0.5);
	json_double(&w, NAN);
	json_bool(&w, true);
	json_str(&w, "h\xc3\xa9\xe2\x80\xa8");
	json_arr_end(&w);
	json_obj_end(&w);
	CHECK_OK(json_finish(&w));
	rc = fmt_check_python(script, b.data, b.len, out, sizeof(out));
	buf_fini(&b);
	if (rc < 0)
		SKIP("python3 not available");
	CHECK_MSG(rc == 0 && strcmp(out, "ok\n") == 0, "python said (%d): %s", rc, out);
}

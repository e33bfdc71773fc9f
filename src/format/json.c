/*
 * json.c — the streaming JSON writer (json.h). Appends to a caller-owned struct buf; commas are
 * placed by tracking, per nesting level, whether a value was already written; json_key leaves
 * the next value comma-free. Strings are escaped per RFC 8259 (short escapes, other controls as
 * \u00XX, U+2028/U+2029 escaped so the output can be embedded in a <script>), invalid UTF-8 is
 * replaced by U+FFFD. Doubles are locale-independent and round-trip; NaN/Inf become null.
 * The first error (buffer limit, nesting too deep, unbalanced end) is sticky: later calls do
 * nothing and json_finish returns it. Never allocates itself; never reads its output back.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "format/json.h"
#include "format/utf8.h"

void json_init(struct json_writer *w, struct buf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static void put(struct json_writer *w, const void *p, size_t n)
{
	int rc;

	if (w->err || n == 0)
		return;
	rc = buf_append(w->out, p, n);
	if (rc < 0)
		w->err = rc;
}

static void put_c(struct json_writer *w, char c)
{
	put(w, &c, 1);
}

/* Before any value or key: the separating comma, then mark the level as non-empty. */
static void sep(struct json_writer *w)
{
	if (w->err)
		return;
	if (w->need_comma[w->depth])
		put_c(w, ',');
	w->need_comma[w->depth] = true;
}

static void begin_container(struct json_writer *w, char c)
{
	if (w->err)
		return;
	sep(w);
	if (w->depth + 1 >= JSON_MAX_DEPTH) {
		w->err = -EMBER_ELIMIT;
		return;
	}
	put_c(w, c);
	w->depth++;
	w->need_comma[w->depth] = false;
}

static void end_container(struct json_writer *w, char c)
{
	if (w->err)
		return;
	if (w->depth <= 0) {
		w->err = -EINVAL;
		return;
	}
	put_c(w, c);
	w->depth--;
}

void json_obj_begin(struct json_writer *w)
{
	begin_container(w, '{');
}

void json_obj_end(struct json_writer *w)
{
	end_container(w, '}');
}

void json_arr_begin(struct json_writer *w)
{
	begin_container(w, '[');
}

void json_arr_end(struct json_writer *w)
{
	end_container(w, ']');
}

/* A quoted, escaped string without separator handling. */
static void put_string(struct json_writer *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t run = 0; /* start of the pending run of bytes copied verbatim */
	size_t i = 0;

	put_c(w, '"');
	while (i < n && !w->err) {
		uint8_t c = p[i];
		char esc[6];
		size_t esc_len = 0, adv = 1;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			uint32_t cp;

			adv = utf8_next(p + i, n - i, &cp);
			if (cp != UTF8_BAD && cp != 0x2028 && cp != 0x2029) {
				i += adv;
				continue;
			}
			if (cp == UTF8_BAD) {
				memcpy(esc, "\xEF\xBF\xBD", 3); /* U+FFFD */
				esc_len = 3;
			} else {
				memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
				esc_len = 6;
			}
		} else {
			esc[0] = '\\';
			esc_len = 2;
			switch (c) {
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				esc_len = 6;
			}
		}
		put(w, p + run, i - run);
		put(w, esc, esc_len);
		i += adv;
		run = i;
	}
	put(w, p + run, i - run);
	put_c(w, '"');
}

void json_key(struct json_writer *w, const char *key)
{
	if (w->err)
		return;
	sep(w);
	put_string(w, key ? key : "", key ? strlen(key) : 0);
	put_c(w, ':');
	/* The value that follows must not get a comma; it sets the flag again itself. */
	w->need_comma[w->depth] = false;
}

void json_strn(struct json_writer *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (!s) {
		json_null(w);
		return;
	}
	sep(w);
	put_string(w, s, n);
}

void json_str(struct json_writer *w, const char *s)
{
	json_strn(w, s, s ? strlen(s) : 0);
}

void json_int(struct json_writer *w, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	if (w->err)
		return;
	sep(w);
	put(w, tmp, (size_t)n);
}

void json_uint(struct json_writer *w, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);

	if (w->err)
		return;
	sep(w);
	put(w, tmp, (size_t)n);
}

/*
 * The shortest of %.15g/%.16g/%.17g that reads back to v. snprintf and strtod follow the same
 * LC_NUMERIC, so the round-trip test is consistent; afterwards whatever the locale used as the
 * decimal point (any run of bytes other than digits, sign and exponent) becomes '.'.
 */
static size_t format_double(double v, char out[48])
{
	char tmp[48];
	size_t n = 0;
	int len = 0;

	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	for (int i = 0; i < len;) {
		char c = tmp[i];

		if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
			out[n++] = c;
			i++;
			continue;
		}
		out[n++] = '.';
		while (i < len && !((tmp[i] >= '0' && tmp[i] <= '9') || tmp[i] == 'e' ||
				    tmp[i] == 'E' || tmp[i] == '-' || tmp[i] == '+'))
			i++;
	}
	return n;
}

void json_double(struct json_writer *w, double v)
{
	char tmp[48];
	size_t n;

	if (w->err)
		return;
	if (!isfinite(v)) {
		json_null(w);
		return;
	}
	n = format_double(v, tmp);
	sep(w);
	put(w, tmp, n);
}

void json_bool(struct json_writer *w, bool v)
{
	if (w->err)
		return;
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void json_null(struct json_writer *w)
{
	if (w->err)
		return;
	sep(w);
	put(w, "null", 4);
}

int json_finish(struct json_writer *w)
{
	if (w->err)
		return w->err;
	if (w->depth != 0)
		return -EINVAL;
	return 0;
}

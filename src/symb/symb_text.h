/*
 * symb_text.h — private to src/symb: bounded line splitting and hex/decimal field parsing for
 * the text formats of /proc and /tmp (maps, kallsyms, perf maps). No allocation; every parser
 * stops at the end of its input and reports malformed fields instead of guessing.
 */
#ifndef EMBER_SYMB_TEXT_H
#define EMBER_SYMB_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cursor over text[0..len). */
struct symb_line_iter {
	const char *p;
	const char *end;
};

/* Next line, without its newline or a trailing CR, into *line, *n; false at the end. */
static inline bool symb_next_line(struct symb_line_iter *it, const char **line, size_t *n)
{
	if (it->p >= it->end)
		return false;
	const char *s = it->p, *e = s;
	while (e < it->end && *e != '\n')
		e++;
	it->p = e < it->end ? e + 1 : e;
	*line = s;
	*n = (size_t)(e - s);
	if (*n > 0 && s[*n - 1] == '\r')
		(*n)--;
	return true;
}

static inline int symb_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses hex digits at *pos (optional "0x") into *out; at least one digit, at most 16.
 * Advances *pos. */
static inline bool symb_parse_hex(const char *s, size_t n, size_t *pos, uint64_t *out)
{
	size_t i = *pos;
	if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
		i += 2;
	uint64_t v = 0;
	size_t digits = 0;
	while (i < n && symb_hexval(s[i]) >= 0) {
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)symb_hexval(s[i]);
		i++;
	}
	if (digits == 0)
		return false;
	*pos = i;
	*out = v;
	return true;
}

static inline bool symb_parse_dec(const char *s, size_t n, size_t *pos, uint64_t *out)
{
	size_t i = *pos, digits = 0;
	uint64_t v = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
		digits++;
	}
	if (digits == 0)
		return false;
	*pos = i;
	*out = v;
	return true;
}

static inline void symb_skip_spaces(const char *s, size_t n, size_t *pos)
{
	while (*pos < n && (s[*pos] == ' ' || s[*pos] == '\t'))
		(*pos)++;
}

#endif

/*
 * ch_result.c — reading ClickHouse's TabSeparated result bodies (hostile input): rows split at
 * '\n', fields at '\t', each field unescaped in place (\\, \t, \n, \r, \0, \b, \f, \'; any
 * other escaped byte stands for itself) and NUL-terminated; strict decimal numbers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/clickhouse/ch.h"

static size_t unescape(char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < n) {
			c = s[++i];
			c = c == 't'   ? '\t'
			    : c == 'n' ? '\n'
			    : c == 'r' ? '\r'
			    : c == '0' ? '\0'
			    : c == 'b' ? '\b'
			    : c == 'f' ? '\f'
				       : c;
		}
		s[o++] = c;
	}
	s[o] = 0;
	return o;
}

int ch_tsv_row(struct ch_tsv *t, char **f, size_t *len, size_t max)
{
	size_t n = 0;
	char *eol, *s;

	if (t->p >= t->end)
		return 0;
	eol = memchr(t->p, '\n', (size_t)(t->end - t->p));
	if (!eol)
		eol = t->end;
	s = t->p;
	for (;;) {
		char *tab = memchr(s, '\t', (size_t)(eol - s));
		char *e = tab ? tab : eol;

		if (n == max)
			return -1;
		f[n] = s;
		len[n] = unescape(s, (size_t)(e - s));
		n++;
		if (!tab)
			break;
		s = tab + 1;
	}
	t->p = eol + 1;
	return (int)n;
}

bool ch_parse_u64(const char *s, uint64_t *out)
{
	char *e;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &e, 10);
	return !errno && !*e;
}

bool ch_parse_i64(const char *s, int64_t *out)
{
	char *e;

	if ((*s < '0' || *s > '9') && *s != '-')
		return false;
	errno = 0;
	*out = strtoll(s, &e, 10);
	return !errno && !*e;
}

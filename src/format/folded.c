/*
 * folded.c — Brendan Gregg's folded stacks (folded.h): "root;child;leaf 42", one stack a line.
 *
 * Reading treats every byte as hostile: lines are bounded (FOLDED_MAX_LINE), stacks too
 * (FOLDED_MAX_DEPTH frames), the running total may not overflow, and a bad line fails the whole
 * read with "folded: line N: ..." in the diag. Each frame name becomes one function and one
 * location (cached by name); samples with the same stack add up. Zero counts are skipped.
 * Writing aggregates samples per stack string (label sets and equal display names merged),
 * sorts the lines bytewise and drops stacks whose sum is zero. Format notes: docs/internals/
 * format.md "## Folded".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "format/folded.h"

#define FOLDED_MAX_LINE	 (1u << 20) /* bytes, without the newline */
#define FOLDED_MAX_DEPTH 4096	    /* frames per stack */
#define FOLDED_UNKNOWN	 "[unknown]"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The count: digits with an optional fraction ("42", "42.", "4.5", ".5"), rounded half up.
 * Returns 0, or -ERANGE when it does not fit an int64, or -EMBER_EFORMAT.
 */
static int parse_count(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0, int_digits = 0, frac_digits = 0;

	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
		int d = s[i] - '0';

		if (v > (INT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (i < n && s[i] == '.') {
		bool round_up = false;

		i++;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++)
			if (frac_digits == 0)
				round_up = s[i] >= '5';
		if (round_up) {
			if (v == INT64_MAX)
				return -ERANGE;
			v++;
		}
	}
	if (i != n || int_digits + frac_digits == 0)
		return -EMBER_EFORMAT;
	*out = v;
	return 0;
}

/* The location for a frame name: one function, one line; cached by string id. */
static uint32_t frame_location(struct prof *p, struct hmap *cache, const char *name, size_t n)
{
	uint32_t sid = prof_intern(p, name, n);
	uint64_t *slot;
	bool found;
	struct prof_function fn = {0};
	struct prof_line line = {0};

	slot = hmap_upsert(cache, sid, 0, &found);
	if (found)
		return (uint32_t)*slot;
	fn.name = sid;
	line.function = prof_add_function(p, &fn);
	*slot = prof_add_location(p, 0, 0, &line, 1, false);
	return (uint32_t)*slot;
}

/* One line without its newline and trailing whitespace (n > 0). Adds its sample. */
static int read_line(struct prof *p, struct hmap *cache, const char *line, size_t n, size_t no,
		     int64_t *total, struct ember_diag *d)
{
	size_t c = n, s, start = 0, depth = 0;
	uint32_t node = 0;
	int64_t v;
	int rc;

	if (memchr(line, '\0', n))
		return ember_diag_set(d, -EMBER_EFORMAT, "folded: line %zu: NUL byte", no);
	while (c > 0 && !is_space(line[c - 1]))
		c--;
	if (c == 0)
		return ember_diag_set(d, -EMBER_EFORMAT,
				      "folded: line %zu: expected '<frame;frame;...> <count>'", no);
	rc = parse_count(line + c, n - c, &v);
	if (rc == -ERANGE)
		return ember_diag_set(d, -EMBER_EFORMAT, "folded: line %zu: count too large", no);
	if (rc < 0)
		return ember_diag_set(d, -EMBER_EFORMAT, "folded: line %zu: bad count '%.*s'", no,
				      (int)EMBER_MIN(n - c, 40), line + c);
	s = c;
	while (s > 0 && is_space(line[s - 1]))
		s--;
	if (v == 0)
		return 0;
	for (size_t i = 0; i <= s; i++) {
		if (i < s && line[i] != ';')
			continue;
		if (i > start) {
			if (++depth > FOLDED_MAX_DEPTH)
				return ember_diag_set(d, -EMBER_ELIMIT,
						      "folded: line %zu: more than %d frames", no,
						      FOLDED_MAX_DEPTH);
			node = prof_node_child(p, node,
					       frame_location(p, cache, line + start, i - start));
		}
		start = i + 1;
	}
	if (depth == 0)
		return ember_diag_set(d, -EMBER_EFORMAT, "folded: line %zu: empty stack", no);
	if (*total > INT64_MAX - v)
		return ember_diag_set(d, -EMBER_EFORMAT, "folded: line %zu: total count overflows",
				      no);
	*total += v;
	prof_add_sample(p, node, 0, &v);
	return 0;
}

int folded_read(const char *text, size_t len, const char *type, const char *unit, struct prof **out,
		struct ember_diag *d)
{
	struct prof *p = prof_new();
	struct hmap cache;
	size_t pos = 0, no = 0;
	int64_t total = 0;
	int rc = 0;

	*out = NULL;
	hmap_init(&cache, MEM_FORMAT);
	prof_add_sample_type(p, prof_intern_cstr(p, type ? type : "samples"),
			     prof_intern_cstr(p, unit ? unit : "count"));
	while (pos < len) {
		const char *line = text + pos, *eol = memchr(line, '\n', len - pos);
		size_t n = eol ? (size_t)(eol - line) : len - pos;

		no++;
		pos += n + (eol != NULL);
		if (n > FOLDED_MAX_LINE) {
			rc = ember_diag_set(d, -EMBER_ELIMIT,
					    "folded: line %zu: longer than %u bytes", no,
					    FOLDED_MAX_LINE);
			break;
		}
		while (n > 0 && is_space(line[n - 1]))
			n--;
		if (n == 0)
			continue;
		rc = read_line(p, &cache, line, n, no, &total, d);
		if (rc < 0)
			break;
	}
	hmap_fini(&cache);
	if (rc < 0) {
		prof_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Writing. */

struct stack_line {
	const char *s; /* into the stacks buffer, set once it stops growing */
	size_t off, len;
	int64_t value;
};

static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static int cmp_lines(const void *a, const void *b)
{
	const struct stack_line *x = a, *y = b;
	int c = memcmp(x->s, y->s, EMBER_MIN(x->len, y->len));

	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

/* A frame name as one folded field: ';' would split it and newlines end the line, so they are
 * replaced; an empty or blank name would vanish on reading, so it becomes "[unknown]". */
static int append_frame(struct buf *b, const char *name)
{
	size_t n = strlen(name), i, start = 0;
	bool blank = true;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (!is_space(name[i]) && name[i] != '\n')
			blank = false;
	if (blank)
		return buf_puts(b, FOLDED_UNKNOWN);
	for (i = 0; i < n && rc == 0; i++) {
		char c = name[i];

		if (c != ';' && c != '\n' && c != '\r')
			continue;
		rc = buf_append(b, name + start, i - start);
		if (rc == 0)
			rc = buf_putc(b, c == ';' ? ':' : ' ');
		start = i + 1;
	}
	if (rc == 0)
		rc = buf_append(b, name + start, n - start);
	return rc;
}

/* The stack string of node, root first, inline frames outer to inner. */
static int append_stack(const struct prof *p, uint32_t node, uint32_t **locs, size_t *cap,
			struct buf *b)
{
	size_t n = 0;
	bool first = true;
	int rc = 0;
	char tmp[80];

	for (uint32_t x = node; x != 0;) {
		uint32_t parent = prof_node_parent(p, x);

		mem_grow(MEM_FORMAT, (void **)locs, cap, n + 1, sizeof(**locs));
		(*locs)[n++] = prof_node_location(p, x);
		if (parent >= x) /* parents come before children; anything else would loop */
			break;
		x = parent;
	}
	if (n == 0)
		return buf_puts(b, FOLDED_UNKNOWN);
	for (size_t i = n; i-- > 0 && rc == 0;) {
		uint32_t loc = (*locs)[i], nf = prof_location_n_frames(p, loc);

		for (uint32_t j = nf; j-- > 0 && rc == 0;) {
			if (!first)
				rc = buf_putc(b, ';');
			first = false;
			if (rc == 0)
				rc = append_frame(b, prof_frame_name(p, loc, j, tmp));
		}
	}
	return rc;
}

int folded_write(const struct prof *p, size_t vi, struct buf *out)
{
	uint32_t n_nodes = prof_n_nodes(p), *locs = NULL;
	size_t n_samples = prof_n_samples(p), n_lines = 0, cap_locs = 0, cap_lines = 0;
	int64_t *vals;
	struct stack_line *lines = NULL;
	struct buf stacks;
	int rc = 0;

	if (vi >= prof_n_sample_types(p))
		return -EINVAL;
	vals = mem_calloc(MEM_FORMAT, n_nodes ? n_nodes : 1, sizeof(*vals));
	for (size_t i = 0; i < n_samples; i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		if (s.node < n_nodes)
			vals[s.node] = add_sat(vals[s.node], s.values[vi]);
	}
	buf_init(&stacks, MEM_FORMAT, SIZE_MAX);
	for (uint32_t node = 0; node < n_nodes && rc == 0; node++) {
		struct stack_line *l;

		if (vals[node] == 0)
			continue;
		mem_grow(MEM_FORMAT, (void **)&lines, &cap_lines, n_lines + 1, sizeof(*lines));
		l = &lines[n_lines++];
		l->off = stacks.len;
		l->value = vals[node];
		rc = append_stack(p, node, &locs, &cap_locs, &stacks);
		l->len = stacks.len - l->off;
	}
	for (size_t i = 0; i < n_lines; i++)
		lines[i].s = (const char *)stacks.data + lines[i].off;
	if (rc == 0 && n_lines > 1)
		qsort(lines, n_lines, sizeof(*lines), cmp_lines);
	for (size_t i = 0; i < n_lines && rc == 0;) {
		int64_t v = lines[i].value;
		size_t j = i + 1;

		while (j < n_lines && cmp_lines(&lines[i], &lines[j]) == 0)
			v = add_sat(v, lines[j++].value);
		if (v != 0) {
			rc = buf_append(out, lines[i].s, lines[i].len);
			if (rc == 0)
				rc = buf_printf(out, " %" PRId64 "\n", v);
		}
		i = j;
	}
	buf_fini(&stacks);
	mem_free(lines);
	mem_free(locs);
	mem_free(vals);
	return rc;
}

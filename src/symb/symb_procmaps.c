/*
 * symb_procmaps.c — /proc/PID/maps parsing: "start-end perms offset major:minor inode path".
 * Owns the mapping array and the path strings of a struct symb_maps. Lines that do not parse
 * are skipped (the kernel's format is fixed, but the path is arbitrary bytes a process chose);
 * lines and counts are bounded (SYMB_MAPS_MAX_LINE, SYMB_MAPS_MAX_COUNT).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "symb/symb.h"
#include "symb/symb_text.h"

void symb_maps_init(struct symb_maps *m)
{
	memset(m, 0, sizeof(*m));
}

void symb_maps_fini(struct symb_maps *m)
{
	for (size_t i = 0; i < m->len; i++)
		mem_free(m->maps[i].path);
	mem_free(m->maps);
	memset(m, 0, sizeof(*m));
}

static bool parse_line(const char *s, size_t n, struct symb_map *out, size_t *path_at)
{
	size_t i = 0;
	uint64_t v;
	memset(out, 0, sizeof(*out));
	if (!symb_parse_hex(s, n, &i, &out->start) || i >= n || s[i++] != '-')
		return false;
	if (!symb_parse_hex(s, n, &i, &out->end) || out->end < out->start)
		return false;
	symb_skip_spaces(s, n, &i);
	if (i + 4 > n)
		return false;
	out->perms = (s[i] == 'r' ? SYMB_MAP_R : 0) | (s[i + 1] == 'w' ? SYMB_MAP_W : 0) |
		     (s[i + 2] == 'x' ? SYMB_MAP_X : 0) | (s[i + 3] == 'p' ? SYMB_MAP_P : 0);
	i += 4;
	symb_skip_spaces(s, n, &i);
	if (!symb_parse_hex(s, n, &i, &out->offset))
		return false;
	symb_skip_spaces(s, n, &i);
	if (!symb_parse_hex(s, n, &i, &v) || v > UINT32_MAX || i >= n || s[i++] != ':')
		return false;
	out->dev_major = (uint32_t)v;
	if (!symb_parse_hex(s, n, &i, &v) || v > UINT32_MAX)
		return false;
	out->dev_minor = (uint32_t)v;
	symb_skip_spaces(s, n, &i);
	if (!symb_parse_dec(s, n, &i, &out->inode))
		return false;
	if (i < n && s[i] != ' ' && s[i] != '\t')
		return false;
	symb_skip_spaces(s, n, &i);
	*path_at = i;
	return true;
}

static int cmp_start(const void *a, const void *b)
{
	const struct symb_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int symb_maps_parse(struct symb_maps *m, const char *text, size_t len)
{
	struct symb_line_iter it = {text, text + len};
	const char *line;
	size_t n;
	while (symb_next_line(&it, &line, &n)) {
		struct symb_map mp;
		size_t at;
		if (n == 0 || n > SYMB_MAPS_MAX_LINE || !parse_line(line, n, &mp, &at))
			continue;
		if (m->len >= SYMB_MAPS_MAX_COUNT)
			return -EMBER_ELIMIT;
		size_t plen = n - at;
		static const char deleted[] = " (deleted)";
		if (plen >= sizeof(deleted) - 1 &&
		    memcmp(line + n - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0) {
			mp.deleted = true;
			plen -= sizeof(deleted) - 1;
		}
		mp.path = mem_strndup(MEM_SYMB, line + at, plen);
		mem_grow(MEM_SYMB, (void **)&m->maps, &m->cap, m->len + 1, sizeof(*m->maps));
		m->maps[m->len++] = mp;
	}
	/* The kernel writes them sorted; a hostile or hand-made text may not be. */
	if (m->len > 1)
		qsort(m->maps, m->len, sizeof(*m->maps), cmp_start);
	return 0;
}

int symb_maps_read(struct symb_maps *m, int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	struct buf b;
	buf_init(&b, MEM_SYMB, (size_t)SYMB_MAPS_MAX_COUNT * 256);
	int rc = buf_read_file(&b, path);
	if (rc == 0)
		rc = symb_maps_parse(m, (const char *)b.data, b.len);
	buf_fini(&b);
	return rc;
}

const struct symb_map *symb_maps_find(const struct symb_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->maps[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct symb_map *mp = &m->maps[lo - 1];
	return addr < mp->end ? mp : NULL;
}

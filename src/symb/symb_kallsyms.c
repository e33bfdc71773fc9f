/*
 * symb_kallsyms.c — kernel symbols from /proc/kallsyms ("addr type name [module]"), text
 * symbols only, sorted by address for binary search; and JIT perf maps (/tmp/perf-PID.map,
 * "START SIZE name", hex without 0x). Both keep every name in one blob and index it by
 * offset (the ksyms idea: one allocation per table, not per symbol). Sizes are bounded;
 * malformed lines are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "symb/symb.h"
#include "symb/symb_text.h"

#define KALLSYMS_MAX_BYTES ((size_t)256 << 20)
#define KALLSYMS_MAX_COUNT (8u << 20)
#define PERFMAP_MAX_BYTES  ((size_t)256 << 20)
#define PERFMAP_MAX_COUNT  (4u << 20)
#define SYM_NAME_MAX	   1024
/* kallsyms has no sizes: past the last symbol, accept addresses within this distance. */
#define KALLSYMS_TAIL_BYTES 4096

struct addr_sym {
	uint64_t addr;
	uint64_t size;	 /* perf maps: size; kallsyms: 0 */
	uint32_t name;	 /* offset into names */
	uint32_t module; /* offset into names, UINT32_MAX = none */
	uint32_t seq;	 /* input order (perf map: last wins) */
	uint32_t pad;
};

struct addr_table {
	struct addr_sym *syms;
	size_t len, cap;
	struct buf names;
};

struct symb_kallsyms {
	struct addr_table t;
};

struct symb_perfmap {
	struct addr_table t;
};

static void table_init(struct addr_table *t, size_t max_names)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->names, MEM_SYMB, max_names);
}

static void table_fini(struct addr_table *t)
{
	mem_free(t->syms);
	buf_fini(&t->names);
}

static int table_add(struct addr_table *t, uint64_t addr, uint64_t size, const char *name,
		     size_t name_len, const char *module, size_t module_len, size_t max_count)
{
	if (t->len >= max_count)
		return -EMBER_ELIMIT;
	if (name_len > SYM_NAME_MAX)
		name_len = SYM_NAME_MAX;
	if (module_len > SYM_NAME_MAX)
		module_len = SYM_NAME_MAX;
	if (t->names.len > UINT32_MAX - 2 * SYM_NAME_MAX - 2)
		return -EMBER_ELIMIT;
	struct addr_sym s = {.addr = addr, .size = size, .module = UINT32_MAX};
	s.seq = (uint32_t)t->len;
	s.name = (uint32_t)t->names.len;
	int rc = buf_append(&t->names, name, name_len);
	if (rc == 0)
		rc = buf_putc(&t->names, 0);
	if (rc == 0 && module) {
		s.module = (uint32_t)t->names.len;
		rc = buf_append(&t->names, module, module_len);
		if (rc == 0)
			rc = buf_putc(&t->names, 0);
	}
	if (rc != 0)
		return rc;
	mem_grow(MEM_SYMB, (void **)&t->syms, &t->cap, t->len + 1, sizeof(*t->syms));
	t->syms[t->len++] = s;
	return 0;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct addr_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Index of the last symbol with addr <= a, or SIZE_MAX. */
static size_t table_floor(const struct addr_table *t, uint64_t a)
{
	size_t lo = 0, hi = t->len;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->syms[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? SIZE_MAX : lo - 1;
}

int symb_kallsyms_parse(const char *text, size_t len, struct symb_kallsyms **out)
{
	struct symb_kallsyms *k = mem_calloc(MEM_SYMB, 1, sizeof(*k));
	table_init(&k->t, KALLSYMS_MAX_BYTES);
	struct symb_line_iter it = {text, text + len};
	const char *s;
	size_t n;
	bool any_nonzero = false;
	int rc = 0;
	while (symb_next_line(&it, &s, &n)) {
		size_t i = 0;
		uint64_t addr;
		if (!symb_parse_hex(s, n, &i, &addr) || i >= n || s[i] != ' ')
			continue;
		symb_skip_spaces(s, n, &i);
		if (i + 1 >= n || (s[i + 1] != ' ' && s[i + 1] != '\t'))
			continue;
		char type = s[i];
		i++;
		if (type != 't' && type != 'T' && type != 'w' && type != 'W')
			continue;
		symb_skip_spaces(s, n, &i);
		size_t name_at = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		size_t name_len = i - name_at;
		if (name_len == 0)
			continue;
		const char *mod = NULL;
		size_t mod_len = 0;
		symb_skip_spaces(s, n, &i);
		if (i < n && s[i] == '[') {
			size_t m0 = ++i;
			while (i < n && s[i] != ']')
				i++;
			if (i < n && i > m0) {
				mod = s + m0;
				mod_len = i - m0;
			}
		}
		if (addr != 0)
			any_nonzero = true;
		rc = table_add(&k->t, addr, 0, s + name_at, name_len, mod, mod_len,
			       KALLSYMS_MAX_COUNT);
		if (rc != 0)
			break;
	}
	if (rc == 0 && k->t.len > 0 && !any_nonzero)
		rc = -EMBER_ENOTFOUND; /* kptr_restrict hides the addresses */
	if (rc != 0) {
		symb_kallsyms_free(k);
		return rc;
	}
	if (k->t.len > 1)
		qsort(k->t.syms, k->t.len, sizeof(*k->t.syms), cmp_sym);
	*out = k;
	return 0;
}

int symb_kallsyms_load(const char *path, struct symb_kallsyms **out)
{
	struct buf b;
	buf_init(&b, MEM_SYMB, KALLSYMS_MAX_BYTES);
	int rc = buf_read_file(&b, path ? path : "/proc/kallsyms");
	if (rc == 0)
		rc = symb_kallsyms_parse((const char *)b.data, b.len, out);
	buf_fini(&b);
	return rc;
}

void symb_kallsyms_free(struct symb_kallsyms *k)
{
	if (!k)
		return;
	table_fini(&k->t);
	mem_free(k);
}

const char *symb_kallsyms_lookup(const struct symb_kallsyms *k, uint64_t addr, const char **module,
				 uint64_t *off)
{
	size_t i = table_floor(&k->t, addr);
	if (i == SIZE_MAX)
		return NULL;
	/* Of several symbols at one address, take the first (input order). */
	while (i > 0 && k->t.syms[i - 1].addr == k->t.syms[i].addr)
		i--;
	const struct addr_sym *s = &k->t.syms[i];
	if (i + 1 == k->t.len && addr - s->addr >= KALLSYMS_TAIL_BYTES)
		return NULL;
	const char *names = (const char *)k->t.names.data;
	if (module)
		*module = s->module == UINT32_MAX ? NULL : names + s->module;
	if (off)
		*off = addr - s->addr;
	return names + s->name;
}

size_t symb_kallsyms_count(const struct symb_kallsyms *k)
{
	return k->t.len;
}

int symb_perfmap_parse(const char *text, size_t len, struct symb_perfmap **out)
{
	struct symb_perfmap *pm = mem_calloc(MEM_SYMB, 1, sizeof(*pm));
	table_init(&pm->t, PERFMAP_MAX_BYTES);
	struct symb_line_iter it = {text, text + len};
	const char *s;
	size_t n;
	int rc = 0;
	while (symb_next_line(&it, &s, &n)) {
		size_t i = 0;
		uint64_t start, size;
		if (!symb_parse_hex(s, n, &i, &start) || i >= n || s[i] != ' ')
			continue;
		symb_skip_spaces(s, n, &i);
		if (!symb_parse_hex(s, n, &i, &size) || i >= n || s[i] != ' ' || size == 0 ||
		    start + size < start)
			continue;
		symb_skip_spaces(s, n, &i);
		if (i >= n)
			continue;
		rc = table_add(&pm->t, start, size, s + i, n - i, NULL, 0, PERFMAP_MAX_COUNT);
		if (rc != 0)
			break;
	}
	if (rc != 0) {
		symb_perfmap_free(pm);
		return rc;
	}
	if (pm->t.len > 1)
		qsort(pm->t.syms, pm->t.len, sizeof(*pm->t.syms), cmp_sym);
	*out = pm;
	return 0;
}

int symb_perfmap_load(const char *path, struct symb_perfmap **out)
{
	struct buf b;
	buf_init(&b, MEM_SYMB, PERFMAP_MAX_BYTES);
	int rc = buf_read_file(&b, path);
	if (rc == 0)
		rc = symb_perfmap_parse((const char *)b.data, b.len, out);
	buf_fini(&b);
	return rc;
}

void symb_perfmap_free(struct symb_perfmap *pm)
{
	if (!pm)
		return;
	table_fini(&pm->t);
	mem_free(pm);
}

const char *symb_perfmap_lookup(const struct symb_perfmap *pm, uint64_t addr)
{
	size_t i = table_floor(&pm->t, addr);
	if (i == SIZE_MAX)
		return NULL;
	/* Overlaps: the covering entry written last wins; look back a bounded distance. */
	const struct addr_sym *best = NULL;
	for (size_t k = 0; k < 64 && k <= i; k++) {
		const struct addr_sym *s = &pm->t.syms[i - k];
		if (addr - s->addr < s->size && (!best || s->seq > best->seq))
			best = s;
	}
	return best ? (const char *)pm->t.names.data + best->name : NULL;
}

size_t symb_perfmap_count(const struct symb_perfmap *pm)
{
	return pm->t.len;
}

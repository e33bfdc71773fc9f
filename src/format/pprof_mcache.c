/*
 * pprof_mcache.c — the caches of a merge session (struct pprof_merger), kept across inputs:
 * functions by content (the bytes of name, system_name, filename, kept in the session's arena,
 * and start_line) -> the target's function id; locations of at most PMC_MAX_LINES lines by
 * content in target ids (mapping, address, folded, each line's function, line and column) -> the
 * target's location id.
 *
 * The target profile's own location index costs three or four dependent cache misses per lookup
 * (slot, record, lines), and a merge looks up every location of every input. Here the usual key
 * sits in one 32-byte entry within one cache line (struct pmc_ent; any other key is kept whole
 * in the wide keys), and pmc_lookup resolves a batch of keys in a software pipeline (prefetch the
 * slot of key j + 2A, then the entry that slot names for key j + A, then compare key j), so the
 * misses of many keys overlap; pmc_flookup does the same for functions with one more stage (the
 * arena bytes), and a function hit also saves interning its three strings.
 * Locations with an address are hashed by mapping and address only, so pmc_lookup_file can find
 * an input's locations before their functions are translated: it compares each file function
 * with the cached bytes of the entry's function once per input, and each of the input's filename
 * strings with a cached filename once (the arena holds each filename once); most inputs repeat
 * what the target has, and then no function is hashed or looked up at all.
 * Keys are compared field by field and byte by byte: a hit is exact, never a hash guess.
 * Entries map to ids of a profile that only grows, so they never go stale. Memory: one entry per
 * distinct cached location / function of the target, the wide keys, the functions' string bytes
 * (at most 4 GiB, then functions are no longer cached), and indexes of at most 4x the entries;
 * pprof_merger_free releases it all.
 */
#include <stdint.h>
#include <string.h>

#include "base/hash.h"
#include "base/mem.h"
#include "format/pprof.h"

#include "format/pprof_dec_int.h"

#define PMC_AHEAD 8 /* pipeline distance, in keys */

/* struct pmc_ent's meta: the key's mapping in the low bits (PMC_E_MAPPING_MAX), then n_lines,
 * is_folded, and whether the key is in the wide keys. */
#define PMC_E_LINES_SHIFT 28
#define PMC_E_FOLDED	  (1u << 30)
#define PMC_E_WIDE	  (1u << 31)

/* grow_aligned puts these in one cache line each */
_Static_assert(sizeof(struct pmc_ent) == 32, "a location entry is 32 bytes");
_Static_assert(sizeof(struct pmc_fent) == 32, "a function entry is 32 bytes");

struct pprof_merger *pprof_merger_new(struct prof *dst)
{
	struct pprof_merger *m = mem_calloc(MEM_FORMAT, 1, sizeof(*m));

	m->dst = dst;
	return m;
}

size_t pprof_merger_bytes(const struct pprof_merger *m)
{
	return sizeof(*m) + m->n_slots * sizeof(*m->slots) + m->cap_ent * sizeof(*m->ent) + 63 +
	       m->cap_wide * sizeof(*m->wide) +
	       m->cap_scratch * (sizeof(*m->keys) + sizeof(*m->hash) + 2 * sizeof(uint32_t)) +
	       m->n_fslots * sizeof(*m->fslots) +
	       m->cap_fent * (sizeof(*m->fent) + sizeof(*m->fent_id)) + 63 + m->arena_cap +
	       m->cap_fscratch * (sizeof(*m->fkeys) + sizeof(*m->fhash) + 2 * sizeof(uint32_t)) +
	       m->cap_str_hash * sizeof(*m->str_hash) + m->cap_fent_of * sizeof(*m->fent_of) +
	       m->n_file_slots * sizeof(*m->file_slots);
}

void pprof_merger_free(struct pprof_merger *m)
{
	if (!m)
		return;
	mem_free(m->slots);
	mem_free(m->ent_block);
	mem_free(m->wide);
	mem_free(m->keys);
	mem_free(m->hash);
	mem_free(m->ids);
	mem_free(m->idx);
	mem_free(m->fslots);
	mem_free(m->fent_block);
	mem_free(m->fent_id);
	mem_free(m->arena);
	mem_free(m->file_slots);
	mem_free(m->fkeys);
	mem_free(m->fhash);
	mem_free(m->str_hash);
	mem_free(m->fids);
	mem_free(m->fidx);
	mem_free(m->fent_of);
	mem_free(m);
}

uint64_t pmc_hash(const struct pmc_key *k)
{
	uint64_t h;

	if (k->address)
		return pmc_addr_hash(k->mapping, k->address);
	h = hash_mix(k->address,
		     (uint64_t)k->mapping << 16 | (uint64_t)k->n_lines << 8 | k->is_folded);
	for (uint32_t i = 0; i < k->n_lines; i++) {
		h = hash_mix(h ^ k->function[i], (uint64_t)k->line[i]);
		h = hash_mix(h, (uint64_t)k->column[i]);
	}
	return hash_u64(h);
}

/* An entry's meta for a key's mapping (at most PMC_E_MAPPING_MAX), n_lines and is_folded. */
static inline uint32_t ent_meta(uint32_t mapping, uint32_t n_lines, bool is_folded)
{
	return mapping | n_lines << PMC_E_LINES_SHIFT | (is_folded ? PMC_E_FOLDED : 0);
}

/* Does entry e have this mapping, n_lines (at most PMC_MAX_LINES) and fold? */
static inline bool ent_is(const struct pmc_ent *e, uint32_t mapping, uint32_t n_lines,
			  bool is_folded)
{
	return mapping <= PMC_E_MAPPING_MAX &&
	       (e->meta & ~PMC_E_WIDE) == ent_meta(mapping, n_lines, is_folded);
}

/* Line j of entry e: its line and column. */
static inline void ent_line(const struct pprof_merger *m, const struct pmc_ent *e, uint32_t j,
			    int64_t *line, int64_t *column)
{
	if (e->meta & PMC_E_WIDE) {
		const struct pmc_key *w = &m->wide[(uint32_t)e->line[0]];

		*line = w->line[j];
		*column = w->column[j];
	} else {
		*line = e->line[j];
		*column = 0;
	}
}

/* The key entry e holds. */
static void ent_key(const struct pprof_merger *m, const struct pmc_ent *e, struct pmc_key *k)
{
	memset(k, 0, sizeof(*k));
	k->address = e->address;
	k->mapping = e->meta & PMC_E_MAPPING_MAX;
	k->n_lines = (uint8_t)(e->meta >> PMC_E_LINES_SHIFT & 3);
	k->is_folded = (e->meta & PMC_E_FOLDED) != 0;
	for (uint32_t j = 0; j < k->n_lines; j++) {
		k->function[j] = e->function[j];
		ent_line(m, e, j, &k->line[j], &k->column[j]);
	}
}

static bool key_eq(const struct pprof_merger *m, const struct pmc_ent *e, const struct pmc_key *k)
{
	if (e->address != k->address || !ent_is(e, k->mapping, k->n_lines, k->is_folded))
		return false;
	for (uint32_t j = 0; j < k->n_lines; j++) {
		int64_t line, column;

		ent_line(m, e, j, &line, &column);
		if (e->function[j] != k->function[j] || line != k->line[j] ||
		    column != k->column[j])
			return false;
	}
	return true;
}

static inline uint32_t tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

/* Puts the entry of hash h and index + 1 idx1 into the first free slot from h's home in one of
 * the indexes (cap slots, a power of two, never full): tag << 32 | index + 1. */
static void slot_put(uint64_t *slots, size_t cap, uint64_t h, uint32_t idx1)
{
	size_t j = h & (cap - 1);

	while (slots[j])
		j = (j + 1) & (cap - 1);
	slots[j] = (uint64_t)tag_of(h) << 32 | idx1;
}

/* Grows *arr, an array of *cap entries of elem bytes (n of them used) at a 64-byte boundary in
 * the allocation *block, to twice as many (at least 256), keeping the boundary: an entry of 32
 * or 64 bytes then lies in one cache line. */
static void grow_aligned(void **block, void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t c = EMBER_MAX(2 * *cap, (size_t)256);
	void *b = mem_alloc(MEM_FORMAT, c * elem + 63);
	void *a = (void *)(((uintptr_t)b + 63) & ~(uintptr_t)63);

	if (n)
		memcpy(a, *arr, n * elem);
	mem_free(*block);
	*block = b;
	*arr = a;
	*cap = c;
}

/* Room for one more entry: the entry array, and the index at most half full. */
static void pmc_reserve(struct pprof_merger *m)
{
	size_t cap = m->n_slots ? m->n_slots : 1024;

	if (m->n_ent == m->cap_ent)
		grow_aligned(&m->ent_block, (void **)&m->ent, &m->cap_ent, m->n_ent,
			     sizeof(*m->ent));
	while ((m->n_ent + 1) * 2 > cap)
		cap *= 2;
	if (cap == m->n_slots)
		return;
	mem_free(m->slots);
	m->slots = mem_calloc(MEM_FORMAT, cap, sizeof(*m->slots));
	m->n_slots = cap;
	for (size_t e = 0; e < m->n_ent; e++) {
		struct pmc_key k;

		ent_key(m, &m->ent[e], &k);
		slot_put(m->slots, cap, pmc_hash(&k), (uint32_t)e + 1);
	}
}

void pmc_insert(struct pprof_merger *m, const struct pmc_key *k, uint64_t h, uint32_t id)
{
	struct pmc_ent *e;
	bool wide = false;

	if (k->mapping > PMC_E_MAPPING_MAX)
		return; /* not cached: such a location is always looked up in the target */
	for (uint32_t i = 0; i < k->n_lines; i++)
		wide |= k->column[i] != 0 || k->line[i] != (int32_t)k->line[i];
	pmc_reserve(m);
	e = &m->ent[m->n_ent];
	memset(e, 0, sizeof(*e));
	e->address = k->address;
	e->meta = ent_meta(k->mapping, k->n_lines, k->is_folded) | (wide ? PMC_E_WIDE : 0);
	e->id = id;
	for (uint32_t i = 0; i < k->n_lines; i++) {
		e->function[i] = k->function[i];
		e->line[i] = (int32_t)k->line[i];
	}
	if (wide) {
		mem_grow(MEM_FORMAT, (void **)&m->wide, &m->cap_wide, m->n_wide + 1,
			 sizeof(*m->wide));
		m->wide[m->n_wide] = *k;
		e->line[0] = (int32_t)m->n_wide++;
	}
	slot_put(m->slots, m->n_slots, h, (uint32_t)m->n_ent + 1);
	m->n_ent++;
}

void pmc_scratch(struct pprof_merger *m, size_t n)
{
	size_t cap = m->cap_scratch;

	if (n <= cap)
		return;
	cap = EMBER_MAX(n, 2 * cap);
	m->keys = mem_realloc(MEM_FORMAT, m->keys, cap * sizeof(*m->keys));
	m->hash = mem_realloc(MEM_FORMAT, m->hash, cap * sizeof(*m->hash));
	m->ids = mem_realloc(MEM_FORMAT, m->ids, cap * sizeof(*m->ids));
	m->idx = mem_realloc(MEM_FORMAT, m->idx, cap * sizeof(*m->idx));
	m->cap_scratch = cap;
}

/* ---- functions ---- */

uint64_t pmc_fhash(uint64_t name_h, uint64_t system_name_h, uint64_t filename_h, int64_t start_line)
{
	return hash_u64(
		hash_mix(hash_mix(name_h, system_name_h), filename_h ^ (uint64_t)start_line));
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* memcmp(a, b, n) == 0 for names of functions and files (mostly 10-100 bytes), without a call:
 * 8 bytes at a time and the last 8 read as one word that may overlap the one before, so that
 * there is no byte-by-byte tail. */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n >= 8) {
		for (size_t i = 0; i + 8 < n; i += 8)
			if (load64(a + i) != load64(b + i))
				return false;
		return load64(a + n - 8) == load64(b + n - 8);
	}
	if (n >= 4)
		return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
	return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

/* A string's hash, for names of functions and files (mostly 10-100 bytes): 16 bytes per
 * multiply, and the last 1-16 bytes read as two words that may overlap the ones before, so
 * there is no byte-by-byte tail (whose length-dependent branches cost more than the hashing
 * for short strings). Never 0, which marks "not computed". */
uint64_t pmc_str_hash(const uint8_t *p, size_t n)
{
	uint64_t h = hash_mix(n, 0x2d358dccaa6c78a5ULL), a, b;

	if (n > 16) {
		const uint8_t *last = p + n - 16;

		for (; p < last; p += 16)
			h = hash_mix(load64(p) ^ h, load64(p + 8));
		a = load64(last);
		b = load64(last + 8);
	} else if (n >= 8) {
		a = load64(p);
		b = load64(p + n - 8);
	} else if (n >= 4) {
		a = load32(p);
		b = load32(p + n - 4);
	} else {
		a = n ? (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1] : 0;
		b = 0;
	}
	return hash_u64(hash_mix(a ^ h, b)) | 1;
}

/* Where an entry's bytes of string i (0 name, 1 system_name, 2 filename) lie in the arena: the
 * name, then system_name unless it has the name's bytes (Go's functions); the filename apart,
 * once for every entry of that file, so that most compares of a filename read bytes in cache. */
static const uint8_t *fent_str(const struct pprof_merger *m, const struct pmc_fent *e, int i)
{
	if (i == 2)
		return m->arena + e->file_off;
	return m->arena + e->off + (i == 1 && !e->sys_is_name ? e->len[0] : 0);
}

static uint64_t fent_hash(const struct pprof_merger *m, const struct pmc_fent *e)
{
	uint64_t h[3];

	for (int i = 0; i < 3; i++)
		h[i] = pmc_str_hash(fent_str(m, e, i), e->len[i]);
	return pmc_fhash(h[0], h[1], h[2], e->start_line);
}

/* Does entry e hold key k? file_memo, when not NULL, is where the input notes the arena offset + 1
 * of the filename its key's filename was found equal to: an equal note spares the compare, and a
 * match updates it. */
static bool fkey_eq(const struct pprof_merger *m, const struct pmc_fent *e,
		    const struct pmc_fkey *k, uint32_t *file_memo)
{
	if (e->start_line != k->start_line || e->len[0] != k->len[0] || e->len[1] != k->len[1] ||
	    e->len[2] != k->len[2])
		return false;
	for (int i = 0; i < 2; i++) {
		/* the same bytes as the name, which matched: no second compare */
		bool same = i == 1 && e->sys_is_name && k->s[1] == k->s[0];

		if (k->len[i] && !same && !bytes_eq(fent_str(m, e, i), k->s[i], k->len[i]))
			return false;
	}
	if (!k->len[2] || (file_memo && *file_memo == e->file_off + 1))
		return true;
	if (!bytes_eq(m->arena + e->file_off, k->s[2], k->len[2]))
		return false;
	if (file_memo)
		*file_memo = e->file_off + 1;
	return true;
}

/* The arena offset of filename bytes p[0..n) (hash h), added when new; the arena has room. */
static uint32_t file_intern(struct pprof_merger *m, const uint8_t *p, uint32_t n, uint64_t h)
{
	size_t mask, j;
	uint32_t off;

	if ((m->n_files + 1) * 2 > m->n_file_slots) {
		size_t cap = m->n_file_slots ? 2 * m->n_file_slots : 256;
		uint64_t *old = m->file_slots, *sl = mem_calloc(MEM_FORMAT, cap, sizeof(*sl));

		for (size_t i = 0; i < m->n_file_slots; i++) {
			uint32_t o = (uint32_t)old[i] - 1, len;

			if (!old[i])
				continue;
			memcpy(&len, m->arena + o - 4, 4);
			slot_put(sl, cap, pmc_str_hash(m->arena + o, len), (uint32_t)old[i]);
		}
		mem_free(old);
		m->file_slots = sl;
		m->n_file_slots = cap;
	}
	mask = m->n_file_slots - 1;
	for (j = h & mask; m->file_slots[j]; j = (j + 1) & mask) {
		uint32_t o = (uint32_t)m->file_slots[j] - 1, len;

		memcpy(&len, m->arena + o - 4, 4);
		if ((uint32_t)(m->file_slots[j] >> 32) == tag_of(h) && len == n &&
		    bytes_eq(m->arena + o, p, n))
			return o;
	}
	/* [length, 4 bytes][bytes] */
	memcpy(m->arena + m->arena_len, &n, 4);
	off = (uint32_t)m->arena_len + 4;
	if (n)
		memcpy(m->arena + off, p, n);
	m->arena_len = (size_t)off + n;
	m->file_slots[j] = (uint64_t)tag_of(h) << 32 | ((uint64_t)off + 1);
	m->n_files++;
	return off;
}

static void pmc_freserve(struct pprof_merger *m, size_t bytes)
{
	size_t cap = m->n_fslots ? m->n_fslots : 1024;

	if (m->n_fent == m->cap_fent) {
		grow_aligned(&m->fent_block, (void **)&m->fent, &m->cap_fent, m->n_fent,
			     sizeof(*m->fent));
		m->fent_id = mem_realloc(MEM_FORMAT, m->fent_id, m->cap_fent * sizeof(*m->fent_id));
	}
	mem_grow(MEM_FORMAT, (void **)&m->arena, &m->arena_cap, m->arena_len + bytes + 1, 1);
	while ((m->n_fent + 1) * 2 > cap)
		cap *= 2;
	if (cap == m->n_fslots)
		return;
	mem_free(m->fslots);
	m->fslots = mem_calloc(MEM_FORMAT, cap, sizeof(*m->fslots));
	m->n_fslots = cap;
	for (size_t e = 0; e < m->n_fent; e++)
		slot_put(m->fslots, cap, fent_hash(m, &m->fent[e]), (uint32_t)e + 1);
}

static uint32_t pmc_ffind(const struct pprof_merger *m, const struct pmc_fkey *k, uint64_t h)
{
	size_t mask = m->n_fslots - 1, j = h & mask;

	for (;;) {
		uint64_t v = m->fslots[j];

		if (!v)
			return 0;
		if ((uint32_t)(v >> 32) == tag_of(h)) {
			if (fkey_eq(m, &m->fent[(uint32_t)v - 1], k, NULL))
				return m->fent_id[(uint32_t)v - 1];
		}
		j = (j + 1) & mask;
	}
}

void pmc_flookup(const struct pprof_merger *m, const struct pmc_fkey *keys, const uint64_t *hash,
		 size_t n, uint32_t *ids)
{
	size_t mask = m->n_fslots - 1;

	if (!m->n_fslots) {
		for (size_t j = 0; j < n; j++)
			ids[j] = 0;
		return;
	}
	/* slot of j, entry of j - A, arena bytes of j - 2A, compare j - 3A */
	for (size_t j = 0; j < n + 3 * PMC_AHEAD; j++) {
		if (j < n)
			__builtin_prefetch(&m->fslots[hash[j] & mask]);
		if (j >= PMC_AHEAD && j - PMC_AHEAD < n) {
			uint64_t v = m->fslots[hash[j - PMC_AHEAD] & mask];

			if (v)
				__builtin_prefetch(&m->fent[(uint32_t)v - 1]);
		}
		if (j >= 2 * PMC_AHEAD && j - 2 * PMC_AHEAD < n) {
			uint64_t v = m->fslots[hash[j - 2 * PMC_AHEAD] & mask];

			if (v) {
				const struct pmc_fent *e = &m->fent[(uint32_t)v - 1];

				__builtin_prefetch(m->arena + e->off);
				__builtin_prefetch(m->arena + e->file_off);
			}
		}
		if (j >= 3 * PMC_AHEAD) {
			size_t k = j - 3 * PMC_AHEAD;

			ids[k] = pmc_ffind(m, &keys[k], hash[k]);
		}
	}
}

void pmc_finsert(struct pprof_merger *m, const struct pmc_fkey *k, uint64_t h, uint32_t id)
{
	size_t bytes = (size_t)k->len[0] + k->len[1] + 4 + k->len[2];
	struct pmc_fent *e;

	if (m->arena_len + bytes >= UINT32_MAX)
		return; /* offsets are 32-bit: past 4 GiB of names, stop caching */
	pmc_freserve(m, bytes);
	e = &m->fent[m->n_fent];
	e->start_line = k->start_line;
	m->fent_id[m->n_fent] = id;
	e->sys_is_name = k->len[1] == k->len[0] && (!k->len[0] || k->s[1] == k->s[0] ||
						    memcmp(k->s[1], k->s[0], k->len[0]) == 0);
	for (int i = 0; i < 3; i++)
		e->len[i] = k->len[i];
	e->file_off = file_intern(m, k->s[2], k->len[2], pmc_str_hash(k->s[2], k->len[2]));
	/* in fent_str's order: name, then system_name unless it is the name's bytes */
	e->off = (uint32_t)m->arena_len;
	for (int i = 0; i < 2; i++) {
		if (i == 1 && e->sys_is_name)
			continue;
		if (k->len[i])
			memcpy(m->arena + m->arena_len, k->s[i], k->len[i]);
		m->arena_len += k->len[i];
	}
	slot_put(m->fslots, m->n_fslots, h, (uint32_t)m->n_fent + 1);
	m->n_fent++;
	if (id >= m->cap_fent_of) {
		size_t old = m->cap_fent_of;

		mem_grow(MEM_FORMAT, (void **)&m->fent_of, &m->cap_fent_of, (size_t)id + 1,
			 sizeof(*m->fent_of));
		memset(m->fent_of + old, 0, (m->cap_fent_of - old) * sizeof(*m->fent_of));
	}
	if (!m->fent_of[id])
		m->fent_of[id] = (uint32_t)m->n_fent;
}

void pmc_fscratch(struct pprof_merger *m, size_t n, size_t n_str)
{
	size_t cap = m->cap_fscratch;

	if (n > cap) {
		cap = EMBER_MAX(n, 2 * cap);
		m->fkeys = mem_realloc(MEM_FORMAT, m->fkeys, cap * sizeof(*m->fkeys));
		m->fhash = mem_realloc(MEM_FORMAT, m->fhash, cap * sizeof(*m->fhash));
		m->fids = mem_realloc(MEM_FORMAT, m->fids, cap * sizeof(*m->fids));
		m->fidx = mem_realloc(MEM_FORMAT, m->fidx, cap * sizeof(*m->fidx));
		m->cap_fscratch = cap;
	}
	if (n_str > m->cap_str_hash) {
		mem_free(m->str_hash);
		m->cap_str_hash = EMBER_MAX(n_str, 2 * m->cap_str_hash);
		m->str_hash = mem_alloc(MEM_FORMAT, m->cap_str_hash * sizeof(*m->str_hash));
	}
	if (n_str)
		memset(m->str_hash, 0, n_str * sizeof(*m->str_hash));
}

/* ---- locations of one input, by address ---- */

/* Is file function fi (an index into c->fn) target function f? Decided once per input: a yes is
 * noted in c->fn_dst. Only functions the function cache holds can be told apart cheaply; for
 * others the answer is no, and the location takes the slow path (which finds it exactly). */
static bool file_fn_is(const struct pprof_merger *m, struct pdec *c, uint32_t fi, uint32_t f)
{
	const struct prof_function *fn = &c->fn[fi];
	struct pmc_fkey k;
	uint32_t d = c->fn_dst[fi];

	if (d)
		return d == f;
	if (f >= m->cap_fent_of || !m->fent_of[f])
		return false;
	pdec_src_str(c, fn->name, &k.s[0], &k.len[0]);
	pdec_src_str(c, fn->system_name, &k.s[1], &k.len[1]);
	pdec_src_str(c, fn->filename, &k.s[2], &k.len[2]);
	k.start_line = fn->start_line;
	if (!fkey_eq(m, &m->fent[m->fent_of[f] - 1], &k, &c->str_file[fn->filename]))
		return false;
	c->fn_dst[fi] = f;
	return true;
}

/* Does cached entry e hold file location l (whose mapping's target id is mapping)? */
static bool file_loc_eq(const struct pprof_merger *m, struct pdec *c, const struct pmc_ent *e,
			const struct ploc *l, uint32_t mapping)
{
	const struct prof_line *ln = &c->lines[l->line0];

	if (e->address != l->address || !ent_is(e, mapping, l->n_lines, l->is_folded))
		return false;
	for (uint32_t j = 0; j < l->n_lines; j++) {
		int64_t line, column;

		ent_line(m, e, j, &line, &column);
		if (line != ln[j].line || column != ln[j].column)
			return false;
		if (!ln[j].function ? e->function[j] != 0
				    : !file_fn_is(m, c, ln[j].function - 1, e->function[j]))
			return false;
	}
	return true;
}

/* What a lookup compares the entries with: a key in target ids, or location l of the input c
 * (mapping: its mapping's target id). */
struct pmc_probe {
	const struct pmc_key *key;
	struct pdec *c;
	const struct ploc *l;
	uint32_t mapping;
};

/* The id cached for q (hash h), or 0. */
static uint32_t pmc_find(const struct pprof_merger *m, const struct pmc_probe *q, uint64_t h)
{
	size_t mask = m->n_slots - 1, j = h & mask;

	for (;;) {
		uint64_t v = m->slots[j];

		if (!v)
			return 0;
		if ((uint32_t)(v >> 32) == tag_of(h)) {
			const struct pmc_ent *e = &m->ent[(uint32_t)v - 1];

			if (q->key ? key_eq(m, e, q->key)
				   : file_loc_eq(m, q->c, e, q->l, q->mapping))
				return e->id;
		}
		j = (j + 1) & mask;
	}
}

/* pmc_lookup (keys) or pmc_lookup_file (c and idx): a software pipeline that prefetches the slot
 * of key j + 2A, then the entry that slot names for key j + A, then finds key j. */
static void lookup(const struct pprof_merger *m, const struct pmc_key *keys, struct pdec *c,
		   const uint32_t *idx, const uint64_t *hash, size_t n, uint32_t *ids)
{
	size_t mask = m->n_slots - 1;

	if (!m->n_slots) {
		for (size_t j = 0; j < n; j++)
			ids[j] = 0;
		return;
	}
	for (size_t j = 0; j < n + 2 * PMC_AHEAD; j++) {
		if (j < n)
			__builtin_prefetch(&m->slots[hash[j] & mask]);
		if (j >= PMC_AHEAD && j - PMC_AHEAD < n) {
			uint64_t v = m->slots[hash[j - PMC_AHEAD] & mask];

			if (v)
				__builtin_prefetch(&m->ent[(uint32_t)v - 1]);
		}
		if (j >= 2 * PMC_AHEAD) {
			size_t k = j - 2 * PMC_AHEAD;
			struct pmc_probe q = {keys ? &keys[k] : NULL, c, NULL, 0};

			if (!keys) {
				q.l = &c->loc[idx[k]];
				q.mapping = q.l->mapping ? c->map_dst[q.l->mapping - 1] : 0;
			}
			ids[k] = pmc_find(m, &q, hash[k]);
		}
	}
}

void pmc_lookup(const struct pprof_merger *m, const struct pmc_key *keys, const uint64_t *hash,
		size_t n, uint32_t *ids)
{
	lookup(m, keys, NULL, NULL, hash, n, ids);
}

void pmc_lookup_file(const struct pprof_merger *m, struct pdec *c, const uint32_t *idx,
		     const uint64_t *hash, size_t n, uint32_t *ids)
{
	lookup(m, NULL, c, idx, hash, n, ids);
}

/*
 * profile.c — the profile model core: interned tables, the stack tree and samples.
 *
 * Deduplication: mappings, functions, locations and label sets are keyed by a canonical byte
 * encoding of their content, interned in a per-table strtab whose ids double as the record ids
 * (strtab id 0 is the empty key, so the first record gets id 1). Stack nodes are found by a hash
 * map on (parent, location); samples by (node, label set). Everything is owned by the profile and
 * freed by prof_free. Never logs; aborts only on out-of-memory (via mem_*).
 */
#include "profile/profile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/strtab.h"

struct loc_rec {
	uint64_t address;
	uint32_t mapping;
	uint32_t line_off;
	uint32_t n_lines;
	bool is_folded;
};

/* Open-addressing index of record ids keyed by a content hash; the records themselves live in
 * the profile's arrays and are compared field by field. Slots hold hash32 << 32 | id (0 = free). */
struct rec_index {
	uint64_t *slots;
	size_t n_slots; /* 0 or a power of two; load <= 0.5 */
	size_t want;	/* records prof_reserve_symbols expects, sized for at the next rec_find */
};

struct prof {
	struct strtab *strings;
	struct prof_meta meta;

	struct prof_value_type *types;
	size_t n_types, cap_types;
	uint32_t *comments;
	size_t n_comments, cap_comments;

	struct rec_index mapping_index;
	struct prof_mapping *mappings; /* index id-1 */
	size_t n_mappings, cap_mappings;

	struct rec_index function_index;
	struct prof_function *functions; /* index id-1 */
	size_t n_functions, cap_functions;

	struct rec_index location_index;
	struct loc_rec *locations; /* index id-1 */
	size_t n_locations, cap_locations;
	struct prof_line *lines;
	size_t n_lines, cap_lines;

	struct strtab *labelset_keys;
	uint32_t *labelset_off; /* index id; [0] = 0 */
	uint32_t *labelset_len;
	size_t cap_labelsets;
	struct prof_label *labels;
	size_t n_labels, cap_labels;

	struct prof_node *nodes;
	size_t n_nodes, cap_nodes;
	struct hmap node_index;	 /* parent<<32 | loc -> node */
	size_t node_index_want;	 /* prof_reserve's size for it, applied at its first use */
	struct hmap stack_cache; /* hash of a whole stack -> pool offset << 32 | its node */
	uint32_t *stack_pool;	 /* cached stacks: n, then n locations leaf first */
	size_t n_pool, cap_pool;
	uint64_t *batch_hash; /* prof_add_samples' scratch: each stack's hash */
	size_t cap_batch;
	uint32_t *batch_node; /* and its node when the stack cache holds it */
	size_t cap_batch_node;

	uint32_t *sample_node;
	uint32_t *sample_labelset;
	size_t n_samples, cap_samples;
	int64_t *values; /* n_samples * n_types */
	size_t cap_values;
	struct hmap sample_index; /* node<<32 | labelset -> sample */
};

/* mem_grow with the common case (room enough) inline. */
static inline void fit(void **arr, size_t *cap, size_t need, size_t elem)
{
	if (need > *cap)
		mem_grow(MEM_PROFILE, arr, cap, need, elem);
}

struct prof *prof_new(void)
{
	struct prof *p = mem_calloc(MEM_PROFILE, 1, sizeof(*p));

	p->strings = strtab_new(MEM_PROFILE);
	p->labelset_keys = strtab_new(MEM_PROFILE);
	hmap_init(&p->node_index, MEM_PROFILE);
	hmap_init(&p->stack_cache, MEM_PROFILE);
	hmap_init(&p->sample_index, MEM_PROFILE);
	/* label set 0 (empty) and node 0 (root) */
	fit((void **)&p->labelset_off, &p->cap_labelsets, 1, sizeof(uint32_t));
	p->labelset_len = mem_calloc(MEM_PROFILE, p->cap_labelsets, sizeof(uint32_t));
	p->labelset_off[0] = 0;
	fit((void **)&p->nodes, &p->cap_nodes, 1, sizeof(struct prof_node));
	p->nodes[0].parent = 0;
	p->nodes[0].location = 0;
	p->n_nodes = 1;
	return p;
}

void prof_free(struct prof *p)
{
	if (!p)
		return;
	strtab_free(p->strings);
	mem_free(p->mapping_index.slots);
	mem_free(p->function_index.slots);
	mem_free(p->location_index.slots);
	strtab_free(p->labelset_keys);
	hmap_fini(&p->node_index);
	hmap_fini(&p->stack_cache);
	mem_free(p->stack_pool);
	mem_free(p->batch_hash);
	mem_free(p->batch_node);
	hmap_fini(&p->sample_index);
	mem_free(p->types);
	mem_free(p->comments);
	mem_free(p->mappings);
	mem_free(p->functions);
	mem_free(p->locations);
	mem_free(p->lines);
	mem_free(p->labelset_off);
	mem_free(p->labelset_len);
	mem_free(p->labels);
	mem_free(p->nodes);
	mem_free(p->sample_node);
	mem_free(p->sample_labelset);
	mem_free(p->values);
	mem_free(p);
}

struct prof_meta *prof_meta(struct prof *p)
{
	return &p->meta;
}

const struct prof_meta *prof_meta_get(const struct prof *p)
{
	return &p->meta;
}

/* Strings. */

uint32_t prof_intern(struct prof *p, const void *s, size_t len)
{
	return strtab_intern(p->strings, s, len);
}

uint32_t prof_intern_from(struct prof *p, const struct prof *src, uint32_t id)
{
	return strtab_intern_from(p->strings, src->strings, id);
}

uint32_t prof_intern_cstr(struct prof *p, const char *s)
{
	return strtab_intern(p->strings, s, strlen(s));
}

const char *prof_string(const struct prof *p, uint32_t id)
{
	return strtab_get(p->strings, id, NULL);
}

size_t prof_string_len(const struct prof *p, uint32_t id)
{
	size_t len;

	strtab_get(p->strings, id, &len);
	return len;
}

uint32_t prof_n_strings(const struct prof *p)
{
	return strtab_count(p->strings);
}

bool prof_find_string(const struct prof *p, const char *s, uint32_t *id)
{
	return strtab_find(p->strings, s, strlen(s), id);
}

/* Sample types and comments. */

size_t prof_add_sample_type(struct prof *p, uint32_t type, uint32_t unit)
{
	if (p->n_samples) {
		fprintf(stderr, "prof_add_sample_type after samples\n");
		abort();
	}
	fit((void **)&p->types, &p->cap_types, p->n_types + 1, sizeof(*p->types));
	p->types[p->n_types].type = type;
	p->types[p->n_types].unit = unit;
	return p->n_types++;
}

void prof_set_sample_type(struct prof *p, size_t i, uint32_t type, uint32_t unit)
{
	if (i >= p->n_types) {
		fprintf(stderr, "prof_set_sample_type: index %zu out of range\n", i);
		abort();
	}
	p->types[i].type = type;
	p->types[i].unit = unit;
}

size_t prof_n_sample_types(const struct prof *p)
{
	return p->n_types;
}

const struct prof_value_type *prof_sample_types(const struct prof *p)
{
	return p->types;
}

int prof_find_sample_type(const struct prof *p, const char *type, const char *unit)
{
	for (size_t i = 0; i < p->n_types; i++) {
		if (strcmp(prof_string(p, p->types[i].type), type) != 0)
			continue;
		if (unit && strcmp(prof_string(p, p->types[i].unit), unit) != 0)
			continue;
		return (int)i;
	}
	return -1;
}

size_t prof_default_sample_type(const struct prof *p)
{
	if (p->meta.default_sample_type) {
		for (size_t i = 0; i < p->n_types; i++)
			if (p->types[i].type == p->meta.default_sample_type)
				return i;
	}
	return p->n_types ? p->n_types - 1 : 0;
}

void prof_add_comment(struct prof *p, uint32_t str)
{
	fit((void **)&p->comments, &p->cap_comments, p->n_comments + 1, sizeof(*p->comments));
	p->comments[p->n_comments++] = str;
}

const uint32_t *prof_comments(const struct prof *p, size_t *n)
{
	*n = p->n_comments;
	return p->comments;
}

/* Tables. Keys are built field by field into a byte array, so struct padding never leaks in. */

struct keybuf {
	uint8_t small[256];
	uint8_t *p;
	size_t len, cap;
};

static void key_init(struct keybuf *k)
{
	k->p = k->small;
	k->len = 0;
	k->cap = sizeof(k->small);
}

static void key_put(struct keybuf *k, const void *v, size_t n)
{
	if (k->len + n > k->cap) {
		size_t cap = (k->len + n) * 2;
		uint8_t *np = mem_alloc(MEM_PROFILE, cap);

		memcpy(np, k->p, k->len);
		if (k->p != k->small)
			mem_free(k->p);
		k->p = np;
		k->cap = cap;
	}
	memcpy(k->p + k->len, v, n);
	k->len += n;
}

static void key_fini(struct keybuf *k)
{
	if (k->p != k->small)
		mem_free(k->p);
}

static inline uint64_t hcomb(uint64_t h, uint64_t v)
{
	return hash_mix(h, v);
}

/* Finds the record with hash h for which eq(p, id, key) holds; returns its id, or 0 and sets
 * *slot_out to the free slot where it belongs. The index is grown first when needed. */
typedef bool (*rec_eq_fn)(const struct prof *p, uint32_t id, const void *key);

static void rec_index_grow(struct rec_index *ix, size_t n)
{
	size_t cap = ix->n_slots ? ix->n_slots * 2 : 256;
	uint64_t *old = ix->slots;
	size_t old_n = ix->n_slots;

	while (cap / 2 < n + 1)
		cap *= 2;
	ix->slots = mem_calloc(MEM_PROFILE, cap, sizeof(uint64_t));
	ix->n_slots = cap;
	for (size_t i = 0; i < old_n; i++) {
		if (!old[i])
			continue;
		size_t j = (old[i] >> 32) & (cap - 1);

		while (ix->slots[j])
			j = (j + 1) & (cap - 1);
		ix->slots[j] = old[i];
	}
	mem_free(old);
}

/* Room for n_recs + 1 records, and for the records prof_reserve_symbols announced: it only notes
 * them, so that the table (a random place per record, 128 KB for 4,000 locations) is written
 * when its records are about to be added, not before a decoder interns every string, which
 * would push it out of the cache again. */
static void rec_index_fit(struct rec_index *ix, size_t n_recs)
{
	size_t n = EMBER_MAX(n_recs, ix->want);

	ix->want = 0;
	if ((n + 1) * 2 > ix->n_slots)
		rec_index_grow(ix, n);
}

/* A record's tag in its index (the folded hash of h). */
static inline uint32_t rec_tag(uint64_t h)
{
	h = hash_u64(h);
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The record of tag whose eq holds in ix (which has slots), or 0 with *slot_out the free slot
 * the probe ended at. Reads only. Inline so that each caller's eq is inlined too. */
static inline __attribute__((always_inline)) uint32_t rec_probe(const struct prof *p,
								const struct rec_index *ix,
								uint32_t tag, rec_eq_fn eq,
								const void *key, size_t *slot_out)
{
	for (size_t j = tag & (ix->n_slots - 1);; j = (j + 1) & (ix->n_slots - 1)) {
		uint64_t v = ix->slots[j];

		if (!v) {
			*slot_out = j;
			return 0;
		}
		if ((uint32_t)(v >> 32) == tag && eq(p, (uint32_t)v, key))
			return (uint32_t)v;
	}
}

/* rec_probe with room made for one more record first; *tag_out is the record's tag (for
 * rec_insert, so that a new record does not hash again). */
static inline __attribute__((always_inline)) uint32_t rec_find(const struct prof *p,
							       struct rec_index *ix, size_t n_recs,
							       uint64_t h, rec_eq_fn eq,
							       const void *key, size_t *slot_out,
							       uint32_t *tag_out)
{
	if ((n_recs + 1) * 2 > ix->n_slots || ix->want)
		rec_index_fit(ix, n_recs);
	*tag_out = rec_tag(h);
	return rec_probe(p, ix, *tag_out, eq, key, slot_out);
}

static inline void rec_insert(struct rec_index *ix, size_t slot, uint32_t tag, uint32_t id)
{
	ix->slots[slot] = (uint64_t)tag << 32 | id;
}

static bool mapping_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct prof_mapping *a = &p->mappings[id - 1], *b = key;

	return a->memory_start == b->memory_start && a->memory_limit == b->memory_limit &&
	       a->file_offset == b->file_offset && a->filename == b->filename &&
	       a->build_id == b->build_id && a->has_functions == b->has_functions &&
	       a->has_filenames == b->has_filenames && a->has_line_numbers == b->has_line_numbers &&
	       a->has_inline_frames == b->has_inline_frames;
}

static uint64_t mapping_hash(const struct prof_mapping *m)
{
	uint64_t h = hcomb(hcomb(hcomb(hcomb(1, m->memory_start), m->memory_limit), m->file_offset),
			   (uint64_t)m->filename << 32 | m->build_id);

	return hcomb(h, (uint64_t)(m->has_functions | m->has_filenames << 1 |
				   m->has_line_numbers << 2 | m->has_inline_frames << 3));
}

uint32_t prof_add_mapping(struct prof *p, const struct prof_mapping *m)
{
	uint64_t h = mapping_hash(m);
	size_t slot = 0;
	uint32_t id, tag = 0;

	id = rec_find(p, &p->mapping_index, p->n_mappings, h, mapping_eq, m, &slot, &tag);
	if (id)
		return id;
	fit((void **)&p->mappings, &p->cap_mappings, p->n_mappings + 1, sizeof(*p->mappings));
	p->mappings[p->n_mappings] = *m;
	id = (uint32_t)++p->n_mappings;
	rec_insert(&p->mapping_index, slot, tag, id);
	return id;
}

static bool function_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct prof_function *a = &p->functions[id - 1], *b = key;

	return a->name == b->name && a->system_name == b->system_name &&
	       a->filename == b->filename && a->start_line == b->start_line;
}

uint32_t prof_add_function(struct prof *p, const struct prof_function *f)
{
	uint64_t h = hcomb((uint64_t)f->name << 32 | f->system_name,
			   ((uint64_t)f->filename << 32) + (uint64_t)f->start_line);
	size_t slot = 0;
	uint32_t tag = 0, id = rec_find(p, &p->function_index, p->n_functions, h, function_eq, f,
					&slot, &tag);

	if (id)
		return id;
	fit((void **)&p->functions, &p->cap_functions, p->n_functions + 1, sizeof(*p->functions));
	p->functions[p->n_functions] = *f;
	id = (uint32_t)++p->n_functions;
	rec_insert(&p->function_index, slot, tag, id);
	return id;
}

struct loc_key {
	uint32_t mapping;
	uint64_t address;
	const struct prof_line *lines;
	uint32_t n_lines;
	bool is_folded;
};

static bool location_eq(const struct prof *p, uint32_t id, const void *key)
{
	const struct loc_rec *a = &p->locations[id - 1];
	const struct loc_key *b = key;
	const struct prof_line *la = a->n_lines ? p->lines + a->line_off : NULL;

	if (a->address != b->address || a->mapping != b->mapping || a->n_lines != b->n_lines ||
	    a->is_folded != b->is_folded)
		return false;
	for (uint32_t i = 0; i < b->n_lines; i++)
		if (la[i].function != b->lines[i].function || la[i].line != b->lines[i].line ||
		    la[i].column != b->lines[i].column)
			return false;
	return true;
}

uint32_t prof_add_location(struct prof *p, uint32_t mapping, uint64_t address,
			   const struct prof_line *lines, uint32_t n_lines, bool is_folded)
{
	struct loc_key k = {mapping, address, lines, n_lines, is_folded};
	uint64_t h = hcomb(address, (uint64_t)mapping << 1 | is_folded);
	size_t slot = 0;
	uint32_t id, tag = 0;

	for (uint32_t i = 0; i < n_lines; i++)
		h = hcomb(h ^ lines[i].column,
			  ((uint64_t)lines[i].function << 32) + (uint64_t)lines[i].line);
	id = rec_find(p, &p->location_index, p->n_locations, h, location_eq, &k, &slot, &tag);
	if (id)
		return id;
	fit((void **)&p->locations, &p->cap_locations, p->n_locations + 1, sizeof(*p->locations));
	fit((void **)&p->lines, &p->cap_lines, p->n_lines + n_lines, sizeof(*p->lines));
	for (uint32_t i = 0; i < n_lines; i++) /* one or two: no memcpy call */
		p->lines[p->n_lines + i] = lines[i];
	struct loc_rec *l = &p->locations[p->n_locations];

	l->address = address;
	l->mapping = mapping;
	l->line_off = (uint32_t)p->n_lines;
	l->n_lines = n_lines;
	l->is_folded = is_folded;
	p->n_lines += n_lines;
	id = (uint32_t)++p->n_locations;
	rec_insert(&p->location_index, slot, tag, id);
	return id;
}

uint32_t prof_n_mappings(const struct prof *p)
{
	return (uint32_t)p->n_mappings;
}

uint32_t prof_n_functions(const struct prof *p)
{
	return (uint32_t)p->n_functions;
}

uint32_t prof_n_locations(const struct prof *p)
{
	return (uint32_t)p->n_locations;
}

const struct prof_mapping *prof_mapping_get(const struct prof *p, uint32_t id)
{
	return id && id <= prof_n_mappings(p) ? &p->mappings[id - 1] : NULL;
}

const struct prof_function *prof_function_get(const struct prof *p, uint32_t id)
{
	return id && id <= prof_n_functions(p) ? &p->functions[id - 1] : NULL;
}

void prof_location_get(const struct prof *p, uint32_t id, struct prof_location *out)
{
	memset(out, 0, sizeof(*out));
	if (!id || id > prof_n_locations(p))
		return;
	const struct loc_rec *l = &p->locations[id - 1];

	out->mapping = l->mapping;
	out->address = l->address;
	out->is_folded = l->is_folded;
	out->n_lines = l->n_lines;
	out->lines = l->n_lines ? p->lines + l->line_off : NULL;
}

/* Label sets. */

static int label_cmp(const void *a, const void *b)
{
	const struct prof_label *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->str != y->str)
		return x->str < y->str ? -1 : 1;
	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	if (x->num_unit != y->num_unit)
		return x->num_unit < y->num_unit ? -1 : 1;
	return 0;
}

uint32_t prof_add_labelset(struct prof *p, const struct prof_label *labels, size_t n)
{
	struct prof_label small[16], *sorted = small;
	struct keybuf k;
	uint32_t id, n_before;

	if (n == 0)
		return 0;
	if (n > 16)
		sorted = mem_alloc(MEM_PROFILE, n * sizeof(*sorted));
	memcpy(sorted, labels, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), label_cmp);
	key_init(&k);
	for (size_t i = 0; i < n; i++) {
		key_put(&k, &sorted[i].key, 4);
		key_put(&k, &sorted[i].str, 4);
		key_put(&k, &sorted[i].num, 8);
		key_put(&k, &sorted[i].num_unit, 4);
	}
	n_before = strtab_count(p->labelset_keys);
	id = strtab_intern(p->labelset_keys, k.p, k.len);
	key_fini(&k);
	if (strtab_count(p->labelset_keys) != n_before) {
		size_t cap = p->cap_labelsets;

		fit((void **)&p->labelset_off, &p->cap_labelsets, (size_t)id + 1, sizeof(uint32_t));
		if (cap != p->cap_labelsets)
			p->labelset_len = mem_realloc(MEM_PROFILE, p->labelset_len,
						      p->cap_labelsets * sizeof(uint32_t));
		fit((void **)&p->labels, &p->cap_labels, p->n_labels + n, sizeof(*p->labels));
		memcpy(p->labels + p->n_labels, sorted, n * sizeof(*sorted));
		p->labelset_off[id] = (uint32_t)p->n_labels;
		p->labelset_len[id] = (uint32_t)n;
		p->n_labels += n;
	}
	if (sorted != small)
		mem_free(sorted);
	return id;
}

const struct prof_label *prof_labelset_get(const struct prof *p, uint32_t id, size_t *n)
{
	if (id == 0 || id >= strtab_count(p->labelset_keys)) {
		*n = 0;
		return NULL;
	}
	*n = p->labelset_len[id];
	return p->labels + p->labelset_off[id];
}

uint32_t prof_n_labelsets(const struct prof *p)
{
	return strtab_count(p->labelset_keys);
}

/* Stack tree. */

/* The node index sized as prof_reserve asked, when it did: not before the first node is looked
 * up or added, because sizing it writes the whole table (half a MB for a 200 KB pprof), which
 * would push out of the cache what a decoder builds the other tables from. */
static inline void node_index_ready(struct prof *p)
{
	if (p->node_index_want) {
		hmap_reserve(&p->node_index, p->node_index_want);
		p->node_index_want = 0;
	}
}

uint32_t prof_node_child(struct prof *p, uint32_t parent, uint32_t location)
{
	bool found;
	uint64_t *slot;

	node_index_ready(p);
	slot = hmap_upsert(&p->node_index, (uint64_t)parent << 32 | location, p->n_nodes, &found);

	if (found)
		return (uint32_t)*slot;
	if (p->n_nodes >= UINT32_MAX - 1) {
		fprintf(stderr, "prof: too many stack nodes\n");
		abort();
	}
	fit((void **)&p->nodes, &p->cap_nodes, p->n_nodes + 1, sizeof(*p->nodes));
	p->nodes[p->n_nodes].parent = parent;
	p->nodes[p->n_nodes].location = location;
	return (uint32_t)p->n_nodes++;
}

/* Node index slots prefetched ahead by prof_node_chain, in nodes. */
#define CHAIN_AHEAD 16

/* The node index key of (parent, location). */
static inline uint64_t node_key(uint64_t parent, uint32_t location)
{
	return parent << 32 | location;
}

/* A new stack suffix: none of its nodes can exist (their parents are new), so each only needs
 * inserting into the first free slot of its probe (no key compares), and as node ids are
 * consecutive every key is known in advance: the home slots of the first CHAIN_AHEAD nodes (a
 * random place each in a table of several hundred KB) are computed and prefetched before the
 * first is written, and each later one CHAIN_AHEAD nodes ahead (kept in a ring, so each key is
 * hashed once), instead of each insertion waiting on its own miss. */
void prof_node_chain(struct prof *p, uint32_t parent, const uint32_t *locations_root_first,
		     size_t n, uint32_t *nodes)
{
	const uint64_t first = p->n_nodes;
	struct hmap *ix = &p->node_index;
	size_t home[CHAIN_AHEAD], mask;

	if (n >= UINT32_MAX - 1 - p->n_nodes) {
		fprintf(stderr, "prof: too many stack nodes\n");
		abort();
	}
	node_index_ready(p);
	hmap_reserve(ix, ix->len + n);
	fit((void **)&p->nodes, &p->cap_nodes, p->n_nodes + n, sizeof(*p->nodes));
	mask = ix->cap - 1;
	for (size_t i = 0; i < n && i < CHAIN_AHEAD; i++) {
		uint64_t up = i ? first + i - 1 : parent;

		home[i] = hash_u64(node_key(up, locations_root_first[i])) & mask;
		__builtin_prefetch(&ix->slots[home[i]], 1);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t up = i ? first + i - 1 : parent;
		size_t j = home[i % CHAIN_AHEAD];

		if (i + CHAIN_AHEAD < n) {
			size_t *h = &home[i % CHAIN_AHEAD];

			*h = hash_u64(node_key(first + i + CHAIN_AHEAD - 1,
					       locations_root_first[i + CHAIN_AHEAD])) &
			     mask;
			__builtin_prefetch(&ix->slots[*h], 1);
		}
		hmap_put_new_at(ix, j, node_key(up, locations_root_first[i]), first + i);
		p->nodes[first + i].parent = (uint32_t)up;
		p->nodes[first + i].location = locations_root_first[i];
		nodes[i] = (uint32_t)(first + i);
	}
	p->n_nodes += n;
}

bool prof_node_find(const struct prof *p, uint32_t parent, uint32_t location, uint32_t *node)
{
	uint64_t v;

	if (!hmap_get(&p->node_index, (uint64_t)parent << 32 | location, &v))
		return false;
	*node = (uint32_t)v;
	return true;
}

/* The whole-stack cache's key for a stack (never HMAP_EMPTY): two multiply chains over the
 * locations taken two at a time, so its latency is a quarter of one chain over the locations. */
static uint64_t stack_hash(const uint32_t *loc, size_t n)
{
	const uint64_t k = 0x100000001b3ULL;
	uint64_t a = 0x51ed2701f3a5c4b9ULL ^ n, b = 0x9e3779b97f4a7c15ULL, h;
	size_t i = 0;

	for (; i + 4 <= n; i += 4) {
		a = (a ^ ((uint64_t)loc[i] << 32 | loc[i + 1])) * k;
		b = (b ^ ((uint64_t)loc[i + 2] << 32 | loc[i + 3])) * k;
	}
	for (; i < n; i++)
		a = (a ^ loc[i]) * k;
	h = hash_u64(a ^ (b << 29 | b >> 35));
	return h == HMAP_EMPTY ? 0 : h;
}

/* The whole-stack cache keys of n stacks laid one after the other (n_locations[j] each), all at
 * once so that the independent hash chains overlap: 0 for fewer than two locations, which skip
 * the cache. */
static void stack_hashes(const uint32_t *loc, const uint32_t *n_locations, size_t n, uint64_t *hash)
{
	for (size_t j = 0; j < n; j++) {
		hash[j] = n_locations[j] >= 2 ? stack_hash(loc, n_locations[j]) : 0;
		loc += n_locations[j];
	}
}

/* Pipeline distance of the batched lookups (prof_add_samples, prof_find_stacks), in stacks
 * per stage. */
#define BATCH_AHEAD 4

/* prof_add_stack for n >= 2 with the stack's hash h = stack_hash(). */
/* The whole-stack cache's node for the n >= 2 locations loc (hash h), verified against its
 * pooled copy. Reads only. */
static bool stack_cached(const struct prof *p, const uint32_t *loc, size_t n, uint64_t h,
			 uint32_t *node)
{
	uint64_t cached;
	const uint32_t *st;

	if (!hmap_get(&p->stack_cache, h, &cached))
		return false;
	st = p->stack_pool + (cached >> 32);
	if (st[0] != n || memcmp(st + 1, loc, n * sizeof(uint32_t)) != 0)
		return false;
	*node = (uint32_t)cached;
	return true;
}

static uint32_t add_stack_hashed(struct prof *p, const uint32_t *locations_leaf_first, size_t n,
				 uint64_t h)
{
	uint32_t node = 0;

	if (stack_cached(p, locations_leaf_first, n, h, &node))
		return node;
	for (size_t i = n; i > 0; i--)
		node = prof_node_child(p, node, locations_leaf_first[i - 1]);
	if (n < UINT32_MAX && p->n_pool + n + 1 <= UINT32_MAX) {
		fit((void **)&p->stack_pool, &p->cap_pool, p->n_pool + n + 1, sizeof(uint32_t));
		p->stack_pool[p->n_pool] = (uint32_t)n;
		memcpy(p->stack_pool + p->n_pool + 1, locations_leaf_first, n * sizeof(uint32_t));
		hmap_put(&p->stack_cache, h, (uint64_t)p->n_pool << 32 | node);
		p->n_pool += n + 1;
	}
	return node;
}

/* Whole-stack cache: one hash of the location sequence finds the leaf node directly, verified
 * against a copy of the sequence kept in stack_pool (one sequential compare instead of a walk
 * through scattered nodes); a miss or a hash collision walks the tree from the root and caches
 * the stack (a collision replaces the entry). */
uint32_t prof_add_stack(struct prof *p, const uint32_t *locations_leaf_first, size_t n)
{
	if (n < 2)
		return n ? prof_node_child(p, 0, locations_leaf_first[0]) : 0;
	return add_stack_hashed(p, locations_leaf_first, n, stack_hash(locations_leaf_first, n));
}

/* Lookups that never change p (safe alongside other readers). */

bool prof_find_bytes(const struct prof *p, const void *s, size_t len, uint32_t *id)
{
	return strtab_find(p->strings, s, len, id);
}

bool prof_find_mapping(const struct prof *p, const struct prof_mapping *m, uint32_t *id)
{
	size_t slot;

	*id = p->mapping_index.n_slots ? rec_probe(p, &p->mapping_index, rec_tag(mapping_hash(m)),
						   mapping_eq, m, &slot)
				       : 0;
	return *id != 0;
}

/* One stack of prof_find_stacks (its node when p has every node of it), its hash h (0: fewer
 * than two locations) at hand. */
static bool find_stack_hashed(const struct prof *p, const uint32_t *loc, size_t n, uint64_t h,
			      uint32_t *node)
{
	uint32_t nd = 0;

	if (n >= 2 && stack_cached(p, loc, n, h, node))
		return true;
	for (size_t i = n; i > 0; i--)
		if (!prof_node_find(p, nd, loc[i - 1], &nd))
			return false;
	*node = nd;
	return true;
}

/* A software pipeline, as prof_add_samples: every hash first (independent chains overlap),
 * then the whole-stack cache slot of stack j + 2A is prefetched, the pool copy that slot names
 * for stack j + A, and stack j is compared. */
bool prof_find_stacks(const struct prof *p, size_t n, const uint32_t *locations_leaf_first,
		      const uint32_t *n_locations, uint64_t *hash, uint32_t *node)
{
	const size_t a = BATCH_AHEAD;
	const uint32_t *loc = locations_leaf_first;
	bool cache = p->stack_cache.cap != 0;

	stack_hashes(locations_leaf_first, n_locations, n, hash);
	for (size_t t = 0; t < n + 2 * a; t++) {
		if (cache && t < n && hash[t])
			__builtin_prefetch(hmap_home(&p->stack_cache, hash[t]));
		if (cache && t >= a && t - a < n && hash[t - a]) {
			const struct hmap_slot *sl = hmap_home(&p->stack_cache, hash[t - a]);

			if (sl->key == hash[t - a])
				__builtin_prefetch(p->stack_pool + (sl->val >> 32));
		}
		if (t >= 2 * a) {
			size_t j = t - 2 * a;

			if (!find_stack_hashed(p, loc, n_locations[j], hash[j], &node[j]))
				return false;
			loc += n_locations[j];
		}
	}
	return true;
}

uint32_t prof_n_nodes(const struct prof *p)
{
	return (uint32_t)p->n_nodes;
}

const struct prof_node *prof_nodes(const struct prof *p)
{
	return p->nodes;
}

uint32_t prof_node_parent(const struct prof *p, uint32_t node)
{
	return node < p->n_nodes ? p->nodes[node].parent : 0;
}

uint32_t prof_node_location(const struct prof *p, uint32_t node)
{
	return node < p->n_nodes ? p->nodes[node].location : 0;
}

uint32_t prof_node_depth(const struct prof *p, uint32_t node)
{
	uint32_t d = 0;

	while (node && node < p->n_nodes) {
		node = p->nodes[node].parent;
		d++;
	}
	return d;
}

void prof_reserve(struct prof *p, size_t n_nodes, size_t n_samples)
{
	p->node_index_want = EMBER_MAX(p->node_index_want, p->n_nodes + n_nodes);
	fit((void **)&p->nodes, &p->cap_nodes, p->n_nodes + n_nodes, sizeof(*p->nodes));
	hmap_reserve(&p->sample_index, p->n_samples + n_samples);
}

void prof_reserve_symbols(struct prof *p, size_t n_functions, size_t n_locations, size_t n_lines)
{
	p->function_index.want = EMBER_MAX(p->function_index.want, p->n_functions + n_functions);
	p->location_index.want = EMBER_MAX(p->location_index.want, p->n_locations + n_locations);
	fit((void **)&p->functions, &p->cap_functions, p->n_functions + n_functions,
	    sizeof(*p->functions));
	fit((void **)&p->locations, &p->cap_locations, p->n_locations + n_locations,
	    sizeof(*p->locations));
	fit((void **)&p->lines, &p->cap_lines, p->n_lines + n_lines, sizeof(*p->lines));
}

/* Samples. */

void prof_add_sample(struct prof *p, uint32_t node, uint32_t labelset, const int64_t *values)
{
	bool found;
	uint64_t *slot = hmap_upsert(&p->sample_index, (uint64_t)node << 32 | labelset,
				     p->n_samples, &found);
	size_t i = (size_t)*slot, nt = p->n_types;

	if (!found) {
		size_t cap = p->cap_samples;

		fit((void **)&p->sample_node, &p->cap_samples, p->n_samples + 1, sizeof(uint32_t));
		if (cap != p->cap_samples)
			p->sample_labelset = mem_realloc(MEM_PROFILE, p->sample_labelset,
							 p->cap_samples * sizeof(uint32_t));
		fit((void **)&p->values, &p->cap_values, (p->n_samples + 1) * nt, sizeof(int64_t));
		p->sample_node[i] = node;
		p->sample_labelset[i] = labelset;
		if (nt)
			memcpy(p->values + i * nt, values, nt * sizeof(int64_t));
		p->n_samples++;
		return;
	}
	for (size_t j = 0; j < nt; j++) /* wraps on overflow, as pprof's int64 arithmetic does */
		p->values[i * nt + j] =
			(int64_t)((uint64_t)p->values[i * nt + j] + (uint64_t)values[j]);
}

#define NONE_NODE UINT32_MAX

/* Stage 1 of prof_add_samples for sample j: its stack's cache slot is in cache (prefetched a
 * stage ago); when that slot holds the stack, prefetch its copy in the pool and its sample's
 * index slot, and note its node for stage 2 (else NONE_NODE). */
static inline uint32_t batch_stage1(const struct prof *p, uint64_t h, size_t n, uint32_t labelset)
{
	const struct hmap_slot *s = hmap_home(&p->stack_cache, h);
	const char *st, *end;
	size_t pos, len;
	uint32_t node;

	if (s->key != h)
		return NONE_NODE;
	node = (uint32_t)s->val;
	/* The pooled copy is compared whole: every line of it (n + 1 entries, at most 8 lines,
	 * not past the pool). */
	pos = s->val >> 32;
	len = EMBER_MIN(EMBER_MIN(n + 1, (size_t)128), p->n_pool - EMBER_MIN(pos, p->n_pool));
	st = (const char *)(p->stack_pool + pos);
	end = st + len * sizeof(uint32_t);
	for (; st < end; st += 64)
		__builtin_prefetch(st);
	if (len)
		__builtin_prefetch(end - 1);
	if (p->sample_index.cap)
		__builtin_prefetch(hmap_home(&p->sample_index, (uint64_t)node << 32 | labelset));
	return node;
}

/* Stage 2: the sample's index slot is in cache; when it holds the sample, prefetch its values. */
static inline void batch_stage2(const struct prof *p, uint32_t node, uint32_t labelset)
{
	uint64_t key = (uint64_t)node << 32 | labelset;
	const struct hmap_slot *s;

	if (node == NONE_NODE || !p->sample_index.cap)
		return;
	s = hmap_home(&p->sample_index, key);
	if (s->key == key && p->n_types)
		__builtin_prefetch(p->values + s->val * p->n_types);
}

void prof_add_samples(struct prof *p, size_t n, const uint32_t *locations_leaf_first,
		      const uint32_t *n_locations, const uint32_t *labelsets, const int64_t *values)
{
	const size_t a = BATCH_AHEAD;
	const uint32_t *loc = locations_leaf_first;

	fit((void **)&p->batch_hash, &p->cap_batch, n, sizeof(*p->batch_hash));
	fit((void **)&p->batch_node, &p->cap_batch_node, n, sizeof(*p->batch_node));
	/* Stage 0, all at once: hash every stack, then (below) prefetch its slot in the
	 * whole-stack cache. Stacks of fewer than two locations skip the cache. */
	stack_hashes(locations_leaf_first, n_locations, n, p->batch_hash);
	for (size_t t = 0; t < n + 3 * a; t++) {
		if (t < n && p->stack_cache.cap && n_locations[t] >= 2)
			__builtin_prefetch(hmap_home(&p->stack_cache, p->batch_hash[t]));
		if (t >= a && t - a < n) {
			size_t j = t - a;
			uint32_t ls = labelsets ? labelsets[j] : 0;

			p->batch_node[j] =
				n_locations[j] >= 2 && p->stack_cache.cap
					? batch_stage1(p, p->batch_hash[j], n_locations[j], ls)
					: NONE_NODE;
		}
		if (t >= 2 * a && t - 2 * a < n) {
			size_t j = t - 2 * a;

			batch_stage2(p, p->batch_node[j], labelsets ? labelsets[j] : 0);
		}
		if (t >= 3 * a) {
			/* Stage 3: the sample itself, exactly as prof_add_stack + prof_add_sample
			 * (the stages before only prefetch; entries they saw may have moved). */
			size_t j = t - 3 * a, nl = n_locations[j];
			uint32_t node = nl >= 2 ? add_stack_hashed(p, loc, nl, p->batch_hash[j])
						: prof_add_stack(p, loc, nl);

			prof_add_sample(p, node, labelsets ? labelsets[j] : 0,
					p->n_types ? values + j * p->n_types : values);
			loc += nl;
		}
	}
}

size_t prof_n_samples(const struct prof *p)
{
	return p->n_samples;
}

void prof_sample_get(const struct prof *p, size_t i, struct prof_sample *out)
{
	out->node = p->sample_node[i];
	out->labelset = p->sample_labelset[i];
	out->values = p->n_types ? p->values + i * p->n_types : NULL;
}

int64_t *prof_sample_values(struct prof *p, size_t i)
{
	return p->n_types ? p->values + i * p->n_types : NULL;
}

int64_t prof_total(const struct prof *p, size_t vi)
{
	uint64_t t = 0;

	if (vi >= p->n_types)
		return 0;
	for (size_t i = 0; i < p->n_samples; i++)
		t += (uint64_t)p->values[i * p->n_types + vi];
	return (int64_t)t;
}

/* Frames. */

uint32_t prof_location_n_frames(const struct prof *p, uint32_t loc)
{
	if (!loc || loc > prof_n_locations(p))
		return 1;
	return p->locations[loc - 1].n_lines ? p->locations[loc - 1].n_lines : 1;
}

const char *prof_frame_name(const struct prof *p, uint32_t loc, uint32_t i, char tmp[80])
{
	const struct loc_rec *l;
	const struct prof_mapping *m;

	if (!loc || loc > prof_n_locations(p)) {
		snprintf(tmp, 80, "<unknown>");
		return tmp;
	}
	l = &p->locations[loc - 1];
	if (i < l->n_lines) {
		const struct prof_function *f =
			prof_function_get(p, p->lines[l->line_off + i].function);

		if (f && f->name)
			return prof_string(p, f->name);
		if (f && f->system_name)
			return prof_string(p, f->system_name);
	}
	m = prof_mapping_get(p, l->mapping);
	if (m && m->filename) {
		const char *file = prof_string(p, m->filename), *slash = strrchr(file, '/');
		uint64_t off = l->address - m->memory_start + m->file_offset;

		snprintf(tmp, 80, "%.50s+0x%" PRIx64, slash ? slash + 1 : file, off);
		return tmp;
	}
	snprintf(tmp, 80, "0x%" PRIx64, l->address);
	return tmp;
}

size_t prof_bytes(const struct prof *p)
{
	return sizeof(*p) + strtab_bytes(p->strings) + strtab_bytes(p->labelset_keys) +
	       (p->mapping_index.n_slots + p->function_index.n_slots + p->location_index.n_slots) *
		       8 +
	       p->stack_cache.cap * 16 + p->cap_pool * 4 + p->cap_types * sizeof(*p->types) +
	       p->cap_mappings * sizeof(*p->mappings) + p->cap_functions * sizeof(*p->functions) +
	       p->cap_locations * sizeof(*p->locations) + p->cap_lines * sizeof(*p->lines) +
	       p->cap_labelsets * 8 + p->cap_labels * sizeof(*p->labels) +
	       p->cap_nodes * sizeof(*p->nodes) + p->node_index.cap * 16 + p->cap_samples * 8 +
	       p->cap_values * 8 + p->sample_index.cap * 16;
}

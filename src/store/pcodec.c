/*
 * pcodec.c — the profile encoding of WAL records and block symbol sections
 * (docs/internals/storage.md, "Profile encoding"): a whole struct prof, or only the entries a
 * dictionary gained since a mark (a "dictionary delta", how WAL records carry new symbols
 * without repeating known ones). Decoding treats its input as hostile: every id must refer to
 * an earlier entry, and every entry must be new (it must get the next id when re-interned).
 * Never logs.
 */
#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

/* --- encoding: each table from a first id on ------------------------------------------- */

static void put_strings(struct store_wr *w, const struct prof *p, uint32_t from)
{
	uint32_t n = prof_n_strings(p);

	store_wr_uv(w, n - from);
	for (uint32_t i = from; i < n; i++) {
		size_t len = prof_string_len(p, i);

		store_wr_uv(w, len);
		store_wr_bytes(w, prof_string(p, i), len);
	}
}

static void put_mappings(struct store_wr *w, const struct prof *p, uint32_t from)
{
	store_wr_uv(w, prof_n_mappings(p) - from);
	for (uint32_t i = from + 1; i <= prof_n_mappings(p); i++) {
		const struct prof_mapping *mp = prof_mapping_get(p, i);

		store_wr_uv(w, mp->memory_start);
		store_wr_uv(w, mp->memory_limit);
		store_wr_uv(w, mp->file_offset);
		store_wr_uv(w, mp->filename);
		store_wr_uv(w, mp->build_id);
		store_wr_uv(w, (uint64_t)(mp->has_functions | mp->has_filenames << 1 |
					  mp->has_line_numbers << 2 | mp->has_inline_frames << 3));
	}
}

static void put_functions(struct store_wr *w, const struct prof *p, uint32_t from)
{
	store_wr_uv(w, prof_n_functions(p) - from);
	for (uint32_t i = from + 1; i <= prof_n_functions(p); i++) {
		const struct prof_function *f = prof_function_get(p, i);

		store_wr_uv(w, f->name);
		store_wr_uv(w, f->system_name);
		store_wr_uv(w, f->filename);
		store_wr_sv(w, f->start_line);
	}
}

static void put_locations(struct store_wr *w, const struct prof *p, uint32_t from)
{
	store_wr_uv(w, prof_n_locations(p) - from);
	for (uint32_t i = from + 1; i <= prof_n_locations(p); i++) {
		struct prof_location l;

		prof_location_get(p, i, &l);
		store_wr_uv(w, l.mapping);
		store_wr_uv(w, l.address);
		store_wr_uv(w, l.is_folded);
		store_wr_uv(w, l.n_lines);
		for (uint32_t k = 0; k < l.n_lines; k++) {
			store_wr_uv(w, l.lines[k].function);
			store_wr_sv(w, l.lines[k].line);
			store_wr_sv(w, l.lines[k].column);
		}
	}
}

/* Nodes from id `from` (>= 1: the root is implicit). */
static void put_nodes(struct store_wr *w, const struct prof *p, uint32_t from)
{
	uint32_t nn = prof_n_nodes(p);

	store_wr_uv(w, nn - from);
	for (uint32_t i = from; i < nn; i++) {
		store_wr_uv(w, i - prof_node_parent(p, i)); /* >= 1: parents come first */
		store_wr_uv(w, prof_node_location(p, i));
	}
}

void store_prof_encode(struct store_wr *w, const struct prof *p, bool with_samples)
{
	const struct prof_meta *m = prof_meta_get(p);
	size_t nt = prof_n_sample_types(p);

	put_strings(w, p, 0);
	store_wr_uv(w, nt);
	for (size_t i = 0; i < nt; i++) {
		store_wr_uv(w, prof_sample_types(p)[i].type);
		store_wr_uv(w, prof_sample_types(p)[i].unit);
	}
	store_wr_uv(w, m->period_type.type);
	store_wr_uv(w, m->period_type.unit);
	store_wr_sv(w, m->period);
	store_wr_sv(w, m->time_ns);
	store_wr_sv(w, m->duration_ns);
	store_wr_uv(w, m->drop_frames);
	store_wr_uv(w, m->keep_frames);
	store_wr_uv(w, m->default_sample_type);
	store_wr_uv(w, m->doc_url);
	put_mappings(w, p, 0);
	put_functions(w, p, 0);
	put_locations(w, p, 0);
	put_nodes(w, p, 1);
	if (!with_samples) {
		store_wr_uv(w, 0);
		store_wr_uv(w, 0);
		return;
	}
	store_wr_uv(w, prof_n_labelsets(p) - 1);
	for (uint32_t i = 1; i < prof_n_labelsets(p); i++) {
		size_t n;
		const struct prof_label *l = prof_labelset_get(p, i, &n);

		store_wr_uv(w, n);
		for (size_t k = 0; k < n; k++) {
			store_wr_uv(w, l[k].key);
			store_wr_uv(w, l[k].str);
			store_wr_sv(w, l[k].num);
			store_wr_uv(w, l[k].num_unit);
		}
	}
	store_wr_uv(w, prof_n_samples(p));
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		store_wr_uv(w, s.node);
		store_wr_uv(w, s.labelset);
		for (size_t k = 0; k < nt; k++)
			store_wr_sv(w, s.values[k]);
	}
}

void store_dict_mark(const struct prof *p, struct store_dict_mark *m)
{
	m->strings = prof_n_strings(p);
	m->mappings = prof_n_mappings(p);
	m->functions = prof_n_functions(p);
	m->locations = prof_n_locations(p);
	m->nodes = prof_n_nodes(p);
}

void store_dict_encode_since(struct store_wr *w, const struct prof *p,
			     const struct store_dict_mark *from)
{
	store_wr_uv(w, from->strings);
	store_wr_uv(w, from->mappings);
	store_wr_uv(w, from->functions);
	store_wr_uv(w, from->locations);
	store_wr_uv(w, from->nodes);
	put_strings(w, p, from->strings);
	put_mappings(w, p, from->mappings);
	put_functions(w, p, from->functions);
	put_locations(w, p, from->locations);
	put_nodes(w, p, from->nodes);
}

/* --- decoding: each entry appended, and it must be new ---------------------------------- */

#define BAD(r)                              \
	do {                                \
		(r)->err = -EMBER_ECORRUPT; \
		goto out;                   \
	} while (0)

static uint32_t rd_id(struct store_rd *r, uint64_t limit_incl)
{
	uint64_t v = store_rd_uv(r);

	if (v > limit_incl) {
		r->err = -EMBER_ECORRUPT;
		return 0;
	}
	return (uint32_t)v;
}

/* n strings (n read by the caller), each getting the next id. */
static void get_strings(struct store_rd *r, struct prof *p, uint64_t n)
{
	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint64_t len = store_rd_count(r, 1, UINT32_MAX);
		const uint8_t *s = store_rd_bytes(r, (size_t)len);
		uint32_t want = prof_n_strings(p);

		if (!r->err && prof_intern(p, s, (size_t)len) != want)
			r->err = -EMBER_ECORRUPT; /* a duplicate */
	}
}

static void get_mappings(struct store_rd *r, struct prof *p)
{
	uint64_t n = store_rd_count(r, 6, UINT32_MAX - 1);
	uint32_t ns = prof_n_strings(p);

	for (uint64_t i = 0; i < n && !r->err; i++) {
		struct prof_mapping mp = {0};
		uint32_t want = prof_n_mappings(p) + 1;
		uint64_t fl;

		mp.memory_start = store_rd_uv(r);
		mp.memory_limit = store_rd_uv(r);
		mp.file_offset = store_rd_uv(r);
		mp.filename = rd_id(r, ns - 1);
		mp.build_id = rd_id(r, ns - 1);
		fl = store_rd_uv(r);
		mp.has_functions = fl & 1;
		mp.has_filenames = fl >> 1 & 1;
		mp.has_line_numbers = fl >> 2 & 1;
		mp.has_inline_frames = fl >> 3 & 1;
		if (!r->err && (fl > 15 || prof_add_mapping(p, &mp) != want))
			r->err = -EMBER_ECORRUPT;
	}
}

static void get_functions(struct store_rd *r, struct prof *p)
{
	uint64_t n = store_rd_count(r, 4, UINT32_MAX - 1);
	uint32_t ns = prof_n_strings(p);

	for (uint64_t i = 0; i < n && !r->err; i++) {
		struct prof_function f = {0};
		uint32_t want = prof_n_functions(p) + 1;

		f.name = rd_id(r, ns - 1);
		f.system_name = rd_id(r, ns - 1);
		f.filename = rd_id(r, ns - 1);
		f.start_line = store_rd_sv(r);
		if (!r->err && prof_add_function(p, &f) != want)
			r->err = -EMBER_ECORRUPT;
	}
}

static void get_locations(struct store_rd *r, struct prof *p)
{
	uint64_t n = store_rd_count(r, 4, UINT32_MAX - 1);
	struct prof_line *lines = NULL;

	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint32_t mapping = rd_id(r, prof_n_mappings(p)), want = prof_n_locations(p) + 1;
		uint64_t addr = store_rd_uv(r), folded = store_rd_uv(r);
		uint64_t nl = store_rd_count(r, 3, 4096);

		if (r->err || folded > 1)
			BAD(r);
		lines = mem_realloc(MEM_STORE, lines, (nl ? nl : 1) * sizeof(*lines));
		for (uint64_t k = 0; k < nl; k++) {
			lines[k].function = rd_id(r, prof_n_functions(p));
			lines[k].line = store_rd_sv(r);
			lines[k].column = store_rd_sv(r);
		}
		if (r->err)
			goto out;
		if (prof_add_location(p, mapping, addr, lines, (uint32_t)nl, folded) != want)
			BAD(r);
	}
out:
	mem_free(lines);
}

static void get_nodes(struct store_rd *r, struct prof *p)
{
	uint64_t n = store_rd_count(r, 2, UINT32_MAX - 2);

	for (uint64_t k = 0; k < n && !r->err; k++) {
		uint64_t i = prof_n_nodes(p), back = store_rd_uv(r);
		uint32_t loc = rd_id(r, prof_n_locations(p));

		if (!r->err &&
		    (back == 0 || back > i || prof_node_child(p, (uint32_t)(i - back), loc) != i))
			r->err = -EMBER_ECORRUPT;
	}
}

int store_prof_decode(struct store_rd *r, struct prof **out)
{
	struct prof *p = prof_new();
	int64_t *vals = NULL;
	uint64_t n, ns, nt;

	*out = NULL;
	ns = store_rd_count(r, 1, UINT32_MAX - 1);
	if (ns == 0 || store_rd_uv(r) != 0)
		BAD(r); /* string 0 is "" */
	get_strings(r, p, ns - 1);
	nt = store_rd_count(r, 2, 64);
	for (uint64_t i = 0; i < nt && !r->err; i++) {
		uint32_t t = rd_id(r, ns - 1), u = rd_id(r, ns - 1);

		prof_add_sample_type(p, t, u);
	}
	{
		struct prof_meta *m = prof_meta(p);

		m->period_type.type = rd_id(r, ns - 1);
		m->period_type.unit = rd_id(r, ns - 1);
		m->period = store_rd_sv(r);
		m->time_ns = store_rd_sv(r);
		m->duration_ns = store_rd_sv(r);
		m->drop_frames = rd_id(r, ns - 1);
		m->keep_frames = rd_id(r, ns - 1);
		m->default_sample_type = rd_id(r, ns - 1);
		m->doc_url = rd_id(r, ns - 1);
	}
	get_mappings(r, p);
	get_functions(r, p);
	get_locations(r, p);
	get_nodes(r, p);
	n = store_rd_count(r, 1, UINT32_MAX - 1);
	for (uint64_t i = 1; i <= n && !r->err; i++) {
		uint64_t nl = store_rd_count(r, 4, 4096);
		struct prof_label *lb = mem_calloc(MEM_STORE, nl ? nl : 1, sizeof(*lb));

		for (uint64_t k = 0; k < nl; k++) {
			lb[k].key = rd_id(r, ns - 1);
			lb[k].str = rd_id(r, ns - 1);
			lb[k].num = store_rd_sv(r);
			lb[k].num_unit = rd_id(r, ns - 1);
		}
		if (!r->err && (nl == 0 || prof_add_labelset(p, lb, nl) != i))
			r->err = -EMBER_ECORRUPT;
		mem_free(lb);
	}
	n = store_rd_count(r, 2 + nt, SIZE_MAX);
	vals = mem_calloc(MEM_STORE, nt ? nt : 1, sizeof(*vals));
	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint32_t node = rd_id(r, prof_n_nodes(p) - 1);
		uint32_t ls = rd_id(r, prof_n_labelsets(p) - 1);

		for (uint64_t k = 0; k < nt; k++)
			vals[k] = store_rd_sv(r);
		if (!r->err)
			prof_add_sample(p, node, ls, vals);
	}
out:
	mem_free(vals);
	if (r->err) {
		prof_free(p);
		return r->err;
	}
	*out = p;
	return 0;
}

void store_dict_read_mark(struct store_rd *r, struct store_dict_mark *m)
{
	m->strings = (uint32_t)store_rd_uv(r);
	m->mappings = (uint32_t)store_rd_uv(r);
	m->functions = (uint32_t)store_rd_uv(r);
	m->locations = (uint32_t)store_rd_uv(r);
	m->nodes = (uint32_t)store_rd_uv(r);
}

bool store_dict_mark_eq(const struct store_dict_mark *a, const struct store_dict_mark *b)
{
	return a->strings == b->strings && a->mappings == b->mappings &&
	       a->functions == b->functions && a->locations == b->locations && a->nodes == b->nodes;
}

int store_dict_decode_entries(struct store_rd *r, struct prof *p, const struct store_dict_mark *at)
{
	struct store_dict_mark now;
	uint64_t ns;

	store_dict_mark(p, &now);
	if (r->err || !store_dict_mark_eq(at, &now))
		return r->err = -EMBER_ECORRUPT; /* not written against this dictionary state */
	ns = store_rd_count(r, 1, UINT32_MAX - 1 - (uint64_t)now.strings);
	get_strings(r, p, ns);
	get_mappings(r, p);
	get_functions(r, p);
	get_locations(r, p);
	get_nodes(r, p);
	return r->err;
}

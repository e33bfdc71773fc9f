/*
 * speedscope.c — writes a profile in speedscope's file format (speedscope.h): one frame table
 * shared by all profiles, one "sampled" profile per sample type whose samples are frame-index
 * lists root first (inline frames outer to inner) with one weight each.
 *
 * A frame is a function (name, file, start line) when the location line has a named function,
 * else the location's display name ("lib.so+0x12", "0x4004f0"). Samples that differ only by
 * labels are merged; non-positive weights are left out because speedscope ignores zeros and
 * rejects negatives. Format notes: docs/internals/format.md "## Speedscope".
 */
#include <string.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "format/json.h"
#include "format/speedscope.h"

#define SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"
#ifdef EMBER_VERSION
#define SPEEDSCOPE_EXPORTER "ember@" EMBER_VERSION
#else
#define SPEEDSCOPE_EXPORTER "ember"
#endif

/* Name keys live above every function id in the frame map. */
#define NAME_KEY_BASE (1ull << 40)

struct ss_frame {
	const char *name; /* borrowed from the profile or from names */
	const char *file; /* NULL = none */
	int64_t line;	  /* 0 = none */
};

struct ss_state {
	const struct prof *p;
	struct hmap frame_index; /* key -> index into frames */
	struct strtab *names;	 /* display names that are not function names */
	struct ss_frame *frames;
	size_t n_frames, cap_frames;
	uint32_t *idx; /* frame indices of all stacks, root first */
	size_t n_idx, cap_idx;
	size_t *node_off; /* per node: offset into idx, SIZE_MAX = not computed */
	uint32_t *node_len;
	uint32_t *locs; /* scratch: one stack's locations leaf first */
	size_t cap_locs;
};

static uint32_t frame_for(struct ss_state *st, uint32_t loc, uint32_t j)
{
	const struct prof *p = st->p;
	const struct prof_function *fn = NULL;
	struct prof_location l;
	char tmp[80];
	const char *name;
	uint64_t key, *slot;
	bool found;
	struct ss_frame *f;

	prof_location_get(p, loc, &l);
	if (j < l.n_lines)
		fn = prof_function_get(p, l.lines[j].function);
	name = prof_frame_name(p, loc, j, tmp);
	if (fn && (fn->name || fn->system_name))
		key = l.lines[j].function;
	else
		key = NAME_KEY_BASE + strtab_intern_cstr(st->names, name);
	slot = hmap_upsert(&st->frame_index, key, st->n_frames, &found);
	if (found)
		return (uint32_t)*slot;
	mem_grow(MEM_FORMAT, (void **)&st->frames, &st->cap_frames, st->n_frames + 1,
		 sizeof(*st->frames));
	f = &st->frames[st->n_frames];
	memset(f, 0, sizeof(*f));
	if (key < NAME_KEY_BASE) {
		f->name = name; /* a string of the profile: stable */
		if (fn->filename)
			f->file = prof_string(p, fn->filename);
		f->line = fn->start_line > 0 ? fn->start_line : 0;
	} else {
		f->name = strtab_get(st->names, (uint32_t)(key - NAME_KEY_BASE), NULL);
	}
	return (uint32_t)st->n_frames++;
}

/* Computes (once) the frame-index list of node's stack. */
static void node_frames(struct ss_state *st, uint32_t node)
{
	const struct prof *p = st->p;
	size_t n = 0, off = st->n_idx;

	if (st->node_off[node] != SIZE_MAX)
		return;
	for (uint32_t x = node; x != 0;) {
		uint32_t parent = prof_node_parent(p, x);

		mem_grow(MEM_FORMAT, (void **)&st->locs, &st->cap_locs, n + 1, sizeof(*st->locs));
		st->locs[n++] = prof_node_location(p, x);
		if (parent >= x)
			break;
		x = parent;
	}
	for (size_t i = n; i-- > 0;) {
		uint32_t loc = st->locs[i], nf = prof_location_n_frames(p, loc);

		for (uint32_t j = nf; j-- > 0;) {
			uint32_t fi = frame_for(st, loc, j);

			mem_grow(MEM_FORMAT, (void **)&st->idx, &st->cap_idx, st->n_idx + 1,
				 sizeof(*st->idx));
			st->idx[st->n_idx++] = fi;
		}
	}
	st->node_off[node] = off;
	st->node_len[node] = (uint32_t)(st->n_idx - off);
}

/* speedscope's ValueUnit for a pprof unit. */
static const char *value_unit(const char *unit)
{
	static const char *const known[] = {"nanoseconds", "microseconds", "milliseconds",
					    "seconds", "bytes"};

	for (size_t i = 0; i < EMBER_ARRAY_SIZE(known); i++)
		if (strcmp(unit, known[i]) == 0)
			return known[i];
	return "none";
}

static void write_profile(struct ss_state *st, struct json_writer *w, size_t vi,
			  const int64_t *vals, size_t nt, uint32_t n_nodes)
{
	const struct prof *p = st->p;
	const struct prof_value_type *vt = &prof_sample_types(p)[vi];
	const char *type = prof_string(p, vt->type);
	int64_t end = 0;

	for (uint32_t node = 0; node < n_nodes; node++) {
		int64_t v = vals[(size_t)node * nt + vi];

		if (v > 0 && __builtin_add_overflow(end, v, &end))
			end = INT64_MAX;
	}
	json_obj_begin(w);
	json_key(w, "type");
	json_str(w, "sampled");
	json_key(w, "name");
	json_str(w, type[0] ? type : "samples");
	json_key(w, "unit");
	json_str(w, value_unit(prof_string(p, vt->unit)));
	json_key(w, "startValue");
	json_int(w, 0);
	json_key(w, "endValue");
	json_int(w, end);
	json_key(w, "samples");
	json_arr_begin(w);
	for (uint32_t node = 0; node < n_nodes; node++) {
		if (vals[(size_t)node * nt + vi] <= 0)
			continue;
		json_arr_begin(w);
		for (uint32_t k = 0; k < st->node_len[node]; k++)
			json_uint(w, st->idx[st->node_off[node] + k]);
		json_arr_end(w);
	}
	json_arr_end(w);
	json_key(w, "weights");
	json_arr_begin(w);
	for (uint32_t node = 0; node < n_nodes; node++)
		if (vals[(size_t)node * nt + vi] > 0)
			json_int(w, vals[(size_t)node * nt + vi]);
	json_arr_end(w);
	json_obj_end(w);
}

int speedscope_write(const struct prof *p, const char *name, struct buf *out)
{
	struct ss_state st = {.p = p};
	uint32_t n_nodes = prof_n_nodes(p);
	size_t nt = prof_n_sample_types(p), ns = prof_n_samples(p);
	int64_t *vals;
	struct json_writer w;

	hmap_init(&st.frame_index, MEM_FORMAT);
	st.names = strtab_new(MEM_FORMAT);
	vals = mem_calloc(MEM_FORMAT, (size_t)(n_nodes ? n_nodes : 1) * (nt ? nt : 1),
			  sizeof(*vals));
	st.node_off = mem_alloc(MEM_FORMAT, (n_nodes ? n_nodes : 1) * sizeof(*st.node_off));
	st.node_len = mem_calloc(MEM_FORMAT, n_nodes ? n_nodes : 1, sizeof(*st.node_len));
	for (uint32_t i = 0; i < n_nodes; i++)
		st.node_off[i] = SIZE_MAX;

	/* Per-node sums (labels merged), then the stacks of the nodes that carry weight. */
	for (size_t i = 0; i < ns; i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		if (s.node >= n_nodes)
			continue;
		for (size_t k = 0; k < nt; k++) {
			int64_t *acc = &vals[(size_t)s.node * nt + k];

			if (__builtin_add_overflow(*acc, s.values[k], acc))
				*acc = s.values[k] > 0 ? INT64_MAX : INT64_MIN;
		}
	}
	for (uint32_t node = 0; node < n_nodes; node++)
		for (size_t k = 0; k < nt; k++)
			if (vals[(size_t)node * nt + k] > 0) {
				node_frames(&st, node);
				break;
			}

	json_init(&w, out);
	json_obj_begin(&w);
	json_key(&w, "$schema");
	json_str(&w, SPEEDSCOPE_SCHEMA);
	json_key(&w, "exporter");
	json_str(&w, SPEEDSCOPE_EXPORTER);
	if (name) {
		json_key(&w, "name");
		json_str(&w, name);
	}
	json_key(&w, "activeProfileIndex");
	json_uint(&w, nt ? prof_default_sample_type(p) : 0);
	json_key(&w, "shared");
	json_obj_begin(&w);
	json_key(&w, "frames");
	json_arr_begin(&w);
	for (size_t i = 0; i < st.n_frames; i++) {
		const struct ss_frame *f = &st.frames[i];

		json_obj_begin(&w);
		json_key(&w, "name");
		json_str(&w, f->name);
		if (f->file && f->file[0]) {
			json_key(&w, "file");
			json_str(&w, f->file);
		}
		if (f->line > 0) {
			json_key(&w, "line");
			json_int(&w, f->line);
		}
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	json_key(&w, "profiles");
	json_arr_begin(&w);
	for (size_t vi = 0; vi < nt; vi++)
		write_profile(&st, &w, vi, vals, nt, n_nodes);
	json_arr_end(&w);
	json_obj_end(&w);

	hmap_fini(&st.frame_index);
	strtab_free(st.names);
	mem_free(st.frames);
	mem_free(st.idx);
	mem_free(st.node_off);
	mem_free(st.node_len);
	mem_free(st.locs);
	mem_free(vals);
	return json_finish(&w);
}

/*
 * server_querier_out.c — writes querier responses as protobuf or protojson from one sequence of
 * calls (struct qout): nested messages, repeated fields, scalars with proto3 default omission,
 * int64 as JSON strings. Also the FlameGraph / FlameGraphDiff message (names + levels of
 * delta-encoded [x, total, self, name] or 7-tuples, the layout of docs/internals/format.md
 * "Flamebearer JSON") and a google.v1.Profile as protojson. Never reads its output back.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/wire.h"
#include "server/server_querier_out.h"

static void set_err(struct qout *w, int err)
{
	if (err && !w->err)
		w->err = err;
}

void qout_init(struct qout *w, bool json, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->json = json;
	w->b = b;
	if (json) {
		json_init(&w->jw, b);
		json_obj_begin(&w->jw);
	}
}

int qout_finish(struct qout *w)
{
	if (w->json) {
		json_obj_end(&w->jw);
		set_err(w, json_finish(&w->jw));
	}
	if (w->depth)
		set_err(w, -EINVAL);
	return w->err;
}

void qout_msg_begin(struct qout *w, uint32_t field, const char *name)
{
	if (w->depth >= QOUT_MAX_DEPTH) {
		set_err(w, -EMBER_ELIMIT);
		return;
	}
	w->fields[w->depth] = field;
	w->marks[w->depth] = wire_begin(w->b);
	w->depth++;
	if (w->json) {
		if (name)
			json_key(&w->jw, name);
		json_obj_begin(&w->jw);
	}
}

void qout_msg_end(struct qout *w)
{
	if (w->depth <= 0) {
		set_err(w, -EINVAL);
		return;
	}
	w->depth--;
	if (w->json)
		json_obj_end(&w->jw);
	else
		set_err(w, wire_end(w->b, w->fields[w->depth], w->marks[w->depth]));
}

void qout_rep_begin(struct qout *w, const char *name)
{
	if (w->json) {
		json_key(&w->jw, name);
		json_arr_begin(&w->jw);
	}
}

void qout_rep_end(struct qout *w)
{
	if (w->json)
		json_arr_end(&w->jw);
}

/* In JSON, a named scalar with its default value is omitted; array elements never are. */
void qout_str(struct qout *w, uint32_t field, const char *name, const char *s)
{
	if (name && (!s || !*s))
		return;
	if (w->json) {
		if (name)
			json_key(&w->jw, name);
		json_str(&w->jw, s ? s : "");
	} else {
		set_err(w, wire_put_bytes(w->b, field, s ? s : "", s ? strlen(s) : 0));
	}
}

void qout_int64(struct qout *w, uint32_t field, const char *name, int64_t v)
{
	char tmp[32];

	if (name && !v)
		return;
	if (w->json) {
		snprintf(tmp, sizeof(tmp), "%" PRId64, v);
		if (name)
			json_key(&w->jw, name);
		json_str(&w->jw, tmp);
	} else {
		set_err(w, wire_put_int(w->b, field, v));
	}
}

void qout_uint64(struct qout *w, uint32_t field, const char *name, uint64_t v)
{
	char tmp[32];

	if (name && !v)
		return;
	if (w->json) {
		snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
		if (name)
			json_key(&w->jw, name);
		json_str(&w->jw, tmp);
	} else {
		set_err(w, wire_put_uint(w->b, field, v));
	}
}

void qout_double(struct qout *w, uint32_t field, const char *name, double v)
{
	uint64_t bits;

	if (name && v == 0)
		return;
	if (w->json) {
		if (name)
			json_key(&w->jw, name);
		json_double(&w->jw, v);
	} else {
		memcpy(&bits, &v, sizeof(bits));
		set_err(w, wire_put_fixed64(w->b, field, bits));
	}
}

void qout_bool(struct qout *w, uint32_t field, const char *name, bool v)
{
	if (name && !v)
		return;
	if (w->json) {
		if (name)
			json_key(&w->jw, name);
		json_bool(&w->jw, v);
	} else {
		set_err(w, wire_put_uint(w->b, field, v ? 1 : 0));
	}
}

void qout_int64s(struct qout *w, uint32_t field, const char *name, const int64_t *v, size_t n)
{
	char tmp[32];

	if (!n)
		return;
	if (w->json) {
		json_key(&w->jw, name);
		json_arr_begin(&w->jw);
		for (size_t i = 0; i < n; i++) {
			snprintf(tmp, sizeof(tmp), "%" PRId64, v[i]);
			json_str(&w->jw, tmp);
		}
		json_arr_end(&w->jw);
		return;
	}
	size_t mark = wire_begin(w->b);
	for (size_t i = 0; i < n && !w->err; i++)
		set_err(w, wire_put_varint(w->b, (uint64_t)v[i]));
	set_err(w, wire_end(w->b, field, mark));
}

/* --- flame graph levels -------------------------------------------------------------------- */

struct qlevel {
	int64_t *v;
	size_t n, cap;
	int64_t end, bend; /* end of the previous node on this level (new, base) */
};

static void level_push(struct qlevel *l, int64_t x)
{
	if (l->n == l->cap)
		mem_grow(MEM_SERVER, (void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = x;
}

/* Node i's tuple on its level; x/bx its absolute starts. */
static void level_node(struct qlevel *l, const struct flame_node *nd, bool diff, int64_t x,
		       int64_t bx, uint32_t name)
{
	if (diff) {
		level_push(l, bx - l->bend);
		level_push(l, nd->base_total);
		level_push(l, nd->base_self);
		l->bend = bx + nd->base_total;
	}
	level_push(l, x - l->end);
	level_push(l, nd->total);
	level_push(l, nd->self);
	level_push(l, name);
	l->end = x + nd->total;
}

void qout_flamegraph(struct qout *w, uint32_t field, const char *name, const struct flame *f)
{
	uint32_t n = flame_n_nodes(f), n_levels = flame_max_depth(f) + 1, n_names = 1;
	bool diff = flame_is_diff(f);
	uint32_t *name_idx = mem_calloc(MEM_SERVER, flame_n_names(f) + 1, sizeof(*name_idx));
	const char **names = mem_calloc(MEM_SERVER, flame_n_names(f) + 2, sizeof(*names));
	int64_t *cx = mem_calloc(MEM_SERVER, n ? n : 1, sizeof(*cx));	/* next child x (new) */
	int64_t *cbx = mem_calloc(MEM_SERVER, n ? n : 1, sizeof(*cbx)); /* (base) */
	struct qlevel *lv = mem_calloc(MEM_SERVER, n_levels, sizeof(*lv));
	const struct flame_node *root = n ? flame_node(f, 0) : NULL;

	/* Nodes are in pre-order with children in order, so each level fills left to right. */
	names[0] = "total";
	for (uint32_t i = 0; i < n; i++) {
		const struct flame_node *nd = flame_node(f, i);
		int64_t x = 0, bx = 0;
		uint32_t ni = 0;

		if (i) {
			x = cx[nd->parent];
			bx = cbx[nd->parent];
			cx[nd->parent] += nd->total;
			cbx[nd->parent] += nd->base_total;
			if (!name_idx[nd->name]) {
				names[n_names] = flame_name(f, nd->name);
				name_idx[nd->name] = n_names++;
			}
			ni = name_idx[nd->name];
		}
		cx[i] = x + nd->self; /* a node's self comes first, then its children */
		cbx[i] = bx + nd->base_self;
		if (nd->depth < n_levels)
			level_node(&lv[nd->depth], nd, diff, x, bx, ni);
	}
	qout_msg_begin(w, field, name);
	qout_rep_begin(w, "names");
	for (uint32_t i = 0; i < n_names; i++)
		qout_str(w, 1, NULL, names[i]);
	qout_rep_end(w);
	qout_rep_begin(w, "levels");
	for (uint32_t d = 0; d < n_levels && n; d++) {
		qout_msg_begin(w, 2, NULL);
		qout_int64s(w, 1, "values", lv[d].v, lv[d].n);
		qout_msg_end(w);
	}
	qout_rep_end(w);
	int64_t total = root ? root->total : 0, btotal = root ? root->base_total : 0;
	qout_int64(w, 3, "total", diff ? total + btotal : total);
	qout_int64(w, 4, "maxSelf", n ? flame_max_self(f) : 0);
	if (diff) {
		qout_int64(w, 5, "leftTicks", btotal);
		qout_int64(w, 6, "rightTicks", total);
	}
	qout_msg_end(w);
	for (uint32_t d = 0; d < n_levels; d++)
		mem_free(lv[d].v);
	mem_free(lv);
	mem_free(cbx);
	mem_free(cx);
	mem_free(names);
	mem_free(name_idx);
}

/* --- google.v1.Profile as protojson -------------------------------------------------------- */

static void value_type(struct qout *w, const char *name, const struct prof_value_type *vt)
{
	qout_msg_begin(w, 0, name);
	qout_int64(w, 0, "type", vt->type);
	qout_int64(w, 0, "unit", vt->unit);
	qout_msg_end(w);
}

static void sample_labels(struct qout *w, const struct prof *p, uint32_t labelset)
{
	size_t n = 0;
	const struct prof_label *lb = prof_labelset_get(p, labelset, &n);

	if (!n)
		return;
	qout_rep_begin(w, "label");
	for (size_t k = 0; k < n; k++) {
		qout_msg_begin(w, 0, NULL);
		qout_int64(w, 0, "key", lb[k].key);
		qout_int64(w, 0, "str", lb[k].str);
		qout_int64(w, 0, "num", lb[k].num);
		qout_int64(w, 0, "numUnit", lb[k].num_unit);
		qout_msg_end(w);
	}
	qout_rep_end(w);
}

static void json_samples(struct qout *w, const struct prof *p)
{
	size_t nt = prof_n_sample_types(p);

	if (!prof_n_samples(p))
		return;
	qout_rep_begin(w, "sample");
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		qout_msg_begin(w, 0, NULL);
		if (s.node) {
			qout_rep_begin(w, "locationId"); /* leaf first */
			for (uint32_t nd = s.node; nd; nd = prof_node_parent(p, nd))
				qout_uint64(w, 0, NULL, prof_node_location(p, nd));
			qout_rep_end(w);
		}
		qout_int64s(w, 0, "value", s.values, nt);
		sample_labels(w, p, s.labelset);
		qout_msg_end(w);
	}
	qout_rep_end(w);
}

static void json_mappings(struct qout *w, const struct prof *p)
{
	if (!prof_n_mappings(p))
		return;
	qout_rep_begin(w, "mapping");
	for (uint32_t id = 1; id <= prof_n_mappings(p); id++) {
		const struct prof_mapping *m = prof_mapping_get(p, id);

		qout_msg_begin(w, 0, NULL);
		qout_uint64(w, 0, "id", id);
		qout_uint64(w, 0, "memoryStart", m->memory_start);
		qout_uint64(w, 0, "memoryLimit", m->memory_limit);
		qout_uint64(w, 0, "fileOffset", m->file_offset);
		qout_int64(w, 0, "filename", m->filename);
		qout_int64(w, 0, "buildId", m->build_id);
		qout_bool(w, 0, "hasFunctions", m->has_functions);
		qout_bool(w, 0, "hasFilenames", m->has_filenames);
		qout_bool(w, 0, "hasLineNumbers", m->has_line_numbers);
		qout_bool(w, 0, "hasInlineFrames", m->has_inline_frames);
		qout_msg_end(w);
	}
	qout_rep_end(w);
}

static void json_locations(struct qout *w, const struct prof *p)
{
	if (!prof_n_locations(p))
		return;
	qout_rep_begin(w, "location");
	for (uint32_t id = 1; id <= prof_n_locations(p); id++) {
		struct prof_location l;

		prof_location_get(p, id, &l);
		qout_msg_begin(w, 0, NULL);
		qout_uint64(w, 0, "id", id);
		qout_uint64(w, 0, "mappingId", l.mapping);
		qout_uint64(w, 0, "address", l.address);
		if (l.n_lines) {
			qout_rep_begin(w, "line");
			for (uint32_t k = 0; k < l.n_lines; k++) {
				qout_msg_begin(w, 0, NULL);
				qout_uint64(w, 0, "functionId", l.lines[k].function);
				qout_int64(w, 0, "line", l.lines[k].line);
				qout_int64(w, 0, "column", l.lines[k].column);
				qout_msg_end(w);
			}
			qout_rep_end(w);
		}
		qout_bool(w, 0, "isFolded", l.is_folded);
		qout_msg_end(w);
	}
	qout_rep_end(w);
}

static void json_functions(struct qout *w, const struct prof *p)
{
	if (!prof_n_functions(p))
		return;
	qout_rep_begin(w, "function");
	for (uint32_t id = 1; id <= prof_n_functions(p); id++) {
		const struct prof_function *fn = prof_function_get(p, id);

		qout_msg_begin(w, 0, NULL);
		qout_uint64(w, 0, "id", id);
		qout_int64(w, 0, "name", fn->name);
		qout_int64(w, 0, "systemName", fn->system_name);
		qout_int64(w, 0, "filename", fn->filename);
		qout_int64(w, 0, "startLine", fn->start_line);
		qout_msg_end(w);
	}
	qout_rep_end(w);
}

void qout_profile_json(struct qout *w, const struct prof *p)
{
	const struct prof_meta *m = prof_meta_get(p);
	size_t n_comments = 0;
	const uint32_t *comments = prof_comments(p, &n_comments);

	if (prof_n_sample_types(p)) {
		qout_rep_begin(w, "sampleType");
		for (size_t i = 0; i < prof_n_sample_types(p); i++)
			value_type(w, NULL, &prof_sample_types(p)[i]);
		qout_rep_end(w);
	}
	json_samples(w, p);
	json_mappings(w, p);
	json_locations(w, p);
	json_functions(w, p);
	qout_rep_begin(w, "stringTable");
	for (uint32_t i = 0; i < prof_n_strings(p); i++)
		qout_str(w, 0, NULL, prof_string(p, i));
	qout_rep_end(w);
	qout_int64(w, 0, "dropFrames", m->drop_frames);
	qout_int64(w, 0, "keepFrames", m->keep_frames);
	qout_int64(w, 0, "timeNanos", m->time_ns);
	qout_int64(w, 0, "durationNanos", m->duration_ns);
	if (m->period_type.type || m->period_type.unit)
		value_type(w, "periodType", &m->period_type);
	qout_int64(w, 0, "period", m->period);
	if (n_comments) {
		qout_rep_begin(w, "comment");
		for (size_t i = 0; i < n_comments; i++)
			qout_int64(w, 0, NULL, comments[i]);
		qout_rep_end(w);
	}
	qout_int64(w, 0, "defaultSampleType", m->default_sample_type);
}

/*
 * otlp.c — ExportProfilesServiceRequest -> one struct prof per Profile (otlp.h). Walks
 * resource_profiles -> scope_profiles -> profiles over the request bytes (zero-copy, the
 * dictionary decoded and cross-checked first by otlp_dict.c), builds each profile's tables
 * from the dictionary entries it uses (memoized per profile), turns samples (values, or
 * timestamps counted as 1 each) into prof samples with their attributes and span links as
 * sample labels, and collects the series labels: resource, scope and profile attributes
 * (service.name -> service_name). A samples/count profile with a cpu/nanoseconds period becomes
 * cpu/nanoseconds (values × period), as Pyroscope stores it.
 * Owns nothing beyond the returned request; on error everything built so far is freed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "format/otlp.h"
#include "format/otlp_int.h"

#define OTLP_MAX_SAMPLE_ATTRS 64
#define OTLP_MAX_KEY_LEN      256

/* Dictionary index -> id in the profile being built; valid when gen matches. */
struct memo {
	uint32_t gen;
	uint32_t id;
};

struct dec {
	struct otlp_limits lim;
	struct otlp_dict dict;
	struct otlp_request *req;
	size_t cap_profiles;
	size_t n_samples;
	struct ember_diag *d;
	struct memo *m_str, *m_fn, *m_map, *m_loc;
	uint32_t gen;
	struct prof *p; /* being built */
	uint32_t *stack;
	struct prof_line *lines;
	size_t cap_lines;
	struct otlp_label *labels; /* of the profile being built; max_labels + 1 */
	size_t n_labels;
	char *text; /* max_label_value_len + 1 */
	char path[160];
};

void otlp_label_name(const char *key, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	if (len == 12 && !memcmp(key, "service.name", 12)) {
		snprintf(out, cap, "service_name");
		return;
	}
	if (len == 0 || (key[0] >= '0' && key[0] <= '9') || key[0] == '.')
		out[o++] = '_';
	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		char c = key[i];

		out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					   (c >= '0' && c <= '9') || c == '_' || c == '.'
				   ? c
				   : '_';
	}
	out[o] = 0;
}

static int span_eq(struct otlp_span s, const char *c)
{
	return s.n == strlen(c) && !memcmp(s.p, c, s.n);
}

static struct otlp_span dstr(const struct dec *x, uint32_t i)
{
	if (i == 0 || i >= x->dict.n_strings)
		return (struct otlp_span){(const uint8_t *)"", 0};
	return x->dict.strings[i];
}

/* --- series labels ------------------------------------------------------------------------- */

/* Adds (or replaces) a label from an attribute key and value. */
static int add_label(struct dec *x, struct otlp_span key, const struct otlp_value *v,
		     const char *where)
{
	char name[OTLP_MAX_KEY_LEN + 2];
	size_t vlen;

	if (v->kind == OTLP_VALUE_NONE)
		return 0;
	if (key.n >= OTLP_MAX_KEY_LEN)
		return ember_diag_set(x->d, -EMBER_ELIMIT, "%s: attribute key longer than %d bytes",
				      where, OTLP_MAX_KEY_LEN);
	otlp_label_name((const char *)key.p, key.n, name, sizeof(name));
	if (v->kind == OTLP_VALUE_STR && v->str.n > x->lim.max_label_value_len)
		return ember_diag_set(x->d, -EMBER_ELIMIT,
				      "%s: value of attribute %.64s longer than %zu bytes", where,
				      name, x->lim.max_label_value_len);
	if (name[0] == '_' && name[1] == '_')
		return 0; /* reserved */
	vlen = otlp_value_text(v, x->text, x->lim.max_label_value_len + 1);
	if (vlen == 0)
		return 0;
	for (size_t i = 0; i < x->n_labels; i++)
		if (!strcmp(x->labels[i].name, name)) {
			x->labels[i].value = arena_strndup(x->req->arena, x->text, vlen);
			return 0;
		}
	if (x->n_labels >= x->lim.max_labels)
		return ember_diag_set(x->d, -EMBER_ELIMIT, "%s: more than %zu labels", where,
				      x->lim.max_labels);
	x->labels[x->n_labels].name = arena_strndup(x->req->arena, name, strlen(name));
	x->labels[x->n_labels++].value = arena_strndup(x->req->arena, x->text, vlen);
	return 0;
}

/* KeyValue attributes (field `field` of a Resource or InstrumentationScope). */
static int add_keyvalues(struct dec *x, struct otlp_span msg, uint32_t field, const char *where)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	const uint8_t *p;
	size_t n, k = 0;
	char path[200];
	int err;

	wire_reader_init(&r, msg.p, msg.n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return otlp_malformed(x->d, where);
		if (f != field) {
			if (wire_skip(&r, wt))
				return otlp_malformed(x->d, where);
			continue;
		}
		if (wt != WIRE_LEN || wire_read_len(&r, &p, &n))
			return otlp_malformed(x->d, where);
		snprintf(path, sizeof(path), "%.160s.attributes[%zu]", where, k++);

		struct wire_reader kr;
		struct otlp_span key = {(const uint8_t *)"", 0}, val = {NULL, 0};
		struct otlp_value v;
		uint64_t u;

		wire_reader_init(&kr, p, n);
		while (!wire_eof(&kr)) {
			if (wire_read_tag(&kr, &f, &wt))
				return otlp_malformed(x->d, path);
			if ((f == 1 || f == 2) && wt == WIRE_LEN) {
				if (wire_read_len(&kr, f == 1 ? &key.p : &val.p,
						  f == 1 ? &key.n : &val.n))
					return otlp_malformed(x->d, path);
			} else if (f == 3 && wt == WIRE_VARINT) {
				if (wire_read_varint(&kr, &u))
					return otlp_malformed(x->d, path);
				if ((err = otlp_check_index(u, x->dict.n_strings, "string_table",
							    x->d, "%s.key_strindex", path)))
					return err;
				key = dstr(x, (uint32_t)u);
			} else if (f <= 3 || wire_skip(&kr, wt)) {
				return otlp_malformed(x->d, path);
			}
		}
		if ((err = otlp_any_value(&x->dict, val, &v, x->d, path)) ||
		    (err = add_label(x, key, &v, path)))
			return err;
	}
	return 0;
}

/* The next attribute of an attribute_indices list: 1 with *a and *val set, 0 at the end, or
 * an error naming `where` (an index out of the table, a malformed list or value). Index 0 and
 * an empty table are skipped. */
static int next_attr(struct dec *x, struct otlp_ints *it, const char *where,
		     const struct otlp_attr **a, struct otlp_value *val)
{
	uint64_t v;
	int st, err;
	char path[200];

	while ((st = otlp_ints_next(it, &v)) == 1) {
		if ((err = otlp_check_index(v, x->dict.n_attrs, "attribute_table", x->d,
					    "%s.attribute_indices", where)))
			return err;
		if (v == 0 || x->dict.n_attrs == 0)
			continue;
		*a = &x->dict.attrs[v];
		snprintf(path, sizeof(path), "dictionary.attribute_table[%" PRIu64 "]", v);
		if ((err = otlp_any_value(&x->dict, (*a)->value, val, x->d, path)))
			return err;
		return 1;
	}
	return st < 0 ? otlp_malformed(x->d, where) : 0;
}

/* attribute_indices (field) of a message as labels. */
static int add_attr_labels(struct dec *x, struct otlp_span msg, uint32_t field, const char *where)
{
	struct otlp_ints it;
	const struct otlp_attr *a;
	struct otlp_value val;
	int st, err;

	otlp_ints_init(&it, msg, field);
	while ((st = next_attr(x, &it, where, &a, &val)) == 1)
		if ((err = add_label(x, dstr(x, a->key), &val, where)))
			return err;
	return st;
}

/* --- profile tables ------------------------------------------------------------------------ */

static uint32_t str_id(struct dec *x, uint32_t i)
{
	struct memo *m;

	if (i == 0 || i >= x->dict.n_strings)
		return 0;
	m = &x->m_str[i];
	if (m->gen != x->gen) {
		m->gen = x->gen;
		m->id = prof_intern(x->p, x->dict.strings[i].p, x->dict.strings[i].n);
	}
	return m->id;
}

static uint32_t func_id(struct dec *x, uint32_t i)
{
	struct memo *m;

	if (i == 0 || i >= x->dict.n_functions)
		return 0;
	m = &x->m_fn[i];
	if (m->gen != x->gen) {
		const struct otlp_func *f = &x->dict.functions[i];
		struct prof_function pf = {.name = str_id(x, f->name),
					   .system_name = str_id(x, f->system_name),
					   .filename = str_id(x, f->filename),
					   .start_line = f->start_line};

		m->gen = x->gen;
		m->id = pf.name || pf.system_name || pf.filename ? prof_add_function(x->p, &pf) : 0;
	}
	return m->id;
}

/* The build id of a mapping: its first process.executable.build_id.* string attribute. */
static uint32_t mapping_build_id(struct dec *x, const struct otlp_mapping *mp)
{
	struct otlp_ints it;
	uint64_t v;

	otlp_ints_init(&it, mp->msg, 5);
	while (otlp_ints_next(&it, &v) == 1) {
		const struct otlp_attr *a;
		struct otlp_span key;
		struct otlp_value val;

		if (v == 0 || v >= x->dict.n_attrs)
			continue;
		a = &x->dict.attrs[v];
		key = dstr(x, a->key);
		if (key.n < 27 || memcmp(key.p, "process.executable.build_id", 27))
			continue;
		if (otlp_any_value(&x->dict, a->value, &val, NULL, "") == 0 &&
		    val.kind == OTLP_VALUE_STR && val.str.n)
			return prof_intern(x->p, val.str.p, val.str.n);
	}
	return 0;
}

static uint32_t mapping_id(struct dec *x, uint32_t i)
{
	struct memo *m;

	if (i == 0 || i >= x->dict.n_mappings)
		return 0;
	m = &x->m_map[i];
	if (m->gen != x->gen) {
		const struct otlp_mapping *mp = &x->dict.mappings[i];
		struct prof_mapping pm = {.memory_start = mp->start,
					  .memory_limit = mp->limit,
					  .file_offset = mp->offset,
					  .filename = str_id(x, mp->filename)};

		pm.build_id = mapping_build_id(x, mp);
		m->gen = x->gen;
		m->id = prof_add_mapping(x->p, &pm);
	}
	return m->id;
}

/* Location i of the dictionary (lines already checked by otlp_dict.c). */
static uint32_t location_id(struct dec *x, uint32_t i)
{
	static const struct otlp_location zero;
	const struct otlp_location *l = i < x->dict.n_locations ? &x->dict.locations[i] : &zero;
	struct memo *m = i < x->dict.n_locations ? &x->m_loc[i] : NULL;
	struct wire_reader r;
	uint32_t f, n = 0;
	enum wire_type wt;
	const uint8_t *p;
	size_t len;

	if (m && m->gen == x->gen)
		return m->id;
	mem_grow(MEM_FORMAT, (void **)&x->lines, &x->cap_lines, l->n_lines + 1, sizeof(*x->lines));
	wire_reader_init(&r, l->msg.p, l->msg.n);
	while (!wire_eof(&r) && wire_read_tag(&r, &f, &wt) == 0) {
		if (f != 3 || wt != WIRE_LEN) {
			if (wire_skip(&r, wt))
				break;
			continue;
		}
		if (wire_read_len(&r, &p, &len) || n >= l->n_lines)
			break;
		struct wire_reader lr;
		struct prof_line *pl = &x->lines[n++];
		uint64_t v;

		memset(pl, 0, sizeof(*pl));
		wire_reader_init(&lr, p, len);
		while (!wire_eof(&lr) && wire_read_tag(&lr, &f, &wt) == 0) {
			if (wt != WIRE_VARINT) {
				if (wire_skip(&lr, wt))
					break;
				continue;
			}
			if (wire_read_varint(&lr, &v))
				break;
			if (f == 1)
				pl->function = func_id(x, (uint32_t)v);
			else if (f == 2)
				pl->line = (int64_t)v;
			else if (f == 3)
				pl->column = (int64_t)v;
		}
	}
	uint32_t id =
		prof_add_location(x->p, mapping_id(x, l->mapping), l->address, x->lines, n, false);
	if (m) {
		m->gen = x->gen;
		m->id = id;
	}
	return id;
}

/* --- samples ------------------------------------------------------------------------------- */

static const char hexd[] = "0123456789abcdef";

/* Sample attributes and link as prof labels; returns the label set id. */
static int sample_labels(struct dec *x, struct otlp_span msg, uint64_t link, const char *path,
			 uint32_t *out)
{
	struct prof_label pl[OTLP_MAX_SAMPLE_ATTRS + 1];
	struct otlp_ints it;
	const struct otlp_attr *a;
	struct otlp_value val;
	size_t n = 0;
	int st, err;

	otlp_ints_init(&it, msg, 2);
	while ((st = next_attr(x, &it, path, &a, &val)) == 1) {
		if (n >= OTLP_MAX_SAMPLE_ATTRS)
			return ember_diag_set(x->d, -EMBER_ELIMIT,
					      "%s.attribute_indices: more than %d", path,
					      OTLP_MAX_SAMPLE_ATTRS);
		memset(&pl[n], 0, sizeof(pl[n]));
		pl[n].key = str_id(x, a->key);
		if (!pl[n].key)
			continue;
		if (val.kind == OTLP_VALUE_INT) {
			pl[n].num = val.i;
			pl[n].num_unit = str_id(x, a->unit);
		} else if (val.kind == OTLP_VALUE_STR) {
			pl[n].str = prof_intern(x->p, val.str.p, val.str.n);
		} else if (val.kind != OTLP_VALUE_NONE) {
			char t[64];
			size_t tl = otlp_value_text(&val, t, sizeof(t));

			pl[n].str = prof_intern(x->p, t, tl);
		} else {
			continue;
		}
		if (pl[n].str || val.kind == OTLP_VALUE_INT)
			n++;
	}
	if (st < 0)
		return st;
	if ((err = otlp_check_index(link, x->dict.n_links, "link_table", x->d, "%s.link_index",
				    path)))
		return err;
	if (link && x->dict.links[link].span_id.n == 8) {
		const uint8_t *s = x->dict.links[link].span_id.p;
		char hex[16];
		int nz = 0;

		for (int i = 0; i < 8; i++) {
			hex[2 * i] = hexd[s[i] >> 4];
			hex[2 * i + 1] = hexd[s[i] & 15];
			nz |= s[i];
		}
		if (nz) {
			memset(&pl[n], 0, sizeof(pl[n]));
			pl[n].key = prof_intern_cstr(x->p, "span_id");
			pl[n++].str = prof_intern(x->p, hex, 16);
		}
	}
	*out = prof_add_labelset(x->p, pl, n);
	return 0;
}

static int add_sample(struct dec *x, struct otlp_span msg, int64_t mult, const char *ppath,
		      size_t si)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	uint64_t v, stack = 0, link = 0;
	size_t nv = 0, nt = 0;
	int64_t sum = 0;
	const uint8_t *p;
	size_t n;
	char path[220];
	int err;

	snprintf(path, sizeof(path), "%.160s.samples[%zu]", ppath, si);
	wire_reader_init(&r, msg.p, msg.n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return otlp_malformed(x->d, path);
		err = 0;
		if ((f == 1 || f == 3) && wt == WIRE_VARINT) {
			err = wire_read_varint(&r, f == 1 ? &stack : &link);
		} else if (f == 4 && (wt == WIRE_VARINT || wt == WIRE_LEN)) {
			struct wire_reader pr = r;

			if (wt == WIRE_LEN) {
				if (wire_read_len(&r, &p, &n))
					return otlp_malformed(x->d, path);
				pr = wire_sub(&r, p, n);
			}
			do {
				if (wire_read_varint(wt == WIRE_LEN ? &pr : &r, &v))
					return otlp_malformed(x->d, path);
				if (__builtin_add_overflow(sum, (int64_t)v, &sum))
					return ember_diag_set(x->d, -EMBER_EFORMAT,
							      "%s.values: sum overflows", path);
				nv++;
			} while (wt == WIRE_LEN && !wire_eof(&pr));
		} else if (f == 5 && wt == WIRE_I64) {
			err = wire_read_fixed64(&r, &v);
			nt++;
		} else if (f == 5 && wt == WIRE_LEN) {
			err = wire_read_len(&r, &p, &n);
			if (!err && n % 8)
				return ember_diag_set(x->d, -EMBER_EFORMAT,
						      "%s.timestamps_unix_nano: %zu bytes, not a "
						      "multiple of 8",
						      path, n);
			nt += n / 8;
		} else if (f <= 5 && f != 2) {
			return ember_diag_set(x->d, -EMBER_EFORMAT, "%s: field %u: wrong wire type",
					      path, f);
		} else {
			err = wire_skip(&r, wt);
		}
		if (err)
			return otlp_malformed(x->d, path);
	}
	if (nv == 0 && nt == 0)
		return ember_diag_set(x->d, -EMBER_EFORMAT, "%s: neither values nor timestamps",
				      path);
	if (nv && nt && nv != nt)
		return ember_diag_set(x->d, -EMBER_EFORMAT,
				      "%s: %zu values but %zu timestamps (must be equal)", path, nv,
				      nt);
	if (!nv)
		sum = (int64_t)nt;
	if (__builtin_mul_overflow(sum, mult, &sum))
		return ember_diag_set(x->d, -EMBER_EFORMAT, "%s: value × period overflows", path);
	if (++x->n_samples > x->lim.max_samples)
		return ember_diag_set(x->d, -EMBER_ELIMIT, "more than %zu samples in the request",
				      x->lim.max_samples);
	if ((err = otlp_check_index(stack, x->dict.n_stacks, "stack_table", x->d, "%s.stack_index",
				    path)))
		return err;

	uint32_t depth = stack < x->dict.n_stacks ? x->dict.stack_len[stack] : 0, k = 0, ls = 0;
	if (depth > x->lim.max_stack_depth)
		return ember_diag_set(x->d, -EMBER_ELIMIT,
				      "%s: stack_table[%" PRIu64 "] has %u locations (limit %zu)",
				      path, stack, depth, x->lim.max_stack_depth);
	if (depth) {
		struct otlp_ints it;

		otlp_ints_init(&it, x->dict.stacks[stack], 1);
		while (k < depth && otlp_ints_next(&it, &v) == 1)
			x->stack[k++] = location_id(x, (uint32_t)v);
	}
	if ((err = sample_labels(x, msg, link, path, &ls)))
		return err;
	prof_add_sample(x->p, prof_add_stack(x->p, x->stack, k), ls, &sum);
	return 0;
}

/* --- profiles ------------------------------------------------------------------------------ */

static void value_type(struct otlp_span m, uint32_t *type, uint32_t *unit, int *bad)
{
	struct otlp_ints it;
	uint64_t v;

	*type = *unit = 0;
	for (uint32_t f = 1; f <= 2; f++) {
		otlp_ints_init(&it, m, f);
		while (otlp_ints_next(&it, &v) == 1) {
			if (v > INT32_MAX)
				*bad = 1;
			*(f == 1 ? type : unit) = (uint32_t)v;
		}
	}
}

/* __name__ from the sample type, as Pyroscope's ingest names profiles. */
static const char *profile_name(struct otlp_span type)
{
	char t[64];
	size_t n = EMBER_MIN(type.n, sizeof(t) - 1);

	memcpy(t, type.p, n);
	t[n] = 0;
	if (strstr(t, "off_cpu"))
		return "off_cpu";
	if (strstr(t, "cpu") || !strcmp(t, "samples"))
		return "process_cpu";
	if (!strcmp(t, "wall"))
		return "wall";
	if (!strncmp(t, "alloc", 5) || !strncmp(t, "inuse", 5) || !strcmp(t, "space") ||
	    !strcmp(t, "objects"))
		return "memory";
	if (!strncmp(t, "goroutine", 9))
		return "goroutines";
	if (!strncmp(t, "mutex", 5) || !strncmp(t, "lock", 4))
		return "mutex";
	if (!strncmp(t, "block", 5) || !strcmp(t, "contentions") || !strcmp(t, "delay"))
		return "block";
	return NULL;
}

static int push_profile(struct dec *x, const char *name)
{
	struct otlp_profile *op;
	struct otlp_label *labels;
	size_t svc = x->n_labels;

	for (size_t i = 0; i < x->n_labels; i++)
		if (!strcmp(x->labels[i].name, "service_name"))
			svc = i;
	if (svc == x->n_labels && x->n_labels >= x->lim.max_labels)
		return ember_diag_set(x->d, -EMBER_ELIMIT,
				      "more than %zu labels with service_name added",
				      x->lim.max_labels);
	labels = arena_calloc(x->req->arena, x->n_labels + 1, sizeof(*labels));
	if (svc == x->n_labels) {
		const char *exe = NULL;

		for (size_t i = 0; i < x->n_labels; i++)
			if (!strcmp(x->labels[i].name, "process.executable.name"))
				exe = x->labels[i].value;
		labels[0].name = "service_name";
		if (exe) {
			size_t n = strlen(exe) + 17;
			char *s = arena_alloc(x->req->arena, n);

			snprintf(s, n, "unknown_service:%s", exe);
			labels[0].value = s;
		} else {
			labels[0].value = "unknown_service";
		}
	} else {
		labels[0] = x->labels[svc];
	}
	for (size_t i = 0, o = 1; i < x->n_labels; i++)
		if (i != svc)
			labels[o++] = x->labels[i];
	mem_grow(MEM_FORMAT, (void **)&x->req->profiles, &x->cap_profiles, x->req->n_profiles + 1,
		 sizeof(*x->req->profiles));
	op = &x->req->profiles[x->req->n_profiles++];
	op->prof = x->p;
	op->name = arena_strndup(x->req->arena, name, strlen(name));
	op->labels = labels;
	op->n_labels = x->n_labels + (svc == x->n_labels);
	x->p = NULL;
	return 0;
}

static int decode_profile(struct dec *x, struct otlp_span msg, struct otlp_span resource,
			  struct otlp_span scope, const char *path)
{
	struct wire_reader r;
	uint32_t f, st_type = 0, st_unit = 0, pt_type = 0, pt_unit = 0;
	enum wire_type wt;
	uint64_t time_ns = 0, duration = 0, period = 0;
	const uint8_t *p;
	size_t n, n_samples = 0;
	int bad = 0, err;
	char name[64];

	if (x->req->n_profiles >= x->lim.max_profiles)
		return ember_diag_set(x->d, -EMBER_ELIMIT, "more than %zu profiles in the request",
				      x->lim.max_profiles);
	wire_reader_init(&r, msg.p, msg.n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return otlp_malformed(x->d, path);
		err = 0;
		if ((f == 1 || f == 5) && wt == WIRE_LEN) {
			err = wire_read_len(&r, &p, &n);
			if (!err)
				value_type((struct otlp_span){p, n}, f == 1 ? &st_type : &pt_type,
					   f == 1 ? &st_unit : &pt_unit, &bad);
		} else if (f == 2 && wt == WIRE_LEN) {
			err = wire_read_len(&r, &p, &n);
			n_samples++;
		} else if (f == 3 && wt == WIRE_I64) {
			err = wire_read_fixed64(&r, &time_ns);
		} else if ((f == 4 || f == 6) && wt == WIRE_VARINT) {
			err = wire_read_varint(&r, f == 4 ? &duration : &period);
		} else if (f <= 6) {
			return ember_diag_set(x->d, -EMBER_EFORMAT, "%s: field %u: wrong wire type",
					      path, f);
		} else {
			err = wire_skip(&r, wt);
		}
		if (err)
			return otlp_malformed(x->d, path);
	}
	if (bad)
		return ember_diag_set(x->d, -EMBER_EFORMAT, "%s: negative string index", path);
	if ((err = otlp_check_index(st_type, x->dict.n_strings, "string_table", x->d,
				    "%s.sample_type.type_strindex", path)) ||
	    (err = otlp_check_index(st_unit, x->dict.n_strings, "string_table", x->d,
				    "%s.sample_type.unit_strindex", path)) ||
	    (err = otlp_check_index(pt_type, x->dict.n_strings, "string_table", x->d,
				    "%s.period_type.type_strindex", path)) ||
	    (err = otlp_check_index(pt_unit, x->dict.n_strings, "string_table", x->d,
				    "%s.period_type.unit_strindex", path)))
		return err;
	if (time_ns > INT64_MAX || duration > INT64_MAX || (int64_t)period < 0)
		return ember_diag_set(x->d, -EMBER_EFORMAT,
				      "%s: time, duration or period out of range", path);

	/* series labels: resource, then scope, then profile attributes */
	x->n_labels = 0;
	if ((err = add_keyvalues(x, resource, 1, "resource")) ||
	    (err = add_keyvalues(x, scope, 3, "scope")) ||
	    (err = add_attr_labels(x, msg, 11, path)))
		return err;

	/* the profile */
	struct otlp_span type = dstr(x, st_type), unit = dstr(x, st_unit);
	struct otlp_span ptype = dstr(x, pt_type), punit = dstr(x, pt_unit);
	const char *pname = profile_name(type);
	int64_t mult = 1;

	x->gen++;
	x->p = prof_new();
	if (span_eq(type, "samples") && span_eq(unit, "count") && span_eq(ptype, "cpu") &&
	    span_eq(punit, "nanoseconds") && period > 0) {
		mult = (int64_t)period;
		prof_add_sample_type(x->p, prof_intern_cstr(x->p, "cpu"),
				     prof_intern_cstr(x->p, "nanoseconds"));
	} else {
		prof_add_sample_type(x->p, str_id(x, st_type), str_id(x, st_unit));
	}
	if (!pname) {
		otlp_label_name((const char *)type.p, EMBER_MIN(type.n, sizeof(name) - 2), name,
				sizeof(name));
		for (char *c = name; *c; c++)
			if (*c == '.')
				*c = '_';
		pname = type.n ? name : "unknown";
	}
	struct prof_meta *m = prof_meta(x->p);
	m->period_type.type = str_id(x, pt_type);
	m->period_type.unit = str_id(x, pt_unit);
	m->period = (int64_t)period;
	m->time_ns = (int64_t)time_ns;
	m->duration_ns = (int64_t)duration;
	prof_reserve(x->p, n_samples, n_samples);

	size_t si = 0;
	wire_reader_init(&r, msg.p, msg.n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			break; /* checked above */
		if (f != 2 || wt != WIRE_LEN) {
			wire_skip(&r, wt);
			continue;
		}
		wire_read_len(&r, &p, &n);
		if ((err = add_sample(x, (struct otlp_span){p, n}, mult, path, si++)))
			return err;
	}
	return push_profile(x, pname);
}

/* Checks the framing of msg (a ResourceProfiles or ScopeProfiles) and finds its field 1 (the
 * resource or the scope, last one wins): it may come after the profiles it applies to. */
static int container_head(struct dec *x, struct otlp_span msg, const char *path,
			  struct otlp_span *head)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;

	*head = (struct otlp_span){NULL, 0};
	wire_reader_init(&r, msg.p, msg.n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return otlp_malformed(x->d, path);
		if (f == 1 && wt == WIRE_LEN) {
			if (wire_read_len(&r, &head->p, &head->n))
				return otlp_malformed(x->d, path);
		} else if (wire_skip(&r, wt)) {
			return otlp_malformed(x->d, path);
		}
	}
	return 0;
}

/* The next field 2 (the repeated children) of a container checked by container_head: 1 and
 * the child, 0 at the end, -1 when a child is not length-delimited. */
static int container_next(struct wire_reader *r, struct otlp_span *child)
{
	uint32_t f;
	enum wire_type wt;

	while (!wire_eof(r)) {
		wire_read_tag(r, &f, &wt);
		if (f != 2) {
			wire_skip(r, wt);
			continue;
		}
		if (wt != WIRE_LEN || wire_read_len(r, &child->p, &child->n))
			return -1;
		return 1;
	}
	return 0;
}

/* A ResourceProfiles (resource NULL: its scope_profiles are decoded with its resource) or a
 * ScopeProfiles of *resource (its profiles are decoded with its scope). */
static int decode_container(struct dec *x, struct otlp_span msg, const struct otlp_span *resource,
			    const char *path)
{
	struct wire_reader r;
	struct otlp_span head, child;
	size_t k = 0;
	char sub[200];
	int err, more;

	if ((err = container_head(x, msg, path, &head)))
		return err;
	wire_reader_init(&r, msg.p, msg.n);
	while ((more = container_next(&r, &child)) > 0) {
		snprintf(sub, sizeof(sub), "%.120s.%s[%zu]", path,
			 resource ? "profiles" : "scope_profiles", k++);
		if (resource)
			err = decode_profile(x, child, *resource, head, sub);
		else
			err = decode_container(x, child, &head, sub);
		if (err)
			return err;
	}
	return more < 0 ? otlp_malformed(x->d, path) : 0;
}

void otlp_request_free(struct otlp_request *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_profiles; i++)
		prof_free(r->profiles[i].prof);
	mem_free(r->profiles);
	arena_free(r->arena);
	mem_free(r);
}

static void limits_fill(struct otlp_limits *l, const struct otlp_limits *in)
{
	memset(l, 0, sizeof(*l));
	if (in)
		*l = *in;
	if (!l->max_profiles)
		l->max_profiles = 1000;
	if (!l->max_table)
		l->max_table = (size_t)1 << 20;
	if (!l->max_samples)
		l->max_samples = (size_t)4 << 20;
	if (!l->max_stack_depth)
		l->max_stack_depth = 4096;
	if (!l->max_labels)
		l->max_labels = 30;
	if (!l->max_label_value_len)
		l->max_label_value_len = 2048;
}

int otlp_decode(const void *data, size_t len, const struct otlp_limits *lim,
		struct otlp_request **out, struct ember_diag *d)
{
	struct otlp_span chunks[OTLP_MAX_DICT_CHUNKS];
	size_t n_chunks = 0, k = 0;
	struct ember_diag local;
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	const uint8_t *p;
	size_t n;
	char path[64];
	struct dec x;
	int err = 0;

	*out = NULL;
	if (!d)
		d = &local;
	d->msg[0] = 0;
	memset(&x, 0, sizeof(x));
	limits_fill(&x.lim, lim);
	x.d = d;
	wire_reader_init(&r, data, len);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "ExportProfilesServiceRequest: malformed protobuf at "
					      "byte %zu",
					      wire_offset(&r));
		if ((f == 1 || f == 2) && wt != WIRE_LEN)
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "ExportProfilesServiceRequest: field %u: wrong wire "
					      "type",
					      f);
		if (f == 2) {
			if (n_chunks >= OTLP_MAX_DICT_CHUNKS)
				return ember_diag_set(d, -EMBER_ELIMIT,
						      "more than %d dictionary fields",
						      OTLP_MAX_DICT_CHUNKS);
			if (wire_read_len(&r, &chunks[n_chunks].p, &chunks[n_chunks].n))
				return otlp_malformed(d, "dictionary");
			n_chunks++;
		} else if (wire_skip(&r, wt)) {
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "ExportProfilesServiceRequest: malformed protobuf at "
					      "byte %zu",
					      wire_offset(&r));
		}
	}
	if ((err = otlp_dict_decode(&x.dict, chunks, n_chunks, x.lim.max_table, d)))
		return err;
	x.req = mem_calloc(MEM_FORMAT, 1, sizeof(*x.req));
	x.req->arena = arena_new(MEM_FORMAT, 16384);
	x.m_str = mem_calloc(MEM_FORMAT, x.dict.n_strings + 1, sizeof(*x.m_str));
	x.m_fn = mem_calloc(MEM_FORMAT, x.dict.n_functions + 1, sizeof(*x.m_fn));
	x.m_map = mem_calloc(MEM_FORMAT, x.dict.n_mappings + 1, sizeof(*x.m_map));
	x.m_loc = mem_calloc(MEM_FORMAT, x.dict.n_locations + 1, sizeof(*x.m_loc));
	x.stack = mem_alloc(MEM_FORMAT, (x.lim.max_stack_depth + 1) * sizeof(*x.stack));
	x.labels = mem_calloc(MEM_FORMAT, x.lim.max_labels + 1, sizeof(*x.labels));
	x.text = mem_alloc(MEM_FORMAT, x.lim.max_label_value_len + 1);

	wire_reader_init(&r, data, len);
	while (!err && !wire_eof(&r)) {
		wire_read_tag(&r, &f, &wt); /* checked by the first pass */
		if (f != 1) {
			wire_skip(&r, wt);
			continue;
		}
		wire_read_len(&r, &p, &n);
		snprintf(path, sizeof(path), "resource_profiles[%zu]", k++);
		err = decode_container(&x, (struct otlp_span){p, n}, NULL, path);
	}
	prof_free(x.p);
	mem_free(x.m_str);
	mem_free(x.m_fn);
	mem_free(x.m_map);
	mem_free(x.m_loc);
	mem_free(x.stack);
	mem_free(x.lines);
	mem_free(x.labels);
	mem_free(x.text);
	otlp_dict_fini(&x.dict);
	if (err) {
		otlp_request_free(x.req);
		return err;
	}
	*out = x.req;
	return 0;
}

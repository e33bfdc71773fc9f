/*
 * otlp_dict.c — the ProfilesDictionary of an OTLP profiles request: counts and decodes its
 * seven tables (mappings, locations, functions, links, strings, attributes, stacks) into flat
 * arrays pointing into the request, then checks every index between them (function names,
 * location mappings and lines, stack locations, attribute keys, units and string values), so
 * the profile builder can follow references without checking again. Also the small helpers
 * the decoder shares: the repeated-varint iterator, index checks and AnyValue reading.
 * Never trusts a count: every table is bounded by max_table and by the input size.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "format/otlp_int.h"

enum {
	T_MAPPING = 1,
	T_LOCATION,
	T_FUNCTION,
	T_LINK,
	T_STRING,
	T_ATTR,
	T_STACK,
	T_N
};

static const char *const table_name[T_N] = {
	"",	      "mapping_table", "location_table",  "function_table",
	"link_table", "string_table",  "attribute_table", "stack_table",
};

int otlp_malformed(struct ember_diag *d, const char *path)
{
	return ember_diag_set(d, -EMBER_EFORMAT, "%s: malformed protobuf", path);
}

int otlp_check_index(uint64_t v, size_t n, const char *table, struct ember_diag *d,
		     const char *path_fmt, ...)
{
	char path[256];
	va_list ap;

	if (v == 0 || v < n)
		return 0;
	va_start(ap, path_fmt);
	vsnprintf(path, sizeof(path), path_fmt, ap);
	va_end(ap);
	if (v > INT32_MAX)
		return ember_diag_set(d, -EMBER_EFORMAT, "%s: negative or too large index %" PRId64,
				      path, (int64_t)v);
	return ember_diag_set(d, -EMBER_EFORMAT,
			      "%s: %" PRIu64 " out of range (%s has %zu entries)", path, v, table,
			      n);
}

void otlp_ints_init(struct otlp_ints *it, struct otlp_span msg, uint32_t field)
{
	wire_reader_init(&it->r, msg.p, msg.n);
	it->field = field;
	wire_reader_init(&it->packed, msg.p, 0);
}

int otlp_ints_next(struct otlp_ints *it, uint64_t *v)
{
	uint32_t f;
	enum wire_type wt;
	const uint8_t *p;
	size_t n;

	for (;;) {
		if (!wire_eof(&it->packed))
			return wire_read_varint(&it->packed, v) ? -EMBER_EFORMAT : 1;
		if (wire_eof(&it->r))
			return 0;
		if (wire_read_tag(&it->r, &f, &wt))
			return -EMBER_EFORMAT;
		if (f != it->field) {
			if (wire_skip(&it->r, wt))
				return -EMBER_EFORMAT;
			continue;
		}
		if (wt == WIRE_VARINT)
			return wire_read_varint(&it->r, v) ? -EMBER_EFORMAT : 1;
		if (wt != WIRE_LEN || wire_read_len(&it->r, &p, &n))
			return -EMBER_EFORMAT;
		it->packed = wire_sub(&it->r, p, n);
	}
}

/* Reads the next field of a message; -1 at the end, -2 on malformed input. */
static int next_field(struct wire_reader *r, uint32_t *f, enum wire_type *wt)
{
	if (wire_eof(r))
		return -1;
	return wire_read_tag(r, f, wt) ? -2 : 0;
}

static int read_uint(struct wire_reader *r, enum wire_type wt, uint64_t *v)
{
	if (wt != WIRE_VARINT)
		return -EMBER_EFORMAT;
	return wire_read_varint(r, v);
}

static int read_span(struct wire_reader *r, enum wire_type wt, struct otlp_span *s)
{
	if (wt != WIRE_LEN)
		return -EMBER_EFORMAT;
	return wire_read_len(r, &s->p, &s->n);
}

/* A string index field: a varint that fits in int32 and is >= 0. */
static int read_index(struct wire_reader *r, enum wire_type wt, uint32_t *out)
{
	uint64_t v;

	if (read_uint(r, wt, &v) || v > INT32_MAX)
		return -EMBER_EFORMAT;
	*out = (uint32_t)v;
	return 0;
}

/* One field of a dictionary table entry, by number: how to read it and where it goes. */
enum field_kind {
	F_UINT,
	F_INDEX,
	F_SPAN,
	F_COUNT /* a uint32_t counting occurrences */
};

struct field {
	uint32_t num;
	enum field_kind kind;
	size_t off;
};

#define FIELD(n, k, type, member)                \
	{                                        \
		(n), (k), offsetof(type, member) \
	}

/* Reads the message m into out by the fields fs (others skipped); -EMBER_EFORMAT if malformed. */
static int decode_fields(struct otlp_span m, void *out, const struct field *fs, size_t n_fs)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	struct otlp_span s;
	int st;

	wire_reader_init(&r, m.p, m.n);
	while ((st = next_field(&r, &f, &wt)) == 0) {
		const struct field *fd = NULL;
		int err;

		for (size_t i = 0; i < n_fs && !fd; i++)
			if (fs[i].num == f)
				fd = &fs[i];
		if (!fd) {
			err = wire_skip(&r, wt);
		} else {
			char *p = (char *)out + fd->off;

			switch (fd->kind) {
			case F_UINT:
				err = read_uint(&r, wt, (uint64_t *)p);
				break;
			case F_INDEX:
				err = read_index(&r, wt, (uint32_t *)p);
				break;
			case F_SPAN:
				err = read_span(&r, wt, (struct otlp_span *)p);
				break;
			default:
				err = read_span(&r, wt, &s);
				(*(uint32_t *)p)++;
			}
		}
		if (err)
			return -EMBER_EFORMAT;
	}
	return st == -1 ? 0 : -EMBER_EFORMAT;
}

static int decode_function(struct otlp_span m, struct otlp_func *fn)
{
	static const struct field fs[] = {
		FIELD(1, F_INDEX, struct otlp_func, name),
		FIELD(2, F_INDEX, struct otlp_func, system_name),
		FIELD(3, F_INDEX, struct otlp_func, filename),
		FIELD(4, F_UINT, struct otlp_func, start_line), /* int64 as its two's complement */
	};

	memset(fn, 0, sizeof(*fn));
	return decode_fields(m, fn, fs, EMBER_ARRAY_SIZE(fs));
}

static int decode_mapping(struct otlp_span m, struct otlp_mapping *mp)
{
	static const struct field fs[] = {
		FIELD(1, F_UINT, struct otlp_mapping, start),
		FIELD(2, F_UINT, struct otlp_mapping, limit),
		FIELD(3, F_UINT, struct otlp_mapping, offset),
		FIELD(4, F_INDEX, struct otlp_mapping, filename),
	};

	memset(mp, 0, sizeof(*mp));
	mp->msg = m;
	return decode_fields(m, mp, fs, EMBER_ARRAY_SIZE(fs));
}

static int decode_location(struct otlp_span m, struct otlp_location *l)
{
	static const struct field fs[] = {
		FIELD(1, F_INDEX, struct otlp_location, mapping),
		FIELD(2, F_UINT, struct otlp_location, address),
		FIELD(3, F_COUNT, struct otlp_location, n_lines),
	};

	memset(l, 0, sizeof(*l));
	l->msg = m;
	return decode_fields(m, l, fs, EMBER_ARRAY_SIZE(fs));
}

static int decode_attr(struct otlp_span m, struct otlp_attr *a)
{
	static const struct field fs[] = {
		FIELD(1, F_INDEX, struct otlp_attr, key),
		FIELD(2, F_SPAN, struct otlp_attr, value),
		FIELD(3, F_INDEX, struct otlp_attr, unit),
	};

	memset(a, 0, sizeof(*a));
	return decode_fields(m, a, fs, EMBER_ARRAY_SIZE(fs));
}

static int decode_link(struct otlp_span m, struct otlp_link *l)
{
	static const struct field fs[] = {
		FIELD(1, F_SPAN, struct otlp_link, trace_id),
		FIELD(2, F_SPAN, struct otlp_link, span_id),
	};

	memset(l, 0, sizeof(*l));
	return decode_fields(m, l, fs, EMBER_ARRAY_SIZE(fs));
}

/* Lines of a location: function indices in range. */
static int check_lines(const struct otlp_dict *dict, size_t li, struct ember_diag *d)
{
	const struct otlp_location *l = &dict->locations[li];
	struct wire_reader r;
	uint32_t f, k = 0;
	enum wire_type wt;
	struct otlp_span s;
	int st, err;

	wire_reader_init(&r, l->msg.p, l->msg.n);
	while ((st = next_field(&r, &f, &wt)) == 0) {
		if (f != 3) {
			if (wire_skip(&r, wt))
				return -EMBER_EFORMAT;
			continue;
		}
		if (read_span(&r, wt, &s))
			return -EMBER_EFORMAT;
		struct wire_reader lr;
		uint32_t lf;
		enum wire_type lwt;
		uint64_t v;
		int lst;

		wire_reader_init(&lr, s.p, s.n);
		while ((lst = next_field(&lr, &lf, &lwt)) == 0) {
			if (lf == 1 || lf == 2 || lf == 3) {
				if (read_uint(&lr, lwt, &v))
					return otlp_malformed(d,
							      "dictionary.location_table: lines");
				if (lf == 1 && (err = otlp_check_index(
							v, dict->n_functions, "function_table", d,
							"dictionary.location_table[%zu].lines[%u]."
							"function_index",
							li, k)))
					return err;
			} else if (wire_skip(&lr, lwt)) {
				return -EMBER_EFORMAT;
			}
		}
		if (lst != -1)
			return -EMBER_EFORMAT;
		k++;
	}
	return st == -1 ? 0 : -EMBER_EFORMAT;
}

/* attribute_indices (field) of a message in range. */
static int check_attr_indices(const struct otlp_dict *dict, struct otlp_span m, uint32_t field,
			      const char *what, size_t i, struct ember_diag *d)
{
	struct otlp_ints it;
	uint64_t v;
	int st, err;

	otlp_ints_init(&it, m, field);
	while ((st = otlp_ints_next(&it, &v)) == 1)
		if ((err = otlp_check_index(v, dict->n_attrs, "attribute_table", d,
					    "dictionary.%s[%zu].attribute_indices", what, i)))
			return err;
	if (st < 0)
		return ember_diag_set(d, -EMBER_EFORMAT,
				      "dictionary.%s[%zu].attribute_indices: malformed", what, i);
	return 0;
}

int otlp_any_value(const struct otlp_dict *dict, struct otlp_span msg, struct otlp_value *out,
		   struct ember_diag *d, const char *path)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	uint64_t v;
	int st, err;

	memset(out, 0, sizeof(*out));
	if (!msg.p)
		return 0;
	wire_reader_init(&r, msg.p, msg.n);
	while ((st = next_field(&r, &f, &wt)) == 0) {
		err = 0;
		switch (f) {
		case 1:
			err = read_span(&r, wt, &out->str);
			out->kind = OTLP_VALUE_STR;
			break;
		case 2:
			err = read_uint(&r, wt, &v);
			out->kind = OTLP_VALUE_BOOL;
			out->i = v != 0;
			break;
		case 3:
			err = read_uint(&r, wt, &v);
			out->kind = OTLP_VALUE_INT;
			out->i = (int64_t)v;
			break;
		case 4:
			if (wt != WIRE_I64) {
				err = -EMBER_EFORMAT;
				break;
			}
			err = wire_read_fixed64(&r, &v);
			memcpy(&out->f, &v, sizeof(v));
			out->kind = OTLP_VALUE_DOUBLE;
			break;
		case 8:
			err = read_uint(&r, wt, &v);
			if (err)
				break;
			if (v != 0 && (v > INT32_MAX || v >= dict->n_strings))
				return ember_diag_set(
					d, -EMBER_EFORMAT,
					"%s.string_value_strindex: %" PRIu64
					" out of range (string_table has %zu entries)",
					path, v, dict->n_strings);
			out->kind = OTLP_VALUE_STR;
			if (v)
				out->str = dict->strings[v];
			else
				out->str = (struct otlp_span){(const uint8_t *)"", 0};
			break;
		default: /* array, kvlist, bytes: no scalar text */
			err = wire_skip(&r, wt);
			out->kind = OTLP_VALUE_NONE;
		}
		if (err)
			return otlp_malformed(d, path);
	}
	return st == -1 ? 0 : otlp_malformed(d, path);
}

size_t otlp_value_text(const struct otlp_value *v, char *out, size_t cap)
{
	int n = 0;

	switch (v->kind) {
	case OTLP_VALUE_STR:
		n = (int)EMBER_MIN(v->str.n, cap - 1);
		memcpy(out, v->str.p, (size_t)n);
		out[n] = 0;
		return (size_t)n;
	case OTLP_VALUE_INT:
		n = snprintf(out, cap, "%" PRId64, v->i);
		break;
	case OTLP_VALUE_BOOL:
		n = snprintf(out, cap, "%s", v->i ? "true" : "false");
		break;
	case OTLP_VALUE_DOUBLE:
		n = snprintf(out, cap, "%.17g", v->f);
		break;
	default:
		out[0] = 0;
		return 0;
	}
	return n < 0 ? 0 : EMBER_MIN((size_t)n, cap - 1);
}

/* Cross-references between the tables. */
static int check_dict(struct otlp_dict *dict, struct ember_diag *d)
{
	size_t ns = dict->n_strings;
	int err;

	for (size_t i = 0; i < dict->n_functions; i++) {
		const struct otlp_func *fn = &dict->functions[i];

		if ((err = otlp_check_index(fn->name, ns, "string_table", d,
					    "dictionary.function_table[%zu].name_strindex", i)) ||
		    (err = otlp_check_index(fn->system_name, ns, "string_table", d,
					    "dictionary.function_table[%zu].system_name_strindex",
					    i)) ||
		    (err = otlp_check_index(fn->filename, ns, "string_table", d,
					    "dictionary.function_table[%zu].filename_strindex", i)))
			return err;
	}
	for (size_t i = 0; i < dict->n_attrs; i++) {
		const struct otlp_attr *a = &dict->attrs[i];
		struct otlp_value v;
		char path[64];

		if ((err = otlp_check_index(a->key, ns, "string_table", d,
					    "dictionary.attribute_table[%zu].key_strindex", i)) ||
		    (err = otlp_check_index(a->unit, ns, "string_table", d,
					    "dictionary.attribute_table[%zu].unit_strindex", i)))
			return err;
		snprintf(path, sizeof(path), "dictionary.attribute_table[%zu].value", i);
		if ((err = otlp_any_value(dict, a->value, &v, d, path)))
			return err;
	}
	for (size_t i = 0; i < dict->n_mappings; i++) {
		if ((err = otlp_check_index(dict->mappings[i].filename, ns, "string_table", d,
					    "dictionary.mapping_table[%zu].filename_strindex",
					    i)) ||
		    (err = check_attr_indices(dict, dict->mappings[i].msg, 5, "mapping_table", i,
					      d)))
			return err;
	}
	for (size_t i = 0; i < dict->n_locations; i++) {
		if ((err = otlp_check_index(dict->locations[i].mapping, dict->n_mappings,
					    "mapping_table", d,
					    "dictionary.location_table[%zu].mapping_index", i)) ||
		    (err = check_attr_indices(dict, dict->locations[i].msg, 4, "location_table", i,
					      d)))
			return err;
		if ((err = check_lines(dict, i, d)))
			return err == -EMBER_EFORMAT && !d->msg[0]
				       ? otlp_malformed(d, "dictionary.location_table")
				       : err;
	}
	for (size_t i = 0; i < dict->n_stacks; i++) {
		struct otlp_ints it;
		uint64_t v;
		uint32_t n = 0;
		int st;

		otlp_ints_init(&it, dict->stacks[i], 1);
		while ((st = otlp_ints_next(&it, &v)) == 1) {
			if ((err = otlp_check_index(v, dict->n_locations, "location_table", d,
						    "dictionary.stack_table[%zu].location_indices",
						    i)))
				return err;
			n++;
		}
		if (st < 0)
			return otlp_malformed(d, "dictionary.stack_table");
		dict->stack_len[i] = n;
	}
	return 0;
}

int otlp_dict_decode(struct otlp_dict *dict, const struct otlp_span *chunks, size_t n_chunks,
		     size_t max_table, struct ember_diag *d)
{
	size_t count[T_N] = {0}, at[T_N] = {0};
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	struct otlp_span s;
	int st, err = 0;

	memset(dict, 0, sizeof(*dict));
	d->msg[0] = 0;
	for (size_t c = 0; c < n_chunks; c++) {
		wire_reader_init(&r, chunks[c].p, chunks[c].n);
		while ((st = next_field(&r, &f, &wt)) == 0) {
			if (f >= T_MAPPING && f < T_N) {
				if (read_span(&r, wt, &s))
					return otlp_malformed(d, "dictionary");
				if (++count[f] > max_table)
					return ember_diag_set(
						d, -EMBER_ELIMIT,
						"dictionary.%s: more than %zu entries",
						table_name[f], max_table);
			} else if (wire_skip(&r, wt)) {
				return otlp_malformed(d, "dictionary");
			}
		}
		if (st != -1)
			return otlp_malformed(d, "dictionary");
	}
	dict->n_mappings = count[T_MAPPING];
	dict->n_locations = count[T_LOCATION];
	dict->n_functions = count[T_FUNCTION];
	dict->n_links = count[T_LINK];
	dict->n_strings = count[T_STRING];
	dict->n_attrs = count[T_ATTR];
	dict->n_stacks = count[T_STACK];
	dict->mappings = mem_calloc(MEM_FORMAT, dict->n_mappings + 1, sizeof(*dict->mappings));
	dict->locations = mem_calloc(MEM_FORMAT, dict->n_locations + 1, sizeof(*dict->locations));
	dict->functions = mem_calloc(MEM_FORMAT, dict->n_functions + 1, sizeof(*dict->functions));
	dict->links = mem_calloc(MEM_FORMAT, dict->n_links + 1, sizeof(*dict->links));
	dict->strings = mem_calloc(MEM_FORMAT, dict->n_strings + 1, sizeof(*dict->strings));
	dict->attrs = mem_calloc(MEM_FORMAT, dict->n_attrs + 1, sizeof(*dict->attrs));
	dict->stacks = mem_calloc(MEM_FORMAT, dict->n_stacks + 1, sizeof(*dict->stacks));
	dict->stack_len = mem_calloc(MEM_FORMAT, dict->n_stacks + 1, sizeof(*dict->stack_len));

	for (size_t c = 0; c < n_chunks && !err; c++) {
		wire_reader_init(&r, chunks[c].p, chunks[c].n);
		while (!err && next_field(&r, &f, &wt) == 0) {
			if (f < T_MAPPING || f >= T_N) {
				wire_skip(&r, wt); /* checked by the counting pass */
				continue;
			}
			read_span(&r, wt, &s);
			size_t i = at[f]++;
			switch (f) {
			case T_MAPPING:
				err = decode_mapping(s, &dict->mappings[i]);
				break;
			case T_LOCATION:
				err = decode_location(s, &dict->locations[i]);
				break;
			case T_FUNCTION:
				err = decode_function(s, &dict->functions[i]);
				break;
			case T_LINK:
				err = decode_link(s, &dict->links[i]);
				break;
			case T_STRING:
				dict->strings[i] = s;
				break;
			case T_ATTR:
				err = decode_attr(s, &dict->attrs[i]);
				break;
			case T_STACK:
				dict->stacks[i] = s;
				break;
			}
			if (err)
				ember_diag_set(d, -EMBER_EFORMAT, "dictionary.%s[%zu]: malformed",
					       table_name[f], i);
		}
	}
	if (!err)
		err = check_dict(dict, d);
	if (err)
		otlp_dict_fini(dict);
	return err;
}

void otlp_dict_fini(struct otlp_dict *dict)
{
	mem_free(dict->mappings);
	mem_free(dict->locations);
	mem_free(dict->functions);
	mem_free(dict->links);
	mem_free(dict->strings);
	mem_free(dict->attrs);
	mem_free(dict->stacks);
	mem_free(dict->stack_len);
	memset(dict, 0, sizeof(*dict));
}

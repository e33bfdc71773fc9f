/*
 * pprof_parse.c — phase 1 of the pprof decoder: one scan of the top-level message recording
 * where every table entry lies, then parsing and validating the tables and samples into scratch
 * arrays (string references in range, ids nonzero and unique, every reference resolvable), with
 * messages that name the field and the byte offset. Reads the input only; owns nothing beyond
 * the decoder's scratch (struct pdec, freed by pprof_decode.c). Every byte is hostile.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "base/wire.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "format/pprof_int.h"

#include "format/pprof_dec_int.h"

/* One field key as read, for messages. */
struct ptag {
	uint32_t field;
	int wt;
	const uint8_t *at;
	const char *msg; /* the message type being read, e.g. "Sample" */
};

/* Error paths are cold: keeping them out of line keeps the readers below small enough to inline. */
#define COLD __attribute__((cold, noinline))

int pdec_fail(struct pdec *c, int err, const char *fmt, ...)
{
	char msg[sizeof(c->d->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ember_diag_set(c->d, err, "pprof: %s", msg);
}

static COLD int oom(struct pdec *c)
{
	return pdec_fail(c, -ENOMEM, "out of memory decoding a %zu-byte profile", c->len);
}

static size_t at(const struct pdec *c, const uint8_t *p)
{
	return (size_t)(p - c->base);
}

/* Scratch arrays are sized by the input: allocation may fail and must not abort. */
int pdec_grow(struct pdec *c, void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 4 / elem)
			return oom(c);
		n *= 2;
	}
	p = mem_try_realloc(MEM_FORMAT, *arr, n * elem);
	if (!p)
		return oom(c);
	*arr = p;
	*cap = n;
	return 0;
}

static int alloc_array(struct pdec *c, void **arr, size_t n, size_t elem, int fill)
{
	if (n > SIZE_MAX / elem)
		return oom(c);
	*arr = mem_try_alloc(MEM_FORMAT, EMBER_MAX(n * elem, 1));
	if (!*arr)
		return oom(c);
	if (fill != PDEC_NO_FILL)
		memset(*arr, fill, n * elem);
	return 0;
}

int pdec_alloc_all(struct pdec *c, const struct alloc_spec *a, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		rc = alloc_array(c, a[i].arr, a[i].n, a[i].elem, a[i].fill);
	return rc;
}

/* ---- wire-level reading with precise messages ---- */

static COLD int varint_fail(struct pdec *c, const uint8_t *p, const uint8_t *end, const char *msg)
{
	size_t n = 0;

	while (p + n < end && (p[n] & 0x80) && n < 10)
		n++;
	if (p + n >= end)
		return pdec_fail(c, -EMBER_EFORMAT, "truncated varint at byte %zu in %s", at(c, p),
				 msg);
	return pdec_fail(c, -EMBER_EFORMAT, "overlong varint at byte %zu in %s", at(c, p), msg);
}

static inline int rd_varint(struct pdec *c, struct wire_reader *r, uint64_t *v, const char *msg)
{
	const uint8_t *p = r->p;

	if (pprof_varint(r, v) == 0)
		return 0;
	return varint_fail(c, p, r->end, msg);
}

static COLD int rd_tag_slow(struct pdec *c, struct wire_reader *r, struct ptag *t, const char *msg)
{
	uint64_t key;
	int rc;

	rc = rd_varint(c, r, &key, msg);
	if (rc)
		return rc;
	t->wt = (int)(key & 7);
	if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return pdec_fail(c, -EMBER_EFORMAT,
				 "invalid field number %" PRIu64 " at byte %zu in %s", key >> 3,
				 at(c, t->at), msg);
	t->field = (uint32_t)(key >> 3);
	if (t->wt != WIRE_VARINT && t->wt != WIRE_I64 && t->wt != WIRE_LEN && t->wt != WIRE_I32)
		return pdec_fail(c, -EMBER_EFORMAT,
				 "unsupported wire type %d for field %u at byte %zu in %s", t->wt,
				 t->field, at(c, t->at), msg);
	return 0;
}

/* Every field number in profile.proto fits a one-byte key: that case is inline. The mask
 * 0x27 holds wire types 0, 1, 2 and 5 (varint, fixed64, length-delimited, fixed32). */
static inline int rd_tag(struct pdec *c, struct wire_reader *r, struct ptag *t, const char *msg)
{
	const uint8_t *p = r->p;

	t->at = p;
	t->msg = msg;
	if (p < r->end && *p < 0x80 && (*p >> 3) != 0 && ((1u << (*p & 7)) & 0x27u)) {
		t->field = *p >> 3;
		t->wt = *p & 7;
		r->p = p + 1;
		return 0;
	}
	return rd_tag_slow(c, r, t, msg);
}

static COLD int bad_wt(struct pdec *c, const struct ptag *t)
{
	return pdec_fail(c, -EMBER_EFORMAT, "wrong wire type %d for field %u of %s at byte %zu",
			 t->wt, t->field, t->msg, at(c, t->at));
}

static inline int rd_len(struct pdec *c, struct wire_reader *r, const struct ptag *t,
			 const uint8_t **p, size_t *n)
{
	const uint8_t *lp = r->p;
	uint64_t v;
	int rc;

	if (t->wt != WIRE_LEN)
		return bad_wt(c, t);
	rc = rd_varint(c, r, &v, t->msg);
	if (rc)
		return rc;
	if (v > (uint64_t)(r->end - r->p))
		return pdec_fail(c, -EMBER_EFORMAT,
				 "length %" PRIu64
				 " of field %u of %s at byte %zu runs past the end "
				 "(%zu bytes left)",
				 v, t->field, t->msg, at(c, lp), (size_t)(r->end - r->p));
	*p = r->p;
	*n = (size_t)v;
	r->p += v;
	return 0;
}

static inline int rd_scalar(struct pdec *c, struct wire_reader *r, const struct ptag *t,
			    uint64_t *v)
{
	if (t->wt != WIRE_VARINT)
		return bad_wt(c, t);
	return rd_varint(c, r, v, t->msg);
}

/* Unknown fields are skipped, whatever their (valid) wire type. */
static int skip(struct pdec *c, struct wire_reader *r, const struct ptag *t)
{
	const uint8_t *p = NULL;
	uint64_t v;
	size_t n, need;

	switch (t->wt) {
	case WIRE_VARINT:
		return rd_varint(c, r, &v, t->msg);
	case WIRE_LEN:
		return rd_len(c, r, t, &p, &n);
	default:
		need = t->wt == WIRE_I64 ? 8 : 4;
		if ((size_t)(r->end - r->p) < need)
			return pdec_fail(c, -EMBER_EFORMAT,
					 "truncated fixed%zu field %u at byte %zu in %s", need * 8,
					 t->field, at(c, t->at), t->msg);
		r->p += need;
		return 0;
	}
}

static struct wire_reader sub_reader(const struct pdec *c, struct span sp)
{
	struct wire_reader r = {c->base + sp.off, c->base + sp.off + sp.len, c->base};

	return r;
}

/* ---- id maps ---- */

void pdec_idmap_fini(struct idmap *m)
{
	mem_free(m->dense);
	m->dense = NULL;
	hmap_fini(&m->sparse);
}

/* Table index + 1 for a file id, 0 when unknown (id 0 is always unknown). */
static inline uint32_t idmap_get(const struct idmap *m, uint64_t id)
{
	uint64_t v;

	if (id - 1 < m->n_dense)
		return m->dense[id - 1];
	if (id == UINT64_MAX)
		return m->max_id_val;
	if (id == 0 || !hmap_get(&m->sparse, id, &v))
		return 0;
	return (uint32_t)v;
}

/* Adds id -> val; returns the previous holder (0 = none, added). */
static uint32_t idmap_add(struct idmap *m, uint64_t id, uint32_t val)
{
	uint64_t *slot;
	bool found;

	if (id - 1 < m->n_dense) {
		if (m->dense[id - 1])
			return m->dense[id - 1];
		m->dense[id - 1] = val;
		return 0;
	}
	if (id == UINT64_MAX) {
		if (m->max_id_val)
			return m->max_id_val;
		m->max_id_val = val;
		return 0;
	}
	slot = hmap_upsert(&m->sparse, id, val, &found);
	return found ? (uint32_t)*slot : 0;
}

/* ---- phase 1: the top-level scan ---- */

static int push_span(struct pdec *c, struct spans *s, const uint8_t *p, size_t n)
{
	/* The first room scales with the input (an entry takes at least two bytes), so big
	 * tables grow once or twice rather than from 16: a function takes 10-20 bytes, a
	 * location about 20, a string about 40 in Go's profiles. */
	size_t need = s->cap ? s->n + 1 : EMBER_MAX(c->len / 64, (size_t)16);
	int rc = s->n < s->cap ? 0 : pdec_grow(c, (void **)&s->v, &s->cap, need, sizeof(*s->v));

	if (rc)
		return rc;
	s->v[s->n].off = (uint32_t)at(c, p);
	s->v[s->n].len = (uint32_t)n;
	s->n++;
	return 0;
}

static int scan_entry(struct pdec *c, struct wire_reader *r, const struct ptag *t, struct spans *s)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = rd_len(c, r, t, &p, &n);

	return rc ? rc : push_span(c, s, p, n);
}

static int push_comment(struct pdec *c, uint64_t idx, const uint8_t *p)
{
	int rc = pdec_grow(c, (void **)&c->comments, &c->cap_comments, c->n_comments + 1,
			   sizeof(*c->comments));

	if (rc)
		return rc;
	c->comments[c->n_comments].idx = idx;
	c->comments[c->n_comments].off = (uint32_t)at(c, p);
	c->n_comments++;
	return 0;
}

/* Profile.comment: repeated int64, packed or not. */
/* The payload of a repeated scalar field, packed (the WIRE_LEN bytes) or not (the one varint's
 * bytes), so one loop reads both forms. */
static int rd_repeated(struct pdec *c, struct wire_reader *r, const struct ptag *t,
		       const uint8_t **p, size_t *n)
{
	uint64_t v;
	int rc;

	if (t->wt == WIRE_LEN)
		return rd_len(c, r, t, p, n);
	*p = r->p;
	rc = rd_scalar(c, r, t, &v);
	*n = (size_t)(r->p - *p);
	return rc;
}

static int scan_comments(struct pdec *c, struct wire_reader *r, const struct ptag *t)
{
	struct wire_reader pr;
	const uint8_t *p = NULL;
	uint64_t v;
	size_t n = 0;
	int rc;

	rc = rd_repeated(c, r, t, &p, &n);
	if (rc)
		return rc;
	pr.p = p;
	pr.end = p + n;
	pr.base = c->base;
	while (!wire_eof(&pr)) {
		p = pr.p;
		rc = rd_varint(c, &pr, &v, "Profile.comment");
		if (!rc)
			rc = push_comment(c, v, p);
		if (rc)
			return rc;
	}
	return 0;
}

static int scan_sref(struct pdec *c, struct wire_reader *r, const struct ptag *t, struct sref *s)
{
	s->off = (uint32_t)at(c, r->p);
	return rd_scalar(c, r, t, &s->idx);
}

int pdec_scan_profile(struct pdec *c)
{
	struct spans *tables[PPROF_DOC_URL + 1] = {
		[PPROF_SAMPLE_TYPE] = &c->types,	[PPROF_SAMPLE] = &c->samples,
		[PPROF_MAPPING] = &c->mappings,		[PPROF_LOCATION] = &c->locations,
		[PPROF_FUNCTION] = &c->functions,	[PPROF_STRING_TABLE] = &c->strings,
		[PPROF_PERIOD_TYPE] = &c->period_types,
	};
	struct sref *srefs[PPROF_DOC_URL + 1] = {
		[PPROF_DROP_FRAMES] = &c->drop_frames,
		[PPROF_KEEP_FRAMES] = &c->keep_frames,
		[PPROF_DEFAULT_SAMPLE_TYPE] = &c->default_sample_type,
		[PPROF_DOC_URL] = &c->doc_url,
	};
	int64_t *ints[PPROF_DOC_URL + 1] = {
		[PPROF_TIME_NANOS] = &c->time_ns,
		[PPROF_DURATION_NANOS] = &c->duration_ns,
		[PPROF_PERIOD] = &c->period,
	};
	struct wire_reader r = {c->base, c->base + c->len, c->base};
	struct ptag t;
	uint64_t v;
	int rc;

	while (!wire_eof(&r)) {
		const uint8_t *kp = r.p;

		/* Fastest path, while the entries end PDEC_MARGIN before the input: table entries
		 * with a one-byte key, read with pprof_varint_nocheck, a run of one table's entries
		 * (writers put each table's together) in an inner loop that keeps its array in
		 * registers. */
		while (kp < c->safe_end && (*kp & 7) == WIRE_LEN && *kp < 0x80 &&
		       tables[*kp >> 3]) {
			const uint8_t key = *kp;
			struct spans *s = tables[key >> 3];
			struct span *sv = s->v;
			size_t n = s->n, cap = s->cap;
			const uint8_t *q;

			while (kp < c->safe_end && *kp == key && n < cap &&
			       (q = pprof_varint_nocheck(kp + 1, &v)) &&
			       v <= (uint64_t)(r.end - q)) {
				sv[n].off = (uint32_t)at(c, q);
				sv[n].len = (uint32_t)v;
				n++;
				kp = q + v;
			}
			s->n = n;
			if (kp < c->safe_end && *kp == key)
				break; /* no room, or a bad length: the paths below */
		}
		r.p = kp;
		if (wire_eof(&r))
			break;
		/* Fast path: a table entry with a one-byte key and a length that fits. */
		if ((*kp & 7) == WIRE_LEN && *kp < 0x80 && tables[*kp >> 3]) {
			struct spans *s = tables[*kp >> 3];

			r.p = kp + 1;
			if (pprof_varint(&r, &v) == 0 && v <= (uint64_t)(r.end - r.p)) {
				if (s->n < s->cap) {
					s->v[s->n].off = (uint32_t)at(c, r.p);
					s->v[s->n].len = (uint32_t)v;
					s->n++;
				} else if ((rc = push_span(c, s, r.p, (size_t)v)) != 0) {
					return rc;
				}
				r.p += v;
				continue;
			}
			r.p = kp;
		}
		rc = rd_tag(c, &r, &t, "Profile");
		if (rc)
			return rc;
		if (t.field > PPROF_DOC_URL)
			rc = skip(c, &r, &t);
		else if (tables[t.field])
			rc = scan_entry(c, &r, &t, tables[t.field]);
		else if (srefs[t.field])
			rc = scan_sref(c, &r, &t, srefs[t.field]);
		else if (t.field == PPROF_COMMENT)
			rc = scan_comments(c, &r, &t);
		else if (!ints[t.field])
			rc = skip(c, &r, &t);
		else if ((rc = rd_scalar(c, &r, &t, &v)) == 0)
			*ints[t.field] = (int64_t)v;
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- phase 1: tables ---- */

static int check_str(struct pdec *c, uint64_t idx, const char *kind, size_t i, const char *what,
		     const uint8_t *p)
{
	char who[64];

	if (idx < c->n_str)
		return 0;
	if (i == SIZE_MAX)
		snprintf(who, sizeof(who), "%s", kind);
	else
		snprintf(who, sizeof(who), "%s %zu", kind, i);
	return pdec_fail(c, -EMBER_EFORMAT,
			 "%s: %s is string %" PRId64
			 " but the string table has %u entries (byte %zu)",
			 who, what, (int64_t)idx, c->n_str, at(c, p));
}

int pdec_check_strings(struct pdec *c)
{
	if (c->strings.n >= NONE)
		return pdec_fail(c, -EMBER_ELIMIT, "%zu strings is too many", c->strings.n);
	/* An absent table reads as {""}: only index 0 can be referenced. */
	c->n_str = c->strings.n ? (uint32_t)c->strings.n : 1;
	if (c->strings.n && c->strings.v[0].len != 0)
		return pdec_fail(c, -EMBER_EFORMAT,
				 "string_table[0] must be empty but has %u bytes (byte %u)",
				 c->strings.v[0].len, c->strings.v[0].off);
	return alloc_array(c, (void **)&c->str_dst, c->n_str, sizeof(*c->str_dst), 0xff);
}

/* The scalar fields of a message, by field number: what each is and where it goes in the
 * struct being filled. Fields not listed are skipped (unknown, or handled by the caller). */
enum fkind {
	FK_NONE,
	FK_U64,
	FK_I64,
	FK_BOOL,
	FK_STR, /* a string index: range-checked, stored as uint32_t */
};

struct fdesc {
	uint8_t kind;
	uint8_t off;
	const char *name;
};

struct msgdesc {
	const char *msg;
	size_t n;
	const struct fdesc *f;
};

#define FD(kind, type, member, name)                            \
	{                                                       \
		(kind), (uint8_t)offsetof(type, member), (name) \
	}

/* Mapping, Function, Line, Label and ValueType as read: ids stay file ids here. */
struct mapping_in {
	uint64_t id;
	struct prof_mapping m;
};

struct function_in {
	uint64_t id;
	struct prof_function f;
};

struct line_in {
	uint64_t function_id;
	int64_t line, column;
};

static const struct fdesc mapping_f[] = {
	[PPROF_M_ID] = FD(FK_U64, struct mapping_in, id, "id"),
	[PPROF_M_MEMORY_START] = FD(FK_U64, struct mapping_in, m.memory_start, "memory_start"),
	[PPROF_M_MEMORY_LIMIT] = FD(FK_U64, struct mapping_in, m.memory_limit, "memory_limit"),
	[PPROF_M_FILE_OFFSET] = FD(FK_U64, struct mapping_in, m.file_offset, "file_offset"),
	[PPROF_M_FILENAME] = FD(FK_STR, struct mapping_in, m.filename, "filename"),
	[PPROF_M_BUILD_ID] = FD(FK_STR, struct mapping_in, m.build_id, "build_id"),
	[PPROF_M_HAS_FUNCTIONS] = FD(FK_BOOL, struct mapping_in, m.has_functions, "has_functions"),
	[PPROF_M_HAS_FILENAMES] = FD(FK_BOOL, struct mapping_in, m.has_filenames, "has_filenames"),
	[PPROF_M_HAS_LINE_NUMBERS] =
		FD(FK_BOOL, struct mapping_in, m.has_line_numbers, "has_line_numbers"),
	[PPROF_M_HAS_INLINE_FRAMES] =
		FD(FK_BOOL, struct mapping_in, m.has_inline_frames, "has_inline_frames"),
};
static const struct fdesc function_f[] = {
	[PPROF_FN_ID] = FD(FK_U64, struct function_in, id, "id"),
	[PPROF_FN_NAME] = FD(FK_STR, struct function_in, f.name, "name"),
	[PPROF_FN_SYSTEM_NAME] = FD(FK_STR, struct function_in, f.system_name, "system_name"),
	[PPROF_FN_FILENAME] = FD(FK_STR, struct function_in, f.filename, "filename"),
	[PPROF_FN_START_LINE] = FD(FK_I64, struct function_in, f.start_line, "start_line"),
};
static const struct fdesc line_f[] = {
	[PPROF_LN_FUNCTION_ID] = FD(FK_U64, struct line_in, function_id, "function_id"),
	[PPROF_LN_LINE] = FD(FK_I64, struct line_in, line, "line"),
	[PPROF_LN_COLUMN] = FD(FK_I64, struct line_in, column, "column"),
};
static const struct fdesc label_f[] = {
	[PPROF_LB_KEY] = FD(FK_STR, struct prof_label, key, "label key"),
	[PPROF_LB_STR] = FD(FK_STR, struct prof_label, str, "label str"),
	[PPROF_LB_NUM] = FD(FK_I64, struct prof_label, num, "label num"),
	[PPROF_LB_NUM_UNIT] = FD(FK_STR, struct prof_label, num_unit, "label num_unit"),
};
static const struct fdesc value_type_f[] = {
	[PPROF_VT_TYPE] = FD(FK_STR, struct prof_value_type, type, "type"),
	[PPROF_VT_UNIT] = FD(FK_STR, struct prof_value_type, unit, "unit"),
};
static const struct msgdesc mapping_desc = {"Mapping", EMBER_ARRAY_SIZE(mapping_f), mapping_f};
static const struct msgdesc function_desc = {"Function", EMBER_ARRAY_SIZE(function_f), function_f};
static const struct msgdesc line_desc = {"Line", EMBER_ARRAY_SIZE(line_f), line_f};
static const struct msgdesc label_desc = {"Label", EMBER_ARRAY_SIZE(label_f), label_f};
static const struct msgdesc value_type_desc = {"ValueType", EMBER_ARRAY_SIZE(value_type_f),
					       value_type_f};

/* Reads one field of the message in r into obj per md (any field order; unknown fields are
 * skipped); kind and i name the entry in messages about string indices. The generic path: the
 * fast parsers below rewind to a field they do not handle plainly and let this one read it, so
 * every message about a bad field comes from here. */
static int parse_field(struct pdec *c, struct wire_reader *r, const struct msgdesc *md, void *obj,
		       const char *kind, size_t i)
{
	const struct fdesc *fd;
	const uint8_t *vp;
	struct ptag t;
	uint64_t v;
	char *dst;
	int rc;

	rc = rd_tag(c, r, &t, md->msg);
	if (rc)
		return rc;
	fd = t.field < md->n ? &md->f[t.field] : NULL;
	if (!fd || fd->kind == FK_NONE)
		return skip(c, r, &t);
	vp = r->p;
	rc = rd_scalar(c, r, &t, &v);
	if (rc)
		return rc;
	dst = (char *)obj + fd->off;
	if (fd->kind == FK_U64) {
		*(uint64_t *)(void *)dst = v;
	} else if (fd->kind == FK_I64) {
		*(int64_t *)(void *)dst = (int64_t)v;
	} else if (fd->kind == FK_BOOL) {
		*(bool *)dst = v != 0;
	} else {
		rc = check_str(c, v, kind, i, fd->name, vp);
		if (rc)
			return rc;
		*(uint32_t *)(void *)dst = (uint32_t)v;
	}
	return 0;
}

/* Reads the message in r into obj (zeroed by the caller) per md. */
static int parse_scalars(struct pdec *c, struct wire_reader *r, const struct msgdesc *md, void *obj,
			 const char *kind, size_t i)
{
	int rc;

	while (!wire_eof(r)) {
		rc = parse_field(c, r, md, obj, kind, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* The fast parsers: a one-byte varint key and a value read by pprof_varint, for the keys a
 * message is made of in practice; anything else (another key, a bad value, an out-of-range
 * reference) rewinds to the key and goes through the generic reader, which reports it. */
static inline int fast_varint(struct wire_reader *r, const uint8_t *key_end, uint64_t *v)
{
	r->p = key_end;
	return pprof_varint(r, v);
}

static int parse_value_type(struct pdec *c, struct span sp, const char *kind, size_t i,
			    struct prof_value_type *vt)
{
	struct wire_reader r = sub_reader(c, sp);

	return parse_scalars(c, &r, &value_type_desc, vt, kind, i);
}

int pdec_parse_types(struct pdec *c)
{
	size_t n = c->types.n;
	int rc;

	if (n > PPROF_MAX_SAMPLE_TYPES)
		return pdec_fail(c, -EMBER_ELIMIT,
				 "%zu sample types is more than the limit of %d (byte %u)", n,
				 PPROF_MAX_SAMPLE_TYPES, c->types.v[0].off);
	rc = alloc_array(c, (void **)&c->vt, n, sizeof(*c->vt), 0);
	for (size_t i = 0; !rc && i < n; i++)
		rc = parse_value_type(c, c->types.v[i], "sample_type", i, &c->vt[i]);
	for (size_t i = 0; !rc && i < c->period_types.n; i++)
		rc = parse_value_type(c, c->period_types.v[i], "period_type", i, &c->period_type);
	return rc;
}

/* Checks a table entry's id and records it; kind names the table in messages. */
static int add_id_slow(struct pdec *c, struct idmap *m, uint64_t id, size_t i, const char *kind,
		       const uint8_t *p)
{
	uint32_t prev;

	if (id == 0)
		return pdec_fail(c, -EMBER_EFORMAT, "%s %zu has id 0, which is reserved (byte %zu)",
				 kind, i, at(c, p));
	prev = idmap_add(m, id, (uint32_t)i + 1);
	if (prev)
		return pdec_fail(c, -EMBER_EFORMAT,
				 "%s %zu has id %" PRIu64 ", already used by %s %u (byte %zu)",
				 kind, i, id, kind, prev - 1, at(c, p));
	return 0;
}

static inline int add_id(struct pdec *c, struct idmap *m, uint64_t id, size_t i, const char *kind,
			 const uint8_t *p)
{
	if (id - 1 < m->n_dense && !m->dense[id - 1]) {
		m->dense[id - 1] = (uint32_t)i + 1;
		return 0;
	}
	return add_id_slow(c, m, id, i, kind, p);
}

static int check_count(struct pdec *c, const struct spans *s, const char *kind)
{
	if (s->n < NONE)
		return 0;
	return pdec_fail(c, -EMBER_ELIMIT, "%zu %s entries is too many", s->n, kind);
}

/* A Mapping or Function: its scalars into `in` (a mapping_in or function_in, whose first member
 * is the file id), then its id into ids. */
static int parse_entry(struct pdec *c, const struct spans *s, size_t i, const struct msgdesc *md,
		       void *in, size_t in_size, struct idmap *ids, const char *kind)
{
	struct wire_reader r = sub_reader(c, s->v[i]);
	int rc;

	memset(in, 0, in_size);
	rc = parse_scalars(c, &r, md, in, kind, i);
	return rc ? rc : add_id(c, ids, *(uint64_t *)in, i, kind, c->base + s->v[i].off);
}

/* The fields of a Function in the order writers put them (id, name, system_name, filename,
 * start_line), as location_ordered: stops at the first field out of that order or not plain,
 * leaving r at its key for the general loop. */
static inline void function_ordered(struct wire_reader *r, uint32_t n_str, struct function_in *in)
{
	static const uint8_t key[5] = {PPROF_FN_ID << 3, PPROF_FN_NAME << 3,
				       PPROF_FN_SYSTEM_NAME << 3, PPROF_FN_FILENAME << 3,
				       PPROF_FN_START_LINE << 3};
	uint64_t v[5];
	const uint8_t *kp = r->p;
	int k;

	for (k = 0; k < 5; k++) {
		if (kp >= r->end || *kp != key[k] || fast_varint(r, kp + 1, &v[k]) ||
		    (k >= 1 && k <= 3 && v[k] >= n_str))
			break;
		kp = r->p;
	}
	r->p = kp;
	if (k > 0)
		in->id = v[0];
	if (k > 1)
		in->f.name = (uint32_t)v[1];
	if (k > 2)
		in->f.system_name = (uint32_t)v[2];
	if (k > 3)
		in->f.filename = (uint32_t)v[3];
	if (k > 4)
		in->f.start_line = (int64_t)v[4];
}

/* A Function in the writers' field order (as function_ordered, each field at most once), read
 * without a bounds check per byte like location_fast, straight into its table entry f (whole
 * values, not fields of a struct copied afterwards: that copy would load what was just stored
 * in other widths and stall) and its file id into *id; false leaves the general path to read it
 * (and report any error). */
static inline bool function_fast(const struct pdec *c, struct span sp, struct prof_function *f,
				 uint64_t *id)
{
	const uint8_t *p = c->base + sp.off, *end = p + sp.len;
	const uint64_t n_str = c->n_str;
	uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0;

	if (end > c->safe_end)
		return false;
	if (p < end && *p == PPROF_FN_ID << 3 && !(p = pprof_varint_nocheck(p + 1, &v0)))
		return false;
	if (p < end && *p == PPROF_FN_NAME << 3 &&
	    (!(p = pprof_varint_nocheck(p + 1, &v1)) || v1 >= n_str))
		return false;
	if (p < end && *p == PPROF_FN_SYSTEM_NAME << 3 &&
	    (!(p = pprof_varint_nocheck(p + 1, &v2)) || v2 >= n_str))
		return false;
	if (p < end && *p == PPROF_FN_FILENAME << 3 &&
	    (!(p = pprof_varint_nocheck(p + 1, &v3)) || v3 >= n_str))
		return false;
	if (p < end && *p == PPROF_FN_START_LINE << 3 && !(p = pprof_varint_nocheck(p + 1, &v4)))
		return false;
	if (p != end)
		return false;
	*id = v0;
	f->name = (uint32_t)v1;
	f->system_name = (uint32_t)v2;
	f->filename = (uint32_t)v3;
	f->start_line = (int64_t)v4;
	return true;
}

/* Function i, any layout: parse_entry for the Function message, with the ordered fields first. */
static int parse_function(struct pdec *c, size_t i, struct function_in *in)
{
	struct wire_reader r = sub_reader(c, c->functions.v[i]);
	uint32_t n_str = c->n_str;
	int rc;

	memset(in, 0, sizeof(*in));
	function_ordered(&r, n_str, in);
	while (r.p < r.end) {
		const uint8_t *kp = r.p;
		uint64_t v;

		if (fast_varint(&r, kp + 1, &v))
			goto slow;
		switch (*kp) {
		case PPROF_FN_ID << 3:
			in->id = v;
			continue;
		case PPROF_FN_NAME << 3:
			if (v >= n_str)
				goto slow;
			in->f.name = (uint32_t)v;
			continue;
		case PPROF_FN_SYSTEM_NAME << 3:
			if (v >= n_str)
				goto slow;
			in->f.system_name = (uint32_t)v;
			continue;
		case PPROF_FN_FILENAME << 3:
			if (v >= n_str)
				goto slow;
			in->f.filename = (uint32_t)v;
			continue;
		case PPROF_FN_START_LINE << 3:
			in->f.start_line = (int64_t)v;
			continue;
		default:
			break;
		}
	slow:
		r.p = kp;
		rc = parse_field(c, &r, &function_desc, in, "function", i);
		if (rc)
			return rc;
	}
	return add_id(c, &c->fn_ids, in->id, i, "function", c->base + c->functions.v[i].off);
}

static int parse_line_slow(struct pdec *c, size_t li, const uint8_t *p, size_t n)
{
	struct wire_reader r = {p, p + n, c->base};
	struct line_in in;
	struct prof_line *ln;
	int rc;

	memset(&in, 0, sizeof(in));
	rc = parse_scalars(c, &r, &line_desc, &in, "location", li);
	if (!rc)
		rc = pdec_fit(c, (void **)&c->lines, &c->cap_lines, c->n_lines + 1,
			      sizeof(*c->lines));
	if (rc)
		return rc;
	ln = &c->lines[c->n_lines++];
	ln->function = in.function_id ? idmap_get(&c->fn_ids, in.function_id) : 0;
	ln->line = in.line;
	ln->column = in.column;
	if (in.function_id && !ln->function)
		return pdec_fail(c, -EMBER_EFORMAT,
				 "location %zu references function id %" PRIu64
				 " which does not exist (byte %zu)",
				 li, in.function_id, at(c, p));
	return 0;
}

/* A Line of location li: the plain case here, anything else by parse_line_slow. */
static inline int parse_line(struct pdec *c, size_t li, const uint8_t *p, size_t n)
{
	struct wire_reader r = {p, p + n, c->base};
	struct prof_line ln = {0, 0, 0};

	while (r.p < r.end) {
		const uint8_t *kp = r.p;
		uint64_t v;

		if (fast_varint(&r, kp + 1, &v))
			return parse_line_slow(c, li, p, n);
		if (*kp == PPROF_LN_FUNCTION_ID << 3) {
			ln.function = idmap_get(&c->fn_ids, v);
			if (!ln.function)
				return parse_line_slow(c, li, p, n);
		} else if (*kp == PPROF_LN_LINE << 3) {
			ln.line = (int64_t)v;
		} else if (*kp == PPROF_LN_COLUMN << 3) {
			ln.column = (int64_t)v;
		} else {
			return parse_line_slow(c, li, p, n);
		}
	}
	if (c->n_lines >= c->cap_lines &&
	    pdec_grow(c, (void **)&c->lines, &c->cap_lines, c->n_lines + 1, sizeof(*c->lines)))
		return -ENOMEM;
	c->lines[c->n_lines++] = ln;
	return 0;
}

/* One field of Location i, any form. */
static int location_field(struct pdec *c, struct wire_reader *r, size_t i, struct ploc *l,
			  uint64_t *id)
{
	const uint8_t *p = NULL;
	struct ptag t;
	uint64_t v;
	size_t n = 0;
	int rc;

	rc = rd_tag(c, r, &t, "Location");
	if (rc)
		return rc;
	switch (t.field) {
	case PPROF_L_ID:
		return rd_scalar(c, r, &t, id);
	case PPROF_L_MAPPING_ID:
		rc = rd_scalar(c, r, &t, &v);
		if (rc || v == 0) {
			l->mapping = 0;
			return rc;
		}
		l->mapping = idmap_get(&c->map_ids, v);
		if (!l->mapping)
			return pdec_fail(c, -EMBER_EFORMAT,
					 "location %zu references mapping id %" PRIu64
					 " which does not exist (byte %zu)",
					 i, v, at(c, t.at));
		return 0;
	case PPROF_L_ADDRESS:
		return rd_scalar(c, r, &t, &l->address);
	case PPROF_L_LINE:
		rc = rd_len(c, r, &t, &p, &n);
		return rc ? rc : parse_line(c, i, p, n);
	case PPROF_L_IS_FOLDED:
		rc = rd_scalar(c, r, &t, &v);
		l->is_folded = v != 0;
		return rc;
	default:
		return skip(c, r, &t);
	}
}

/* The fields of Location i in the order writers put them (id, mapping_id, address, then the
 * lines: Go's and ours), read as straight-line code whose branches always go the same way; it
 * stops at the first field that is not next in that order or not plain, leaving r at its key
 * for the general loop of parse_location, which reads the rest (and reports any error). */
static inline int location_ordered(struct pdec *c, size_t i, struct wire_reader *r, struct ploc *l,
				   uint64_t *id)
{
	const uint8_t *kp = r->p;
	uint64_t v;
	int rc;

	if (kp < r->end && *kp == PPROF_L_ID << 3) {
		if (fast_varint(r, kp + 1, &v))
			goto stop;
		*id = v;
		kp = r->p;
	}
	if (kp < r->end && *kp == PPROF_L_MAPPING_ID << 3) {
		if (fast_varint(r, kp + 1, &v) || (v && !(l->mapping = idmap_get(&c->map_ids, v))))
			goto stop;
		kp = r->p;
	}
	if (kp < r->end && *kp == PPROF_L_ADDRESS << 3) {
		if (fast_varint(r, kp + 1, &v))
			goto stop;
		l->address = v;
		kp = r->p;
	}
	while (kp < r->end && *kp == (PPROF_L_LINE << 3 | WIRE_LEN)) {
		const uint8_t *lp;
		uint64_t fid, line;

		if (fast_varint(r, kp + 1, &v) || v > (uint64_t)(r->end - r->p))
			goto stop;
		lp = r->p;
		r->p += v;
		kp = r->p;
		/* The plain Line: function_id then line, nothing else. */
		if (v && lp[0] == PPROF_LN_FUNCTION_ID << 3 && c->n_lines < c->cap_lines) {
			struct wire_reader lr = {lp + 1, lp + v, c->base};
			uint32_t f;

			if (pprof_varint(&lr, &fid) == 0 && (f = idmap_get(&c->fn_ids, fid)) != 0 &&
			    lr.p < lr.end && *lr.p == PPROF_LN_LINE << 3 &&
			    fast_varint(&lr, lr.p + 1, &line) == 0 && lr.p == lr.end) {
				struct prof_line *ln = &c->lines[c->n_lines++];

				ln->function = f;
				ln->line = (int64_t)line;
				ln->column = 0;
				continue;
			}
		}
		rc = parse_line(c, i, lp, (size_t)v);
		if (rc)
			return rc;
	}
	return 0;
stop:
	r->p = kp;
	return 0;
}

/* A Location as Go's writer and ours lay it out (id, mapping_id, address, then Lines of
 * function_id, line and column, each field at most once and in that order, every reference
 * resolvable), read without a bounds check per byte: the location must end before c->safe_end.
 * Anything else returns false having changed nothing but l, and the general parser reads it
 * (and reports any error). The merge reads every location of every input: this is its hot loop. */
static inline bool location_fast(struct pdec *c, struct span sp, struct ploc *l, uint64_t *id)
{
	const uint8_t *p = c->base + sp.off, *end = p + sp.len;
	/* the decoder's state in locals, so that storing a line does not make the compiler load
	 * it again (an int64_t store may alias the size_t counts) */
	struct prof_line *lines = c->lines;
	const size_t line0 = c->n_lines, cap = c->cap_lines, fn_dense = c->fn_ids.n_dense;
	const uint32_t *fdense = c->fn_ids.dense;
	size_t n_lines = line0;
	uint64_t v, lid = 0, address = 0;
	uint32_t mapping = 0;

	if (end > c->safe_end)
		return false;
	if (p < end && *p == PPROF_L_ID << 3 && !(p = pprof_varint_nocheck(p + 1, &lid)))
		return false;
	if (p < end && *p == PPROF_L_MAPPING_ID << 3) {
		if (!(p = pprof_varint_nocheck(p + 1, &v)) ||
		    (v && !(mapping = idmap_get(&c->map_ids, v))))
			return false;
	}
	if (p < end && *p == PPROF_L_ADDRESS << 3 && !(p = pprof_varint_nocheck(p + 1, &address)))
		return false;
	while (p < end && *p == (PPROF_L_LINE << 3 | WIRE_LEN)) {
		const uint8_t *le;
		uint64_t fid = 0, line = 0, column = 0;
		uint32_t f = 0;

		if (!(p = pprof_varint_nocheck(p + 1, &v)) || p > end || v > (uint64_t)(end - p))
			return false;
		le = p + v;
		if (p < le && *p == PPROF_LN_FUNCTION_ID << 3 &&
		    !(p = pprof_varint_nocheck(p + 1, &fid)))
			return false;
		if (p < le && *p == PPROF_LN_LINE << 3 && !(p = pprof_varint_nocheck(p + 1, &line)))
			return false;
		if (p < le && *p == PPROF_LN_COLUMN << 3 &&
		    !(p = pprof_varint_nocheck(p + 1, &column)))
			return false;
		if (p != le || n_lines >= cap)
			return false;
		if (fid) {
			f = fid - 1 < fn_dense ? fdense[fid - 1] : idmap_get(&c->fn_ids, fid);
			if (!f)
				return false;
		}
		lines[n_lines].function = f;
		lines[n_lines].line = (int64_t)line;
		lines[n_lines].column = (int64_t)column;
		n_lines++;
	}
	if (p != end)
		return false;
	*id = lid;
	l->address = address;
	l->mapping = mapping;
	l->line0 = (uint32_t)line0;
	l->n_lines = (uint32_t)(n_lines - line0);
	l->is_folded = false;
	c->n_lines = n_lines;
	return true;
}

/* Location i, any layout. */
static int location_general(struct pdec *c, size_t i, uint64_t *id)
{
	struct wire_reader r = sub_reader(c, c->locations.v[i]);
	struct ploc *l = &c->loc[i];
	int rc;

	memset(l, 0, sizeof(*l));
	l->line0 = (uint32_t)c->n_lines;
	rc = location_ordered(c, i, &r, l, id);
	if (rc)
		return rc;
	while (r.p < r.end) {
		const uint8_t *kp = r.p;
		uint64_t v;

		if (fast_varint(&r, kp + 1, &v))
			goto slow;
		switch (*kp) {
		case PPROF_L_ID << 3:
			*id = v;
			continue;
		case PPROF_L_MAPPING_ID << 3:
			if (v && !(l->mapping = idmap_get(&c->map_ids, v)))
				goto slow;
			if (!v)
				l->mapping = 0;
			continue;
		case PPROF_L_ADDRESS << 3:
			l->address = v;
			continue;
		case PPROF_L_LINE << 3 | WIRE_LEN:
			if (v > (uint64_t)(r.end - r.p))
				goto slow;
			r.p += v;
			rc = parse_line(c, i, r.p - v, (size_t)v);
			if (rc)
				return rc;
			continue;
		default:
			break;
		}
	slow:
		r.p = kp;
		rc = location_field(c, &r, i, l, id);
		if (rc)
			return rc;
	}
	l->n_lines = (uint32_t)(c->n_lines - l->line0);
	return 0;
}

static int parse_location(struct pdec *c, size_t i)
{
	struct span sp = c->locations.v[i];
	uint64_t id = 0;
	int rc;

	if (!location_fast(c, sp, &c->loc[i], &id)) {
		id = 0;
		rc = location_general(c, i, &id);
		if (rc)
			return rc;
	}
	c->max_loc_lines = EMBER_MAX(c->max_loc_lines, c->loc[i].n_lines);
	return add_id(c, &c->loc_ids, id, i, "location", c->base + sp.off);
}

int pdec_parse_tables(struct pdec *c)
{
	size_t nm = c->mappings.n, nf = c->functions.n, nl = c->locations.n;
	/* map, fn and loc are written entry by entry below (and read only when all are) */
	const struct alloc_spec a[] = {
		{(void **)&c->map, nm, sizeof(*c->map), PDEC_NO_FILL},
		{(void **)&c->fn, nf, sizeof(*c->fn), PDEC_NO_FILL},
		{(void **)&c->loc, nl, sizeof(*c->loc), PDEC_NO_FILL},
		{(void **)&c->map_ids.dense, nm, sizeof(uint32_t), 0},
		{(void **)&c->fn_ids.dense, nf, sizeof(uint32_t), 0},
		{(void **)&c->loc_ids.dense, nl, sizeof(uint32_t), 0},
	};
	struct mapping_in mi;
	struct function_in fi;
	int rc;

	rc = check_count(c, &c->mappings, "mapping");
	if (!rc)
		rc = check_count(c, &c->functions, "function");
	if (!rc)
		rc = check_count(c, &c->locations, "location");
	if (!rc)
		rc = pdec_alloc_all(c, a, EMBER_ARRAY_SIZE(a));
	c->map_ids.n_dense = nm;
	c->fn_ids.n_dense = nf;
	c->loc_ids.n_dense = nl;
	for (size_t i = 0; !rc && i < nm; i++) {
		rc = parse_entry(c, &c->mappings, i, &mapping_desc, &mi, sizeof(mi), &c->map_ids,
				 "mapping");
		c->map[i] = mi.m;
	}
	/* Lines: about one per location, more with inlining. */
	if (!rc)
		rc = pdec_fit(c, (void **)&c->lines, &c->cap_lines, nl + nl / 4 + 16,
			      sizeof(*c->lines));
	for (size_t i = 0; !rc && i < nf; i++) {
		uint64_t id;

		if (function_fast(c, c->functions.v[i], &c->fn[i], &id)) {
			rc = add_id(c, &c->fn_ids, id, i, "function",
				    c->base + c->functions.v[i].off);
			continue;
		}
		rc = parse_function(c, i, &fi);
		c->fn[i] = fi.f;
	}
	for (size_t i = 0; !rc && i < nl; i++)
		rc = parse_location(c, i);
	return rc;
}

int pdec_check_meta(struct pdec *c)
{
	const struct {
		const struct sref *s;
		const char *what;
	} refs[] = {
		{&c->drop_frames, "drop_frames"},
		{&c->keep_frames, "keep_frames"},
		{&c->default_sample_type, "default_sample_type"},
		{&c->doc_url, "doc_url"},
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < EMBER_ARRAY_SIZE(refs); i++)
		rc = check_str(c, refs[i].s->idx, "profile", SIZE_MAX, refs[i].what,
			       c->base + refs[i].s->off);
	for (size_t i = 0; !rc && i < c->n_comments; i++)
		rc = check_str(c, c->comments[i].idx, "comment", i, "text",
			       c->base + c->comments[i].off);
	if (!rc && c->max_samples && c->samples.n > c->max_samples)
		rc = pdec_fail(c, -EMBER_ELIMIT,
			       "%zu samples is more than the limit of %zu (byte %u)", c->samples.n,
			       c->max_samples, c->samples.v[c->max_samples].off);
	return rc;
}

/* ---- samples ---- */

static int sample_locations(struct pdec *c, size_t si, const uint8_t *p, size_t n)
{
	struct wire_reader r = {p, p + n, c->base};
	uint32_t *out;
	int rc;

	if (n == 0)
		return 0; /* an empty packed list */
	rc = pdec_fit(c, (void **)&c->s_loc, &c->cap_loc, c->s_nloc + n, sizeof(*c->s_loc));
	if (rc)
		return rc;
	out = c->s_loc + c->s_nloc;
	while (r.p < r.end) {
		const uint8_t *vp = r.p;
		uint64_t id;
		uint32_t li;

		if (pprof_varint(&r, &id))
			return varint_fail(c, vp, r.end, "Sample.location_id");
		li = idmap_get(&c->loc_ids, id);
		if (!li)
			return pdec_fail(c, -EMBER_EFORMAT,
					 "sample %zu references location id %" PRIu64
					 " which does not exist (byte %zu)",
					 si, id, at(c, vp));
		*out++ = li - 1;
	}
	c->s_nloc = (size_t)(out - c->s_loc);
	return 0;
}

static int too_many_values(struct pdec *c, size_t si, const uint8_t *p)
{
	return pdec_fail(c, -EMBER_EFORMAT,
			 "sample %zu has more values than the %zu sample types (byte %zu)", si,
			 c->types.n, at(c, p));
}

static int sample_values(struct pdec *c, size_t si, const uint8_t *p, size_t n)
{
	struct wire_reader r = {p, p + n, c->base};
	size_t nt = c->types.n;

	while (r.p < r.end) {
		const uint8_t *vp = r.p;
		uint64_t v;

		if (pprof_varint(&r, &v))
			return varint_fail(c, vp, r.end, "Sample.value");
		if (c->s_nval >= nt)
			return too_many_values(c, si, vp);
		c->s_val[c->s_nval++] = (int64_t)v;
	}
	return 0;
}

static int sample_label(struct pdec *c, size_t si, const uint8_t *p, size_t n)
{
	struct wire_reader r = {p, p + n, c->base};
	struct prof_label *lb;
	int rc;

	rc = pdec_fit(c, (void **)&c->s_lab, &c->cap_lab, c->s_nlab + 1, sizeof(*c->s_lab));
	if (rc)
		return rc;
	lb = &c->s_lab[c->s_nlab++];
	memset(lb, 0, sizeof(*lb));
	return parse_scalars(c, &r, &label_desc, lb, "sample", si);
}

/* Four location ids of two bytes each at p (8 bytes readable), the common case of a profile with
 * more than 127 locations, decoded at once: their bytes alternate a continuation bit and none,
 * and one 64-bit load gives the four 14-bit values. When all four are that and dense ids of
 * the file, their location indices go to out[0..4) and the result is true; else nothing is
 * written and the caller reads them one by one. */
static inline bool four_ids(const uint8_t *p, const uint32_t *dense, size_t n_dense, uint32_t *out)
{
	uint64_t w, x;
	size_t a, b, d, e;
	uint32_t la, lb, ld, le;

	memcpy(&w, p, sizeof(w));
	w = le64toh(w);
	if ((w & 0x8080808080808080ULL) != 0x0080008000800080ULL)
		return false;
	x = (w & 0x007f007f007f007fULL) | (w & 0x7f007f007f007f00ULL) >> 1;
	a = (size_t)(x & 0xffff) - 1; /* id 0 becomes SIZE_MAX: never dense */
	b = (size_t)(x >> 16 & 0xffff) - 1;
	d = (size_t)(x >> 32 & 0xffff) - 1;
	e = (size_t)(x >> 48) - 1;
	if (a >= n_dense || b >= n_dense || d >= n_dense || e >= n_dense)
		return false;
	la = dense[a];
	lb = dense[b];
	ld = dense[d];
	le = dense[e];
	if (!la || !lb || !ld || !le)
		return false;
	out[0] = la - 1;
	out[1] = lb - 1;
	out[2] = ld - 1;
	out[3] = le - 1;
	return true;
}

bool pdec_sample_fast(struct pdec *c, size_t si, uint32_t *loc, size_t room, int64_t *val)
{
	struct span sp = c->samples.v[si];
	const uint8_t *p = c->base + sp.off, *end = p + sp.len, *le;
	uint32_t *out = loc;
	size_t nv = 0, nt = c->types.n;
	const uint32_t *dense = c->loc_ids.dense;
	const size_t n_dense = c->loc_ids.n_dense;
	uint64_t v;

	if (end > c->safe_end)
		return false;
	if (p < end && *p == (PPROF_S_LOCATION_ID << 3 | WIRE_LEN)) {
		if (!(p = pprof_varint_nocheck(p + 1, &v)) || p > end || v > (uint64_t)(end - p) ||
		    v > room)
			return false;
		for (le = p + v; p < le; out++) {
			uint32_t li;

			if (le - p >= 8 && four_ids(p, dense, n_dense, out)) {
				p += 8;
				out += 3;
				continue;
			}
			if (!(p = pprof_varint_nocheck(p, &v)))
				return false;
			/* the dense ids inline, with the map in registers */
			li = v - 1 < n_dense ? dense[v - 1] : idmap_get(&c->loc_ids, v);
			if (!li)
				return false;
			*out = li - 1;
		}
		if (p != le)
			return false;
	}
	if (p < end && *p == (PPROF_S_VALUE << 3 | WIRE_LEN)) {
		if (!(p = pprof_varint_nocheck(p + 1, &v)) || p > end || v > (uint64_t)(end - p))
			return false;
		for (le = p + v; p < le && nv < nt; nv++)
			if (!(p = pprof_varint_nocheck(p, (uint64_t *)&val[nv])))
				return false;
		if (p != le)
			return false;
	}
	if (p != end || nv != nt)
		return false;
	c->s_nloc = (size_t)(out - loc);
	c->s_nval = nv;
	c->s_nlab = 0;
	return true;
}

/* Parses and validates sample si into c->s_loc / s_val / s_lab (file indices). */
int pdec_parse_sample(struct pdec *c, size_t si)
{
	struct span sp = c->samples.v[si];
	struct wire_reader r = sub_reader(c, sp);
	const uint8_t *p = NULL;
	struct ptag t;
	size_t n = 0;
	int rc;

	if (pdec_sample_fast(c, si, c->s_loc, c->cap_loc, c->s_val))
		return 0;
	c->s_nloc = c->s_nval = c->s_nlab = 0;
	while (!wire_eof(&r)) {
		rc = rd_tag(c, &r, &t, "Sample");
		if (rc)
			return rc;
		switch (t.field) {
		case PPROF_S_LOCATION_ID:
			rc = rd_repeated(c, &r, &t, &p, &n);
			if (!rc)
				rc = sample_locations(c, si, p, n);
			break;
		case PPROF_S_VALUE:
			rc = rd_repeated(c, &r, &t, &p, &n);
			if (!rc)
				rc = sample_values(c, si, p, n);
			break;
		case PPROF_S_LABEL:
			rc = rd_len(c, &r, &t, &p, &n);
			if (!rc)
				rc = sample_label(c, si, p, n);
			break;
		default:
			rc = skip(c, &r, &t);
			break;
		}
		if (rc)
			return rc;
	}
	if (c->s_nval != c->types.n)
		return pdec_fail(
			c, -EMBER_EFORMAT,
			"sample %zu has %zu values but there are %zu sample types (byte %u)", si,
			c->s_nval, c->types.n, sp.off);
	return 0;
}

/*
 * pprof_encode.c — writes a struct prof as perftools.profiles.Profile, raw or gzipped (level 1,
 * as Go's runtime does).
 *
 * Our table ids are dense and 1-based, so they are written unchanged as the pprof ids, and our
 * string table (id 0 = "") is the pprof string table. Fields are written in field-number order,
 * zero scalars omitted (proto3 defaults), repeated scalars packed. Owns nothing past a call;
 * must never change the profile, and leaves out as it found it on error.
 */
#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "base/wire.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "format/pprof_int.h"

/* Scalar fields are omitted when zero, as proto3 writers do. */
static int put_u(struct buf *b, uint32_t field, uint64_t v)
{
	return v ? wire_put_uint(b, field, v) : 0;
}

static int put_i(struct buf *b, uint32_t field, int64_t v)
{
	return v ? wire_put_int(b, field, v) : 0;
}

static int put_value_type(struct buf *b, uint32_t field, const struct prof_value_type *vt)
{
	size_t mark = wire_begin(b);
	int rc = put_i(b, PPROF_VT_TYPE, vt->type);

	if (!rc)
		rc = put_i(b, PPROF_VT_UNIT, vt->unit);
	return rc ? rc : wire_end(b, field, mark);
}

static int put_label(struct buf *b, const struct prof_label *lb)
{
	size_t mark = wire_begin(b);
	int rc = put_i(b, PPROF_LB_KEY, lb->key);

	if (!rc)
		rc = put_i(b, PPROF_LB_STR, lb->str);
	if (!rc)
		rc = put_i(b, PPROF_LB_NUM, lb->num);
	if (!rc)
		rc = put_i(b, PPROF_LB_NUM_UNIT, lb->num_unit);
	return rc ? rc : wire_end(b, PPROF_S_LABEL, mark);
}

static int put_sample(const struct prof *p, size_t i, struct buf *b)
{
	size_t nt = prof_n_sample_types(p), n_labels = 0, mark, sub;
	const struct prof_label *labels = NULL;
	struct prof_sample s;
	int rc = 0;

	prof_sample_get(p, i, &s);
	mark = wire_begin(b);
	if (s.node) {
		/* location_id, leaf first: the node's location, then its parents'. */
		sub = wire_begin(b);
		for (uint32_t n = s.node; n && !rc; n = prof_node_parent(p, n))
			rc = wire_put_varint(b, prof_node_location(p, n));
		if (!rc)
			rc = wire_end(b, PPROF_S_LOCATION_ID, sub);
	}
	if (!rc && nt) {
		sub = wire_begin(b);
		for (size_t k = 0; k < nt && !rc; k++)
			rc = wire_put_varint(b, (uint64_t)s.values[k]);
		if (!rc)
			rc = wire_end(b, PPROF_S_VALUE, sub);
	}
	if (s.labelset)
		labels = prof_labelset_get(p, s.labelset, &n_labels);
	for (size_t k = 0; k < n_labels && !rc; k++)
		rc = put_label(b, &labels[k]);
	return rc ? rc : wire_end(b, PPROF_SAMPLE, mark);
}

static int put_mapping(const struct prof *p, uint32_t id, struct buf *b)
{
	const struct prof_mapping *m = prof_mapping_get(p, id);
	size_t mark = wire_begin(b);
	int rc = put_u(b, PPROF_M_ID, id);

	if (!rc)
		rc = put_u(b, PPROF_M_MEMORY_START, m->memory_start);
	if (!rc)
		rc = put_u(b, PPROF_M_MEMORY_LIMIT, m->memory_limit);
	if (!rc)
		rc = put_u(b, PPROF_M_FILE_OFFSET, m->file_offset);
	if (!rc)
		rc = put_i(b, PPROF_M_FILENAME, m->filename);
	if (!rc)
		rc = put_i(b, PPROF_M_BUILD_ID, m->build_id);
	if (!rc)
		rc = put_u(b, PPROF_M_HAS_FUNCTIONS, m->has_functions);
	if (!rc)
		rc = put_u(b, PPROF_M_HAS_FILENAMES, m->has_filenames);
	if (!rc)
		rc = put_u(b, PPROF_M_HAS_LINE_NUMBERS, m->has_line_numbers);
	if (!rc)
		rc = put_u(b, PPROF_M_HAS_INLINE_FRAMES, m->has_inline_frames);
	return rc ? rc : wire_end(b, PPROF_MAPPING, mark);
}

static int put_location(const struct prof *p, uint32_t id, struct buf *b)
{
	struct prof_location loc;
	size_t mark = wire_begin(b);
	int rc;

	prof_location_get(p, id, &loc);
	rc = put_u(b, PPROF_L_ID, id);
	if (!rc)
		rc = put_u(b, PPROF_L_MAPPING_ID, loc.mapping);
	if (!rc)
		rc = put_u(b, PPROF_L_ADDRESS, loc.address);
	for (uint32_t k = 0; k < loc.n_lines && !rc; k++) {
		const struct prof_line *ln = &loc.lines[k];
		size_t sub = wire_begin(b);

		rc = put_u(b, PPROF_LN_FUNCTION_ID, ln->function);
		if (!rc)
			rc = put_i(b, PPROF_LN_LINE, ln->line);
		if (!rc)
			rc = put_i(b, PPROF_LN_COLUMN, ln->column);
		if (!rc)
			rc = wire_end(b, PPROF_L_LINE, sub);
	}
	if (!rc)
		rc = put_u(b, PPROF_L_IS_FOLDED, loc.is_folded);
	return rc ? rc : wire_end(b, PPROF_LOCATION, mark);
}

static int put_function(const struct prof *p, uint32_t id, struct buf *b)
{
	const struct prof_function *f = prof_function_get(p, id);
	size_t mark = wire_begin(b);
	int rc = put_u(b, PPROF_FN_ID, id);

	if (!rc)
		rc = put_i(b, PPROF_FN_NAME, f->name);
	if (!rc)
		rc = put_i(b, PPROF_FN_SYSTEM_NAME, f->system_name);
	if (!rc)
		rc = put_i(b, PPROF_FN_FILENAME, f->filename);
	if (!rc)
		rc = put_i(b, PPROF_FN_START_LINE, f->start_line);
	return rc ? rc : wire_end(b, PPROF_FUNCTION, mark);
}

static int put_tables(const struct prof *p, struct buf *b)
{
	const struct prof_value_type *vt = prof_sample_types(p);
	size_t nt = prof_n_sample_types(p), ns = prof_n_samples(p);
	uint32_t nm = prof_n_mappings(p), nl = prof_n_locations(p), nf = prof_n_functions(p);
	uint32_t n_str = prof_n_strings(p);
	int rc = 0;

	for (size_t i = 0; i < nt && !rc; i++)
		rc = put_value_type(b, PPROF_SAMPLE_TYPE, &vt[i]);
	for (size_t i = 0; i < ns && !rc; i++)
		rc = put_sample(p, i, b);
	for (uint32_t id = 1; id <= nm && !rc; id++)
		rc = put_mapping(p, id, b);
	for (uint32_t id = 1; id <= nl && !rc; id++)
		rc = put_location(p, id, b);
	for (uint32_t id = 1; id <= nf && !rc; id++)
		rc = put_function(p, id, b);
	/* string_table[0] must be "", which our id 0 is; write it even for a string-less prof. */
	if (!rc && n_str == 0)
		rc = wire_put_bytes(b, PPROF_STRING_TABLE, "", 0);
	for (uint32_t i = 0; i < n_str && !rc; i++)
		rc = wire_put_bytes(b, PPROF_STRING_TABLE, prof_string(p, i),
				    prof_string_len(p, i));
	return rc;
}

static int put_meta(const struct prof *p, struct buf *b)
{
	const struct prof_meta *m = prof_meta_get(p);
	const uint32_t *comments;
	size_t n_comments;
	int rc;

	comments = prof_comments(p, &n_comments);
	rc = put_i(b, PPROF_DROP_FRAMES, m->drop_frames);
	if (!rc)
		rc = put_i(b, PPROF_KEEP_FRAMES, m->keep_frames);
	if (!rc)
		rc = put_i(b, PPROF_TIME_NANOS, m->time_ns);
	if (!rc)
		rc = put_i(b, PPROF_DURATION_NANOS, m->duration_ns);
	if (!rc && (m->period_type.type || m->period_type.unit))
		rc = put_value_type(b, PPROF_PERIOD_TYPE, &m->period_type);
	if (!rc)
		rc = put_i(b, PPROF_PERIOD, m->period);
	if (!rc && n_comments) {
		size_t mark = wire_begin(b);

		for (size_t i = 0; i < n_comments && !rc; i++)
			rc = wire_put_varint(b, comments[i]);
		if (!rc)
			rc = wire_end(b, PPROF_COMMENT, mark);
	}
	if (!rc)
		rc = put_i(b, PPROF_DEFAULT_SAMPLE_TYPE, m->default_sample_type);
	if (!rc)
		rc = put_i(b, PPROF_DOC_URL, m->doc_url);
	return rc;
}

static void restore(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data && len < b->cap)
		b->data[len] = 0;
}

int pprof_encode(const struct prof *p, bool gzip, struct buf *out)
{
	size_t start = out->len;
	struct buf raw;
	int rc;

	if (!gzip) {
		rc = put_tables(p, out);
		if (!rc)
			rc = put_meta(p, out);
		if (rc)
			restore(out, start);
		return rc;
	}
	buf_init(&raw, MEM_FORMAT, SIZE_MAX);
	rc = put_tables(p, &raw);
	if (!rc)
		rc = put_meta(p, &raw);
	if (!rc)
		rc = gzip_deflate(raw.data, raw.len, 1, out);
	buf_fini(&raw);
	return rc;
}

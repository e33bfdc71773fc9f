/*
 * test_pprof_parse.c — the two-step merge (pprof_parse, then pprof_parsed_merge): the same result
 * as pprof_decode_merge for raw and gzipped inputs parsed ahead of the merge, the decoder's
 * errors from the parse step, sample type mismatches leaving the destination unchanged, a
 * parsed profile merging only once, and pprof_gunzip (the parse's first step on its own).
 */
#include <errno.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "prof_fixture.h"
#include "profile/profile.h"
#include "test.h"

static void enc(const struct prof *p, bool gz, struct buf *out)
{
	buf_init(out, MEM_TEST, SIZE_MAX);
	if (pprof_encode(p, gz, out) != 0)
		buf_reset(out);
}

static bool same_encoding(const struct prof *a, const struct prof *b)
{
	struct buf ea, eb;
	bool same;

	enc(a, false, &ea);
	enc(b, false, &eb);
	same = ea.len > 0 && ea.len == eb.len && memcmp(ea.data, eb.data, ea.len) == 0;
	buf_fini(&ea);
	buf_fini(&eb);
	return same;
}

TEST(pprof_parse_then_merge_matches_decode_merge)
{
	enum {
		N = 4
	};
	struct buf in[N];
	struct pprof_parsed *pp[N] = {NULL};
	struct prof *one = prof_new(), *two = prof_new();
	struct ember_diag d = {{0}};
	int rc = 0;

	for (int i = 0; i < N; i++) {
		struct prof *p = fx_random(100 + (uint64_t)i, 60, 25, 12);

		enc(p, i & 1, &in[i]);
		prof_free(p);
	}
	for (int i = 0; i < N && rc == 0; i++)
		rc = pprof_decode_merge(one, in[i].data, in[i].len, NULL, &d);
	CHECK_MSG(rc == 0, "decode_merge: %s", d.msg);
	/* every input parsed before any merge, as the CLI's reader thread runs ahead */
	for (int i = 0; i < N && rc == 0; i++)
		rc = pprof_parse(in[i].data, in[i].len, NULL, &pp[i], &d);
	CHECK_MSG(rc == 0, "parse: %s", d.msg);
	for (int i = 0; i < N && rc == 0; i++)
		rc = pprof_parsed_merge(two, pp[i], &d);
	CHECK_MSG(rc == 0, "parsed_merge: %s", d.msg);
	/* once only */
	CHECK(pprof_parsed_merge(two, pp[0], &d) == -EINVAL);
	bool same = same_encoding(one, two);
	bool nonempty = prof_n_samples(two) > 0 && prof_n_locations(two) > 0;

	for (int i = 0; i < N; i++) {
		pprof_parsed_free(pp[i]);
		buf_fini(&in[i]);
	}
	prof_free(one);
	prof_free(two);
	CHECK(nonempty);
	CHECK(same);
}

TEST(pprof_parse_reports_decoder_errors)
{
	static const uint8_t bad_sample[] = {0x12, 3, 0x0a, 1, 99}; /* location id 99 */
	static const uint8_t truncated[] = {0x0a, 10, 0x08};
	struct pprof_parsed *pp = (struct pprof_parsed *)&pp;
	struct ember_diag d = {{0}};
	int rc;

	rc = pprof_parse(bad_sample, sizeof(bad_sample), NULL, &pp, &d);
	CHECK_EQ_INT(rc, -EMBER_EFORMAT);
	CHECK(pp == NULL);
	CHECK_MSG(strstr(d.msg, "location id 99") && strstr(d.msg, "byte"), "%s", d.msg);
	memset(&d, 0, sizeof(d));
	rc = pprof_parse(truncated, sizeof(truncated), NULL, &pp, &d);
	CHECK_EQ_INT(rc, -EMBER_EFORMAT);
	CHECK_MSG(strncmp(d.msg, "pprof: ", 7) == 0 && strstr(d.msg, "byte 1"), "%s", d.msg);
}

TEST(pprof_parsed_merge_type_mismatch_leaves_dst)
{
	struct prof *dst = fx_types("samples", "count", "cpu", "nanoseconds");
	struct prof *other = fx_types("alloc_space", "bytes", NULL, NULL);
	struct pprof_parsed *pp = NULL;
	struct ember_diag d = {{0}};
	struct buf in, before;
	int rc;

	fx_add(dst, "main;a;b", 0, 1, 10);
	fx_add(other, "main;x", 0, 5, 0);
	enc(other, true, &in);
	enc(dst, false, &before);
	rc = pprof_parse(in.data, in.len, NULL, &pp, &d);
	CHECK_MSG(rc == 0, "%s", d.msg);
	rc = pprof_parsed_merge(dst, pp, &d);
	bool msg_ok = strstr(d.msg, "sample types differ") != NULL;
	struct prof *copy = NULL;
	bool unchanged = pprof_decode(before.data, before.len, NULL, &copy, &d) == 0 &&
			 same_encoding(copy, dst);

	prof_free(copy);
	pprof_parsed_free(pp);
	buf_fini(&in);
	buf_fini(&before);
	prof_free(dst);
	prof_free(other);
	CHECK_EQ_INT(rc, -EMBER_EFORMAT);
	CHECK(msg_ok);
	CHECK(unchanged);
}

/* pprof_gunzip then pprof_parse of its output: what pprof_parse of the gzip gives, the same
 * limit errors, and data that is not gzip left alone. */
TEST(pprof_gunzip_then_parse)
{
	struct prof *p = fx_random(7, 40, 20, 10), *one = prof_new(), *two = prof_new();
	struct pprof_limits small = {.max_bytes = 64};
	struct pprof_parsed *pp = NULL;
	struct ember_diag d1 = {{0}}, d2 = {{0}};
	struct buf gz, raw;
	int rc;

	enc(p, true, &gz);
	buf_init(&raw, MEM_TEST, SIZE_MAX);
	CHECK_OK(pprof_gunzip(gz.data, gz.len, NULL, &raw, &d1));
	CHECK(raw.len > gz.len);
	CHECK_OK(pprof_parse(raw.data, raw.len, NULL, &pp, &d1));
	CHECK_OK(pprof_parsed_merge(one, pp, &d1));
	pprof_parsed_free(pp);
	CHECK_OK(pprof_decode_merge(two, gz.data, gz.len, NULL, &d1));
	CHECK(same_encoding(one, two));
	/* the limit pprof_parse applies to the inflated size */
	buf_reset(&raw);
	rc = pprof_gunzip(gz.data, gz.len, &small, &raw, &d1);
	CHECK_EQ_INT(rc, pprof_parse(gz.data, gz.len, &small, &pp, &d2));
	CHECK(rc == -EMBER_ELIMIT && strcmp(d1.msg, d2.msg) == 0);
	CHECK(pp == NULL);
	/* not gzip: nothing to do */
	buf_reset(&raw);
	CHECK_OK(pprof_gunzip(raw.data, 0, NULL, &raw, &d1));
	CHECK_OK(pprof_gunzip("\x0a\x00", 2, NULL, &raw, &d1));
	CHECK(raw.len == 0);
	buf_fini(&gz);
	buf_fini(&raw);
	prof_free(p);
	prof_free(one);
	prof_free(two);
}

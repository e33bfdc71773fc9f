/*
 * test_querier.c — the querier request decoders (protobuf and protojson: field numbers, both
 * JSON name styles, int64 as strings, enum names, unknown fields, wrong wire types, bounds,
 * Diff's nested requests) and the response writer (protojson defaults omitted, int64 as strings,
 * a flame graph's exact levels, the protobuf encoding of the same calls), and the query text
 * parser the query handlers share (server_select.c).
 */
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/wire.h"
#include "format/folded.h"
#include "profile/flame.h"
#include "server/server_querier.h"
#include "server/server_querier_out.h"
#include "server/server_select.h"
#include "test.h"

static int dec(enum querier_method m, const void *b, size_t n, bool json, struct arena *a,
	       struct querier_req *r, struct ember_diag *d)
{
	return querier_decode(m, b, n, json, a, r, d);
}

TEST(querier_decode_proto_select_series)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct querier_req r;
	struct ember_diag d = {{0}};
	struct buf b;
	double step = 15.5;
	uint64_t bits;

	memcpy(&bits, &step, sizeof(bits));
	buf_init(&b, MEM_TEST, 1 << 20);
	wire_put_bytes(&b, 1, "process_cpu:cpu:nanoseconds:cpu:nanoseconds", 43);
	wire_put_bytes(&b, 2, "{a=\"b\"}", 7);
	wire_put_int(&b, 3, 1000);
	wire_put_int(&b, 4, 2000);
	wire_put_bytes(&b, 5, "env", 3);
	wire_put_bytes(&b, 5, "pod", 3);
	wire_put_fixed64(&b, 6, bits);
	wire_put_uint(&b, 7, 1);
	wire_put_int(&b, 9, 7);
	wire_put_uint(&b, 99, 5); /* unknown: skipped */
	CHECK_OK(dec(QM_SELECT_SERIES, b.data, b.len, false, a, &r, &d));
	CHECK_EQ_STR(r.profile_type, "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
	CHECK_EQ_STR(r.label_selector, "{a=\"b\"}");
	CHECK_EQ_INT(r.start_ms, 1000);
	CHECK_EQ_INT(r.end_ms, 2000);
	CHECK_EQ_INT(r.group_by.n, 2);
	CHECK_EQ_STR(r.group_by.v[1], "pod");
	CHECK(r.step_s == 15.5);
	CHECK_EQ_INT(r.aggregation, QUERIER_AGG_AVERAGE);
	CHECK_EQ_INT(r.limit, 7);
	buf_fini(&b);
	arena_free(a);
}

TEST(querier_decode_json_names)
{
	static const char camel[] =
		"{\"profileTypeID\":\"t\",\"labelSelector\":\"{}\",\"start\":\"12\",\"end\":34,"
		"\"maxNodes\":\"9\",\"format\":\"PROFILE_FORMAT_FLAMEGRAPH\",\"unknown\":[1,{}],"
		"\"stackTraceSelector\":{\"callSite\":[{\"name\":\"main\"},{\"name\":\"f\"}]}}";
	static const char snake[] =
		"{\"profile_typeID\":\"t\",\"label_selector\":\"{x=\\\"y\\\"}\","
		"\"start\":12.0,\"max_nodes\":9,\"format\":1,"
		"\"span_selector\":[\"00000000000000a1\"]}";
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct querier_req r;
	struct ember_diag d = {{0}};

	CHECK_OK(dec(QM_SELECT_MERGE_STACKTRACES, camel, strlen(camel), true, a, &r, &d));
	CHECK_EQ_STR(r.profile_type, "t");
	CHECK_EQ_INT(r.start_ms, 12);
	CHECK_EQ_INT(r.end_ms, 34);
	CHECK_EQ_INT(r.max_nodes, 9);
	CHECK_EQ_INT(r.format, QUERIER_FORMAT_FLAMEGRAPH);
	CHECK_EQ_INT(r.call_site.n, 2);
	CHECK_EQ_STR(r.call_site.v[0], "main");
	CHECK_OK(dec(QM_SELECT_MERGE_STACKTRACES, snake, strlen(snake), true, a, &r, &d));
	CHECK_EQ_STR(r.label_selector, "{x=\"y\"}");
	CHECK_EQ_INT(r.start_ms, 12);
	CHECK_EQ_INT(r.max_nodes, 9);
	CHECK_EQ_INT(r.spans.n, 1);
	/* an empty body is the empty message in both encodings */
	CHECK_OK(dec(QM_LABEL_NAMES, "", 0, true, a, &r, &d));
	CHECK_OK(dec(QM_LABEL_NAMES, "", 0, false, a, &r, &d));
	CHECK_EQ_INT(r.matchers.n, 0);
	arena_free(a);
}

TEST(querier_decode_errors)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct querier_req r;
	struct ember_diag d = {{0}};
	static const uint8_t wrong_wt[] = {0x08, 0x01}; /* field 1 (name) as a varint */
	static const uint8_t trunc[] = {0x12, 0x05, 'a'};
	char big[QUERIER_MAX_STRING + 64];

	CHECK_EQ_INT(dec(QM_LABEL_VALUES, wrong_wt, sizeof(wrong_wt), false, a, &r, &d),
		     -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "name") != NULL);
	CHECK_EQ_INT(dec(QM_LABEL_VALUES, trunc, sizeof(trunc), false, a, &r, &d), -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "matchers") != NULL);
	CHECK_EQ_INT(dec(QM_SERIES, "{\"matchers\":\"x\"}", 16, true, a, &r, &d), -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "matchers") != NULL);
	CHECK_EQ_INT(dec(QM_SELECT_SERIES, "{\"step\":\"abc\"}", 14, true, a, &r, &d),
		     -EMBER_EFORMAT);
	CHECK_EQ_INT(dec(QM_SELECT_SERIES, "{\"aggregation\":\"MAX\"}", 21, true, a, &r, &d),
		     -EMBER_EFORMAT);
	CHECK_EQ_INT(dec(QM_SELECT_SERIES, "{\"aggregation\":7}", 17, true, a, &r, &d),
		     -EMBER_EFORMAT);
	CHECK_EQ_INT(dec(QM_PROFILE_TYPES, "{\"start\":1.5}", 13, true, a, &r, &d), -EMBER_EFORMAT);
	CHECK_EQ_INT(dec(QM_PROFILE_TYPES, "[]", 2, true, a, &r, &d), -EMBER_EFORMAT);
	CHECK_EQ_INT(dec(QM_PROFILE_TYPES, "{", 1, true, a, &r, &d), -EMBER_EFORMAT);
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"name\":\"", 9);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	CHECK_EQ_INT(dec(QM_LABEL_VALUES, big, strlen(big), true, a, &r, &d), -EMBER_ELIMIT);
	static const uint8_t nul[] = {0x0a, 0x02, 'a', 0};
	CHECK_EQ_INT(dec(QM_LABEL_VALUES, nul, sizeof(nul), false, a, &r, &d), -EMBER_EFORMAT);
	arena_free(a);
}

TEST(querier_decode_diff_nested)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct querier_req r;
	struct ember_diag d = {{0}};
	struct buf b;
	size_t mark;

	buf_init(&b, MEM_TEST, 1 << 20);
	mark = wire_begin(&b);
	wire_put_bytes(&b, 1, "L", 1);
	wire_put_int(&b, 5, 3);
	wire_end(&b, 1, mark);
	mark = wire_begin(&b);
	wire_put_bytes(&b, 1, "R", 1);
	wire_put_int(&b, 3, 77);
	wire_end(&b, 2, mark);
	CHECK_OK(dec(QM_DIFF, b.data, b.len, false, a, &r, &d));
	CHECK(r.left && r.right);
	CHECK_EQ_STR(r.left->profile_type, "L");
	CHECK_EQ_INT(r.left->max_nodes, 3);
	CHECK_EQ_STR(r.right->profile_type, "R");
	CHECK_EQ_INT(r.right->start_ms, 77);
	CHECK(!r.right->left);
	/* a Diff inside a Diff's side is just an unknown field there */
	static const char js[] = "{\"left\":{\"profileTypeID\":\"L\",\"left\":{\"start\":1}},"
				 "\"right\":{\"profileTypeID\":\"R\"}}";
	CHECK_OK(dec(QM_DIFF, js, strlen(js), true, a, &r, &d));
	CHECK(r.left && !r.left->left);
	buf_fini(&b);
	arena_free(a);
}

static struct flame *small_flame(void)
{
	static const char text[] = "main;serve;parse 100\nmain;serve;render 50\nmain;gc 20\n";
	struct prof *p = NULL;
	struct ember_diag d;
	struct flame *f;

	if (folded_read(text, strlen(text), NULL, NULL, &p, &d))
		return NULL;
	f = flame_new(p, 0, 0);
	prof_free(p);
	return f;
}

TEST(querier_out_flamegraph_json)
{
	struct flame *f = small_flame();
	struct buf b;
	struct qout w;

	CHECK(f);
	buf_init(&b, MEM_TEST, 1 << 20);
	qout_init(&w, true, &b);
	qout_flamegraph(&w, 1, "flamegraph", f);
	qout_str(&w, 2, "empty", "");
	qout_int64(&w, 3, "zero", 0);
	CHECK_OK(qout_finish(&w));
	CHECK_EQ_STR((const char *)b.data,
		     "{\"flamegraph\":{\"names\":[\"total\",\"main\",\"gc\",\"serve\",\"parse\","
		     "\"render\"],\"levels\":[{\"values\":[\"0\",\"170\",\"0\",\"0\"]},"
		     "{\"values\":[\"0\",\"170\",\"0\",\"1\"]},"
		     "{\"values\":[\"0\",\"20\",\"20\",\"2\",\"0\",\"150\",\"0\",\"3\"]},"
		     "{\"values\":[\"20\",\"100\",\"100\",\"4\",\"0\",\"50\",\"50\",\"5\"]}],"
		     "\"total\":\"170\",\"maxSelf\":\"100\"}}");
	buf_fini(&b);
	flame_free(f);
}

TEST(querier_out_flamegraph_proto)
{
	struct flame *f = small_flame();
	struct buf b;
	struct qout w;
	struct wire_reader r, fr;
	uint32_t field, n_names = 0, n_levels = 0;
	enum wire_type wt;
	const uint8_t *p;
	size_t n;
	uint64_t total = 0, max_self = 0;

	CHECK(f);
	buf_init(&b, MEM_TEST, 1 << 20);
	qout_init(&w, false, &b);
	qout_flamegraph(&w, 1, "flamegraph", f);
	CHECK_OK(qout_finish(&w));
	wire_reader_init(&r, b.data, b.len);
	CHECK_OK(wire_read_tag(&r, &field, &wt));
	CHECK(field == 1 && wt == WIRE_LEN);
	CHECK_OK(wire_read_len(&r, &p, &n));
	CHECK(wire_eof(&r));
	fr = wire_sub(&r, p, n);
	while (!wire_eof(&fr)) {
		CHECK_OK(wire_read_tag(&fr, &field, &wt));
		if (field == 3 || field == 4) {
			CHECK_OK(wire_read_varint(&fr, field == 3 ? &total : &max_self));
			continue;
		}
		CHECK_OK(wire_read_len(&fr, &p, &n));
		if (field == 1) {
			if (n_names == 0)
				CHECK(n == 5 && !memcmp(p, "total", 5));
			n_names++;
		} else if (field == 2) {
			n_levels++;
		}
	}
	CHECK_EQ_INT(n_names, 6);
	CHECK_EQ_INT(n_levels, 4);
	CHECK_EQ_INT(total, 170);
	CHECK_EQ_INT(max_self, 100);
	buf_fini(&b);
	flame_free(f);
}

TEST(querier_select_parse)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct store_query q = {0};
	struct ember_diag d = {{0}};
	char tmp[64];

	CHECK_OK(server_select_parse(
		"process_cpu:cpu:nanoseconds:cpu:nanoseconds{a=\"b\",c=~\"d.*\"}", true, a, &q,
		&d));
	CHECK_EQ_STR(q.profile_type, "process_cpu:cpu:nanoseconds:cpu:nanoseconds");
	CHECK_EQ_INT(q.n_matchers, 2);
	CHECK_EQ_STR(q.matchers[1].name, "c");
	CHECK_EQ_INT(q.matchers[1].op, STORE_MATCH_RE);
	CHECK_OK(server_select_parse("t:a:b:c:d", true, a, &q, &d)); /* no braces */
	CHECK_EQ_INT(q.n_matchers, 0);
	CHECK_OK(server_select_parse("service_name=\"x\"", false, a, &q, &d)); /* bare matchers */
	CHECK(q.profile_type == NULL);
	CHECK_EQ_INT(q.n_matchers, 1);
	CHECK_OK(server_select_parse("", false, a, &q, &d));
	CHECK_EQ_INT(server_select_parse("{a=\"b\"}", true, a, &q, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_select_parse("", true, a, &q, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_select_parse("t{a=}", true, a, &q, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_select_parse("t}{", true, a, &q, &d), -EMBER_EUSAGE);
	CHECK_EQ_STR(server_type_field("n:t:u:p:pu", 2, tmp, sizeof(tmp)), "u");
	CHECK_EQ_STR(server_type_field("n:t:u:p:pu", 4, tmp, sizeof(tmp)), "pu");
	CHECK_EQ_STR(server_type_field("n:t", 3, tmp, sizeof(tmp)), "");
	CHECK_EQ_STR(server_type_field(NULL, 0, tmp, sizeof(tmp)), "");
	CHECK_EQ_STR(server_type_field("abcdef", 0, tmp, 4), "abc");
	arena_free(a);
}

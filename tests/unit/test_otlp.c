/*
 * test_otlp.c — unit tests for the OTLP profiles decoder (format/otlp.c, otlp_dict.c): a request
 * built here with the wire writer (two profiles sharing one dictionary, resource / scope /
 * profile / sample attributes, a span link, a mapping build id, samples as values and as
 * timestamps, packed and unpacked repeated fields) decodes to the expected profiles, labels,
 * names and totals; indices out of range, bad value/timestamp counts and limits fail with the
 * field named; label names are sanitized.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/wire.h"
#include "format/otlp.h"
#include "profile/profile.h"
#include "test.h"

/* What the request builder may break. */
enum req_bad {
	BAD_NONE,
	BAD_STACK_INDEX,
	BAD_FUNCTION_INDEX,
	BAD_STRING_INDEX,
	BAD_VALUES_TIMESTAMPS,
	BAD_NEGATIVE_INDEX,
};

static void put_str(struct buf *b, uint32_t field, const char *s)
{
	wire_put_bytes(b, field, s, strlen(s));
}

/* KeyValue{key, AnyValue{string_value}} as field `field`. */
static void put_kv(struct buf *b, uint32_t field, const char *k, const char *v)
{
	size_t m = wire_begin(b), mv;

	put_str(b, 1, k);
	mv = wire_begin(b);
	put_str(b, 1, v);
	wire_end(b, 2, mv);
	wire_end(b, field, m);
}

/* Strings: 0 "", 1 main, 2 work, 3 idle, 4 samples, 5 count, 6 cpu, 7 nanoseconds, 8 alloc_space,
 * 9 bytes, 10 env, 11 prod, 12 /bin/app, 13 process.executable.build_id.gnu, 14 b1d, 15 thread,
 * 16 t1, 17 app.c */
static const char *const strs[] = {"",
				   "main",
				   "work",
				   "idle",
				   "samples",
				   "count",
				   "cpu",
				   "nanoseconds",
				   "alloc_space",
				   "bytes",
				   "env",
				   "prod",
				   "/bin/app",
				   "process.executable.build_id.gnu",
				   "b1d",
				   "thread",
				   "t1",
				   "app.c"};

static void put_dictionary(struct buf *b, enum req_bad bad)
{
	size_t d = wire_begin(b), m;

	/* mappings: 0 zero, 1 /bin/app with build id attribute 2 */
	m = wire_begin(b);
	wire_end(b, 1, m);
	m = wire_begin(b);
	wire_put_uint(b, 1, 0x400000);
	wire_put_uint(b, 2, 0x500000);
	wire_put_uint(b, 4, 12);
	wire_put_uint(b, 5, 2); /* unpacked attribute index */
	wire_end(b, 1, m);
	/* locations: 0 zero, 1..3 = functions 1..3 (main, work, idle), line 10+i */
	m = wire_begin(b);
	wire_end(b, 2, m);
	for (uint32_t i = 1; i <= 3; i++) {
		size_t l;

		m = wire_begin(b);
		wire_put_uint(b, 1, 1);
		wire_put_uint(b, 2, 0x401000 + i * 16);
		l = wire_begin(b);
		wire_put_uint(b, 1, bad == BAD_FUNCTION_INDEX && i == 3 ? 9 : i);
		wire_put_uint(b, 2, 10 + i);
		wire_end(b, 3, l);
		wire_end(b, 2, m);
	}
	/* functions: 0 zero, 1 main, 2 work, 3 idle */
	m = wire_begin(b);
	wire_end(b, 3, m);
	for (uint32_t i = 1; i <= 3; i++) {
		m = wire_begin(b);
		wire_put_uint(b, 1, bad == BAD_STRING_INDEX && i == 2 ? 99 : i);
		wire_put_uint(b, 3, 17);
		wire_end(b, 3, m);
	}
	/* links: 0 zero, 1 span 0102030405060708 */
	m = wire_begin(b);
	wire_put_bytes(b, 1, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	wire_put_bytes(b, 2, "\0\0\0\0\0\0\0\0", 8);
	wire_end(b, 4, m);
	m = wire_begin(b);
	wire_put_bytes(b, 1, "0123456789abcdef", 16);
	wire_put_bytes(b, 2, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	wire_end(b, 4, m);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(strs); i++)
		put_str(b, 5, strs[i]);
	/* attributes: 0 zero, 1 env=prod, 2 build id, 3 thread=t1 (string_value_strindex) */
	m = wire_begin(b);
	wire_end(b, 6, m);
	const uint32_t kv[3][2] = {{10, 11}, {13, 14}, {15, 16}};
	for (int i = 0; i < 3; i++) {
		size_t v;

		m = wire_begin(b);
		wire_put_uint(b, 1, kv[i][0]);
		v = wire_begin(b);
		if (i == 2)
			wire_put_uint(b, 8, kv[i][1]);
		else
			put_str(b, 1, strs[kv[i][1]]);
		wire_end(b, 2, v);
		wire_end(b, 6, m);
	}
	/* stacks: 0 empty, 1 = work<-main (leaf first, packed), 2 = idle<-main (unpacked) */
	m = wire_begin(b);
	wire_end(b, 7, m);
	m = wire_begin(b);
	{
		size_t pk = wire_begin(b);

		wire_put_varint(b, 2);
		wire_put_varint(b, 1);
		wire_end(b, 1, pk);
	}
	wire_end(b, 7, m);
	m = wire_begin(b);
	wire_put_uint(b, 1, 3);
	wire_put_uint(b, 1, 1);
	wire_end(b, 7, m);
	wire_end(b, 2, d);
}

static void put_value_type(struct buf *b, uint32_t field, uint32_t type, uint32_t unit)
{
	size_t m = wire_begin(b);

	wire_put_uint(b, 1, type);
	wire_put_uint(b, 2, unit);
	wire_end(b, field, m);
}

static void put_profiles(struct buf *b, enum req_bad bad)
{
	size_t p, s;

	/* profile 1: samples/count, period cpu/nanoseconds 10 ms, attribute env=prod */
	p = wire_begin(b);
	put_value_type(b, 1, 4, 5);
	s = wire_begin(b); /* stack 1 (main;work), value 5, thread=t1 */
	wire_put_uint(b, 1, bad == BAD_STACK_INDEX ? 7 : 1);
	wire_put_uint(b, 2, 3);
	wire_put_uint(b, 4, 5);
	wire_end(b, 2, s);
	s = wire_begin(b); /* stack 2 (main;idle), 3 timestamps, span link 1 */
	wire_put_uint(b, 1, 2);
	wire_put_uint(b, 3, 1);
	for (int i = 0; i < 3; i++)
		wire_put_fixed64(b, 5, 1000 + i);
	if (bad == BAD_VALUES_TIMESTAMPS) {
		wire_put_uint(b, 4, 1);
		wire_put_uint(b, 4, 1);
	}
	wire_end(b, 2, s);
	wire_put_fixed64(b, 3, 1700000000000000000ull);
	wire_put_uint(b, 4, 15000000000ull);
	put_value_type(b, 5, 6, 7);
	wire_put_uint(b, 6, 10000000);
	if (bad == BAD_NEGATIVE_INDEX)
		wire_put_int(b, 11, -1);
	else
		wire_put_uint(b, 11, 1);
	wire_end(b, 2, p);
	/* profile 2: alloc_space/bytes, one sample of 4096 on stack 1 */
	p = wire_begin(b);
	put_value_type(b, 1, 8, 9);
	s = wire_begin(b);
	wire_put_uint(b, 1, 1);
	wire_put_uint(b, 4, 4096);
	wire_end(b, 2, s);
	wire_end(b, 2, p);
}

static void build_request(struct buf *b, enum req_bad bad)
{
	size_t rp = wire_begin(b), r, sp, sc;

	r = wire_begin(b);
	put_kv(b, 1, "service.name", "svc");
	put_kv(b, 1, "host-name", "h1");
	put_kv(b, 1, "9lives", "cat");
	wire_end(b, 1, r);
	sp = wire_begin(b);
	sc = wire_begin(b);
	put_str(b, 1, "scope");
	put_kv(b, 3, "scope.attr", "s");
	wire_end(b, 1, sc);
	put_profiles(b, bad);
	wire_end(b, 2, sp);
	wire_end(b, 1, rp);
	put_dictionary(b, bad); /* after the profiles: the order must not matter */
}

static const char *label(const struct otlp_profile *op, const char *name)
{
	for (size_t i = 0; i < op->n_labels; i++)
		if (!strcmp(op->labels[i].name, name))
			return op->labels[i].value;
	return NULL;
}

TEST(otlp_decode_request)
{
	struct buf b;
	struct otlp_request *req = NULL;
	struct ember_diag d = {{0}};
	int err;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	build_request(&b, BAD_NONE);
	err = otlp_decode(b.data, b.len, NULL, &req, &d);
	buf_fini(&b);
	CHECK_MSG(err == 0, "decode: %s", d.msg);
	CHECK_EQ_INT(req->n_profiles, 2);

	const struct otlp_profile *cpu = &req->profiles[0], *mem = &req->profiles[1];
	CHECK_EQ_STR(cpu->name, "process_cpu");
	CHECK_EQ_STR(mem->name, "memory");
	CHECK_EQ_STR(cpu->labels[0].name, "service_name");
	CHECK_EQ_STR(cpu->labels[0].value, "svc");
	CHECK_EQ_STR(label(cpu, "host_name"), "h1");
	CHECK_EQ_STR(label(cpu, "_9lives"), "cat");
	CHECK_EQ_STR(label(cpu, "scope.attr"), "s");
	CHECK_EQ_STR(label(cpu, "env"), "prod");
	CHECK(label(mem, "env") == NULL);
	CHECK_EQ_STR(label(mem, "service_name"), "svc");

	/* cpu: samples/count × 10 ms becomes cpu/nanoseconds; 5 + 3 timestamps */
	const struct prof *p = cpu->prof;
	CHECK_EQ_INT(prof_n_sample_types(p), 1);
	CHECK_EQ_STR(prof_string(p, prof_sample_types(p)[0].type), "cpu");
	CHECK_EQ_STR(prof_string(p, prof_sample_types(p)[0].unit), "nanoseconds");
	CHECK_EQ_INT(prof_total(p, 0), 8 * 10000000LL);
	CHECK_EQ_INT(prof_n_samples(p), 2);
	CHECK_EQ_INT(prof_meta_get(p)->time_ns, 1700000000000000000LL);
	CHECK_EQ_INT(prof_meta_get(p)->duration_ns, 15000000000LL);
	CHECK_EQ_INT(prof_meta_get(p)->period, 10000000);
	CHECK_EQ_STR(prof_string(p, prof_meta_get(p)->period_type.type), "cpu");

	/* stacks, names, mapping and build id, sample labels */
	int seen_work = 0, seen_span = 0, seen_thread = 0;
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;
		struct prof_location loc;
		char tmp[80];
		size_t nl;
		const struct prof_label *ls;

		prof_sample_get(p, i, &s);
		CHECK_EQ_INT(prof_node_depth(p, s.node), 2);
		uint32_t leaf = prof_node_location(p, s.node);
		const char *leaf_name = prof_frame_name(p, leaf, 0, tmp);
		CHECK_EQ_STR(prof_frame_name(p, prof_node_location(p, prof_node_parent(p, s.node)),
					     0, tmp),
			     "main");
		prof_location_get(p, leaf, &loc);
		CHECK(loc.mapping != 0);
		CHECK_EQ_STR(prof_string(p, prof_mapping_get(p, loc.mapping)->build_id), "b1d");
		CHECK_EQ_STR(prof_string(p, prof_mapping_get(p, loc.mapping)->filename),
			     "/bin/app");
		ls = prof_labelset_get(p, s.labelset, &nl);
		if (!strcmp(leaf_name, "work")) {
			seen_work = 1;
			CHECK_EQ_INT(s.values[0], 5 * 10000000LL);
			CHECK_EQ_INT(loc.n_lines, 1);
			CHECK_EQ_INT(loc.lines[0].line, 12);
			for (size_t k = 0; k < nl; k++)
				seen_thread |= !strcmp(prof_string(p, ls[k].key), "thread") &&
					       !strcmp(prof_string(p, ls[k].str), "t1");
		} else {
			CHECK_EQ_STR(leaf_name, "idle");
			CHECK_EQ_INT(s.values[0], 3 * 10000000LL);
			for (size_t k = 0; k < nl; k++)
				seen_span |= !strcmp(prof_string(p, ls[k].key), "span_id") &&
					     !strcmp(prof_string(p, ls[k].str), "0102030405060708");
		}
	}
	CHECK(seen_work && seen_span && seen_thread);

	/* alloc_space keeps its type; the shared dictionary gives the same names */
	p = mem->prof;
	CHECK_EQ_STR(prof_string(p, prof_sample_types(p)[0].type), "alloc_space");
	CHECK_EQ_INT(prof_total(p, 0), 4096);
	otlp_request_free(req);
}

static void expect_error(enum req_bad bad, int code, const char *needle)
{
	struct buf b;
	struct otlp_request *req = NULL;
	struct ember_diag d = {{0}};
	int err;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	build_request(&b, bad);
	err = otlp_decode(b.data, b.len, NULL, &req, &d);
	buf_fini(&b);
	CHECK_EQ_INT(err, code);
	CHECK(req == NULL);
	CHECK_MSG(strstr(d.msg, needle), "message '%s' lacks '%s'", d.msg, needle);
}

TEST(otlp_decode_errors_name_the_field)
{
	expect_error(BAD_STACK_INDEX, -EMBER_EFORMAT,
		     "resource_profiles[0].scope_profiles[0].profiles[0].samples[0].stack_index: 7 "
		     "out of range (stack_table has 3 entries)");
	expect_error(BAD_FUNCTION_INDEX, -EMBER_EFORMAT,
		     "dictionary.location_table[3].lines[0].function_index: 9 out of range");
	expect_error(BAD_STRING_INDEX, -EMBER_EFORMAT,
		     "dictionary.function_table[2].name_strindex: 99 out of range");
	expect_error(BAD_VALUES_TIMESTAMPS, -EMBER_EFORMAT, "2 values but 3 timestamps");
	expect_error(BAD_NEGATIVE_INDEX, -EMBER_EFORMAT, "profiles[0].attribute_indices");
}

TEST(otlp_decode_truncations_fail_cleanly)
{
	struct buf b;
	size_t n_ok = 0;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	build_request(&b, BAD_NONE);
	for (size_t len = 0; len < b.len; len++) {
		struct otlp_request *req = NULL;
		struct ember_diag d = {{0}};

		if (otlp_decode(b.data, len, NULL, &req, &d) == 0) {
			n_ok++; /* a cut at a field boundary is a valid shorter request */
			otlp_request_free(req);
		} else {
			CHECK(req == NULL && d.msg[0]);
		}
	}
	CHECK(n_ok < b.len / 4);
	buf_fini(&b);
}

TEST(otlp_decode_limits)
{
	struct buf b;
	struct otlp_request *req = NULL;
	struct ember_diag d = {{0}};
	struct otlp_limits lim = {.max_labels = 3};

	buf_init(&b, MEM_TEST, SIZE_MAX);
	build_request(&b, BAD_NONE);
	CHECK_EQ_INT(otlp_decode(b.data, b.len, &lim, &req, &d), -EMBER_ELIMIT);
	CHECK(strstr(d.msg, "more than 3 labels"));
	lim = (struct otlp_limits){.max_profiles = 1};
	CHECK_EQ_INT(otlp_decode(b.data, b.len, &lim, &req, &d), -EMBER_ELIMIT);
	lim = (struct otlp_limits){.max_table = 5};
	CHECK_EQ_INT(otlp_decode(b.data, b.len, &lim, &req, &d), -EMBER_ELIMIT);
	CHECK(strstr(d.msg, "string_table: more than 5 entries"));
	lim = (struct otlp_limits){.max_stack_depth = 1};
	CHECK_EQ_INT(otlp_decode(b.data, b.len, &lim, &req, &d), -EMBER_ELIMIT);
	lim = (struct otlp_limits){.max_label_value_len = 2};
	CHECK_EQ_INT(otlp_decode(b.data, b.len, &lim, &req, &d), -EMBER_ELIMIT);
	buf_fini(&b);
}

TEST(otlp_decode_empty_request)
{
	struct otlp_request *req = NULL;
	struct ember_diag d = {{0}};

	CHECK_OK(otlp_decode("", 0, NULL, &req, &d));
	CHECK_EQ_INT(req->n_profiles, 0);
	otlp_request_free(req);
}

TEST(otlp_label_name_sanitizes)
{
	char out[64];

	otlp_label_name("service.name", 12, out, sizeof(out));
	CHECK_EQ_STR(out, "service_name");
	otlp_label_name("k8s.pod-name/x", 14, out, sizeof(out));
	CHECK_EQ_STR(out, "k8s.pod_name_x");
	otlp_label_name("1abc", 4, out, sizeof(out));
	CHECK_EQ_STR(out, "_1abc");
	otlp_label_name(".x", 2, out, sizeof(out));
	CHECK_EQ_STR(out, "_.x");
	otlp_label_name("", 0, out, sizeof(out));
	CHECK_EQ_STR(out, "_");
}

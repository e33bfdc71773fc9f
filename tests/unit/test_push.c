/*
 * test_push.c — unit tests for the push.v1 PushRequest decoders (server/server_push_dec.c):
 * binary proto (zero-copy raw profiles, unknown fields skipped), Connect JSON with camelCase
 * and proto field names, standard and URL-safe base64 with or without padding, and the errors:
 * bad label names, label count and value limits, series limits, malformed input.
 */
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/wire.h"
#include "server/server_push.h"
#include "test.h"

static void put_label(struct buf *b, const char *n, const char *v)
{
	size_t m = wire_begin(b);

	wire_put_bytes(b, 1, n, strlen(n));
	wire_put_bytes(b, 2, v, strlen(v));
	wire_end(b, 1, m);
}

TEST(push_decode_proto)
{
	struct buf b;
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct server_push_req req;
	struct ember_diag d = {{0}};
	size_t s, m;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	s = wire_begin(&b);
	put_label(&b, "__name__", "process_cpu");
	put_label(&b, "service_name", "app");
	m = wire_begin(&b);
	wire_put_bytes(&b, 1, "RAW1", 4);
	wire_put_bytes(&b, 2, "id-1", 4);
	wire_end(&b, 2, m);
	m = wire_begin(&b);
	wire_put_bytes(&b, 1, "RAW22", 5);
	wire_end(&b, 2, m);
	wire_put_uint(&b, 9, 7); /* unknown field */
	wire_end(&b, 1, s);
	s = wire_begin(&b); /* an empty series */
	wire_end(&b, 1, s);

	CHECK_MSG(server_push_decode_proto(b.data, b.len, NULL, a, &req, &d) == 0, "%s", d.msg);
	CHECK_EQ_INT(req.n_series, 2);
	CHECK_EQ_INT(req.series[0].n_labels, 2);
	CHECK_EQ_STR(req.series[0].labels[1].name, "service_name");
	CHECK_EQ_STR(req.series[0].labels[1].value, "app");
	CHECK_EQ_INT(req.series[0].n_samples, 2);
	CHECK_EQ_INT(req.series[0].samples[1].len, 5);
	CHECK(!memcmp(req.series[0].samples[1].raw, "RAW22", 5));
	CHECK(req.series[0].samples[0].raw > b.data &&
	      req.series[0].samples[0].raw < b.data + b.len); /* zero-copy */
	CHECK_EQ_INT(req.series[1].n_labels + req.series[1].n_samples, 0);

	/* truncations fail with a message */
	for (size_t len = 1; len < b.len; len++) {
		int err = server_push_decode_proto(b.data, len, NULL, a, &req, &d);

		CHECK(err == 0 || (err == -EMBER_EFORMAT && d.msg[0]));
	}
	buf_fini(&b);
	arena_free(a);
}

static int json(const char *text, const struct server_push_limits *lim, struct arena *a,
		struct server_push_req *req, struct ember_diag *d)
{
	d->msg[0] = 0;
	return server_push_decode_json((const uint8_t *)text, strlen(text), lim, a, req, d);
}

TEST(push_decode_json)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct server_push_req req;
	struct ember_diag d;

	CHECK_MSG(json("{\"series\":[{\"labels\":[{\"name\":\"service_name\",\"value\":\"x\"}],"
		       "\"samples\":[{\"rawProfile\":\"AAEC\",\"ID\":\"u\"},"
		       "{\"raw_profile\":\"-_8\"},{\"rawProfile\":\"+/8=\"}]}],\"extra\":1}",
		       NULL, a, &req, &d) == 0,
		  "%s", d.msg);
	CHECK_EQ_INT(req.n_series, 1);
	CHECK_EQ_INT(req.series[0].n_samples, 3);
	CHECK_EQ_INT(req.series[0].samples[0].len, 3);
	CHECK(!memcmp(req.series[0].samples[0].raw, "\x00\x01\x02", 3));
	CHECK_EQ_INT(req.series[0].samples[1].len, 2);
	CHECK(!memcmp(req.series[0].samples[1].raw, "\xfb\xff", 2));
	CHECK(!memcmp(req.series[0].samples[2].raw, "\xfb\xff", 2));
	CHECK_OK(json("{}", NULL, a, &req, &d));
	CHECK_EQ_INT(req.n_series, 0);
	arena_free(a);
}

TEST(push_decode_errors)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct server_push_req req;
	struct ember_diag d;
	struct server_push_limits lim = {
		.max_labels = 2, .max_label_value_len = 4, .max_series = 1};

	CHECK_EQ_INT(json("{\"series\":[{\"labels\":[{\"name\":\"1x\",\"value\":\"v\"}]}]}", NULL,
			  a, &req, &d),
		     -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "series[0].labels[0].name"));
	CHECK_EQ_INT(json("{\"series\":[{\"labels\":[{\"name\":\"a\"},{\"name\":\"b\"},"
			  "{\"name\":\"c\"}]}]}",
			  &lim, a, &req, &d),
		     -EMBER_ELIMIT);
	CHECK_EQ_INT(json("{\"series\":[{\"labels\":[{\"name\":\"a\",\"value\":\"12345\"}]}]}",
			  &lim, a, &req, &d),
		     -EMBER_ELIMIT);
	CHECK(strstr(d.msg, "longer than 4"));
	CHECK_EQ_INT(json("{\"series\":[{},{}]}", &lim, a, &req, &d), -EMBER_ELIMIT);
	CHECK_EQ_INT(
		json("{\"series\":[{\"samples\":[{\"rawProfile\":\"A\"}]}]}", NULL, a, &req, &d),
		-EMBER_EFORMAT);
	CHECK(strstr(d.msg, "base64"));
	CHECK_EQ_INT(json("{\"series\":[{\"samples\":[{}]}]}", NULL, a, &req, &d), -EMBER_EFORMAT);
	CHECK_EQ_INT(json("[1]", NULL, a, &req, &d), -EMBER_EFORMAT);
	CHECK_EQ_INT(json("{\"series\":", NULL, a, &req, &d), -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "bad JSON"));
	CHECK_EQ_INT(json("{\"series\":[{\"labels\":[{\"name\":\"a\",\"value\":\"\\u0000\"}]}]}",
			  NULL, a, &req, &d),
		     -EMBER_EFORMAT);
	arena_free(a);
}

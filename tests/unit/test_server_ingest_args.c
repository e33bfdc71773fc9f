/*
 * test_server_ingest_args.c — the /ingest arguments that are not a profile: from/until
 * (server_time_parse: now-X, and digits by their count as s, YYYYMMDD, ms, us or ns, with
 * anything past the year 2262 in ns refused rather than wrapped) and the name argument
 * (server_ingest_name_parse: app.kind{k=v,...}).
 */
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "server/server_int.h"
#include "test.h"

#define NOW ((int64_t)1700000000 * 1000000000)

static int64_t t_ok(const char *s)
{
	int64_t t = -1;

	return server_time_parse(s, NOW, &t) ? -1 : t;
}

TEST(server_time_parse_units_and_bounds)
{
	int64_t t;

	CHECK_EQ_INT(t_ok("now"), NOW);
	CHECK_EQ_INT(t_ok("now-1h"), NOW - (int64_t)3600 * 1000000000);
	CHECK_EQ_INT(t_ok("1700000000"), NOW);
	CHECK_EQ_INT(t_ok("1700000000123"), NOW + 123000000);
	CHECK_EQ_INT(t_ok("1700000000123456"), NOW + 123456000);
	CHECK_EQ_INT(t_ok("1700000000123456789"), NOW + 123456789);
	CHECK_EQ_INT(t_ok("20231114"), (int64_t)1699920000 * 1000000000);
	CHECK_EQ_INT(t_ok("9223372036854775807"), INT64_MAX);
	/* past INT64_MAX ns: refused, not wrapped */
	CHECK_EQ_INT(server_time_parse("9223372036854775808", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("9999999999999999999", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("9999999999999", NOW, &t), -EMBER_EUSAGE);    /* ms */
	CHECK_EQ_INT(server_time_parse("9999999999999999", NOW, &t), -EMBER_EUSAGE); /* us */
	CHECK_EQ_INT(server_time_parse("99991231", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("99999999999", NOW, &t), -EMBER_EUSAGE); /* s */
	CHECK_EQ_INT(server_time_parse("now-99999999999y", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("now-1x", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("12a", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("", NOW, &t), -EMBER_EUSAGE);
	CHECK_EQ_INT(server_time_parse("20231399", NOW, &t), -EMBER_EUSAGE);
}

TEST(server_ingest_name_parse_tags)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct server_ingest_name n;
	struct server_resp r;

	memset(&r, 0, sizeof(r));
	buf_init(&r.body, MEM_TEST, 4096);
	CHECK_EQ_INT(server_ingest_name_parse(" app.cpu { env = prod , __name__=x, "
					      "__session_id__=s1 }",
					      a, &n, &r),
		     0);
	CHECK_EQ_STR(n.base, "app.cpu");
	CHECK_EQ_INT(n.n_tags, 2);
	CHECK_EQ_STR(n.tags[0].name, "env");
	CHECK_EQ_STR(n.tags[0].value, "prod");
	CHECK_EQ_STR(n.tags[1].name, "__session_id__");
	CHECK_EQ_INT(server_ingest_name_parse("app.cpu{env", a, &n, &r), -1);
	CHECK_EQ_INT(r.status, 400);
	CHECK(strstr((const char *)r.body.data, "closing") != NULL);
	r.body.len = 0;
	CHECK_EQ_INT(server_ingest_name_parse("app.cpu{novalue}", a, &n, &r), -1);
	CHECK(strstr((const char *)r.body.data, "key=value") != NULL);
	CHECK_EQ_INT(server_ingest_name_parse("bad name", a, &n, &r), -1);
	CHECK_EQ_INT(server_ingest_name_parse("", a, &n, &r), -1);
	buf_fini(&r.body);
	arena_free(a);
}

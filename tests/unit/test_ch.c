/*
 * test_ch.c — the ClickHouse backend's pieces that need no server: URL parsing (defaults,
 * bad hosts/ports/database names), SQL and TabSeparated escaping, and a clear -ECONNREFUSED
 * when nothing listens. The server round trip is tests/integration/clickhouse_basic.sh.
 */
#include <errno.h>

#include "store/clickhouse/ch.h"
#include "test.h"

TEST(ch_url_parse)
{
	struct ch_conn c;
	struct ember_diag d;

	CHECK_OK(ch_conn_init(&c, "clickhouse://127.0.0.1:9000/prof_db", &d));
	CHECK_EQ_STR(c.base_url, "http://127.0.0.1:9000/");
	CHECK_EQ_STR(c.db, "prof_db");
	ch_conn_fini(&c);
	CHECK_OK(ch_conn_init(&c, "clickhouse://ch-1.local", &d));
	CHECK_EQ_STR(c.base_url, "http://ch-1.local:8123/");
	CHECK_EQ_STR(c.db, "ember");
	ch_conn_fini(&c);
	CHECK_EQ_INT(ch_conn_init(&c, "http://x:8123/db", &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_conn_init(&c, "clickhouse://:8123/db", &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_conn_init(&c, "clickhouse://h:0/db", &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_conn_init(&c, "clickhouse://h:70000/db", &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_conn_init(&c, "clickhouse://h:80x/db", &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_conn_init(&c, "clickhouse://h@evil/db", &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_conn_init(&c, "clickhouse://h/db;DROP", &d), -EMBER_EUSAGE);
	CHECK(strstr(d.msg, "database name") != NULL);
	CHECK_EQ_INT(ch_conn_init(&c, NULL, &d), -EMBER_EUSAGE);
}

TEST(ch_escape)
{
	struct buf b;

	buf_init(&b, MEM_TEST, 1024);
	CHECK_OK(ch_sql_quote(&b, "a'b\\c\td\ne\0f", 11));
	CHECK_EQ_INT(b.len, 18);
	CHECK(!memcmp(b.data, "'a\\'b\\\\c\\td\\ne\\0f'", 18));
	buf_reset(&b);
	CHECK_OK(ch_tsv_escape(&b, "x\ty\\z\n", 6));
	CHECK_EQ_INT(b.len, 9);
	CHECK(!memcmp(b.data, "x\\ty\\\\z\\n", 9));
	buf_fini(&b);
	buf_init(&b, MEM_TEST, 4);
	CHECK_EQ_INT(ch_sql_quote(&b, "abcdef", 6), -EMBER_ELIMIT);
	buf_fini(&b);
}

TEST(ch_unreachable)
{
	struct store_opts o = {.backend = "clickhouse", .url = "clickhouse://127.0.0.1:1/x"};
	struct store *s = NULL;
	struct ember_diag d;

	CHECK_EQ_INT(store_open(&o, &s, &d), -ECONNREFUSED);
	CHECK(s == NULL);
	CHECK(strstr(d.msg, "cannot connect") != NULL);
}

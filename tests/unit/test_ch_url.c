/*
 * test_ch_url.c — the ClickHouse backend's URL (hosts, database, parameters: ch_url_parse) and
 * a query that times out with a clear message (a loopback socket that accepts and never
 * answers), and storage.url in the server's YAML. The batching writer against a real server is tested by
 * tests/integration/clickhouse_{kill,backpressure,cluster}.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_config.h"
#include "store/clickhouse/ch.h"
#include "test.h"

TEST(ch_url_params)
{
	struct ch_url u;
	struct ember_diag d;

	CHECK_OK(ch_url_parse("clickhouse://h1:8123,h-2.x:9000/prof?cluster=two_shards&"
			      "flush_ms=20&batch_rows=500&max_pending=4096&timeout_ms=800&"
			      "retry_ms=0&retention_days=30",
			      &u, &d));
	CHECK_EQ_INT(u.n_hosts, 2);
	CHECK_EQ_STR(u.hosts[0], "http://h1:8123/");
	CHECK_EQ_STR(u.hosts[1], "http://h-2.x:9000/");
	CHECK_EQ_STR(u.db, "prof");
	CHECK_EQ_STR(u.cluster, "two_shards");
	CHECK_EQ_INT(u.flush_ms, 20);
	CHECK_EQ_INT(u.batch_rows, 500);
	CHECK_EQ_INT(u.max_pending, 4096);
	CHECK_EQ_INT(u.timeout_ms, 800);
	CHECK_EQ_INT(u.retry_ms, 0);
	CHECK_EQ_INT(u.retention_days, 30);

	CHECK_OK(ch_url_parse("clickhouse://h?flush_ms=5", &u, &d));
	CHECK_EQ_STR(u.db, "ember");
	CHECK_EQ_STR(u.cluster, "");
	CHECK_EQ_INT(u.flush_ms, 5);
	CHECK_EQ_INT(u.batch_rows, 100000);
	CHECK_EQ_INT(u.retry_ms, 3000);

	CHECK_EQ_INT(ch_url_parse("clickhouse://h1,h2/db", &u, &d), -EMBER_EUSAGE);
	CHECK(strstr(d.msg, "cluster") != NULL);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h1,/db?cluster=c", &u, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h/db?cluster=a-b", &u, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h/db?flush_ms=0", &u, &d), -EMBER_EUSAGE);
	CHECK(strstr(d.msg, "flush_ms") != NULL);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h/db?max_pending=1x", &u, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h/db?flush_ms=99999999999999999999999", &u, &d),
		     -EMBER_EUSAGE);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h/db?user=x", &u, &d), -EMBER_EUSAGE);
	CHECK(strstr(d.msg, "unknown url parameter") != NULL);
	CHECK_EQ_INT(ch_url_parse("clickhouse://h:/db", &u, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(
		ch_url_parse("clickhouse://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q/db?cluster=c", &u, &d),
		-EMBER_EUSAGE);
}

TEST(ch_query_timeout)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	char url[128];
	struct ch_url u;
	struct ch_conn c;
	struct ember_diag d;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CHECK(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_OK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	CHECK_OK(listen(fd, 4)); /* the kernel accepts; nobody ever answers */
	CHECK_OK(getsockname(fd, (struct sockaddr *)&sa, &sl));
	snprintf(url, sizeof(url), "clickhouse://127.0.0.1:%u/x?timeout_ms=300",
		 ntohs(sa.sin_port));
	CHECK_OK(ch_url_parse(url, &u, &d));
	CHECK_OK(ch_conn_open(&c, &u, 0, &d));
	CHECK_EQ_INT(ch_query(&c, "SELECT 1", NULL, NULL, &d), -ETIMEDOUT);
	CHECK(strstr(d.msg, "300 ms") != NULL);
	ch_conn_fini(&c);
	close(fd);
}

TEST(ch_storage_config)
{
	static const char ok[] = "storage:\n  url: clickhouse://h1:8123,h2:8124/db?cluster=c\n";
	static const char bad[] = "storage:\n  url: mysql://h/db\n";
	struct server_config *c = NULL;
	struct ember_diag d;

	CHECK_OK(server_config_parse(ok, sizeof(ok) - 1, "t.yaml", &c, &d));
	CHECK_EQ_STR(c->store.backend, "clickhouse");
	CHECK_EQ_STR(c->store.url, "clickhouse://h1:8123,h2:8124/db?cluster=c");
	server_config_free(c);
	c = NULL;
	CHECK_EQ_INT(server_config_parse(bad, sizeof(bad) - 1, "t.yaml", &c, &d), -EMBER_EUSAGE);
	CHECK(c == NULL);
	CHECK(strstr(d.msg, "t.yaml:2") != NULL);
	CHECK(strstr(d.msg, "clickhouse://") != NULL);
	CHECK_OK(server_storage_parse("local", &(struct store_opts){0}, &d));
}

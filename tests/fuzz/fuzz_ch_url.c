/*
 * fuzz_ch_url.c — libFuzzer target for the ClickHouse backend's URL parser (ch_url_parse: the
 * --storage / storage.url value): hosts, ports, database, query parameters. Accepted URLs must
 * give at least one http://host:port/ base, a [A-Za-z0-9_] database name, a cluster when
 * several hosts are listed, and parameters within their ranges; anything else aborts.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/clickhouse/ch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ident_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ch_url u;
	struct ember_diag d;
	char buf[4096];
	size_t i;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = 0;
	if (ch_url_parse(buf, &u, &d)) {
		if (!d.msg[0])
			abort();
		return 0;
	}
	if (!u.n_hosts || u.n_hosts > CH_HOSTS_MAX || !ident_ok(u.db))
		abort();
	if (u.n_hosts > 1 && !ident_ok(u.cluster))
		abort();
	if (u.cluster[0] && !ident_ok(u.cluster))
		abort();
	for (i = 0; i < u.n_hosts; i++)
		if (strncmp(u.hosts[i], "http://", 7) || !strchr(u.hosts[i] + 7, ':') ||
		    u.hosts[i][strlen(u.hosts[i]) - 1] != '/' || strpbrk(u.hosts[i] + 7, "@?#&,"))
			abort();
	if (!u.flush_ms || !u.batch_rows || u.max_pending < 1024 || u.timeout_ms < 100)
		abort();
	return 0;
}

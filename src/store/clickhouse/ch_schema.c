/*
 * ch_schema.c — creates the ClickHouse schema of the Ember backend when missing and checks its
 * version: the database, the tables documented byte by byte in docs/internals/clickhouse.md
 * (series, profiles, samples, stacks, symbols) and ember_schema_version, which records every
 * schema version applied. Only features ClickHouse 18.16 (Debian 12) has are used; the server
 * version is read so that newer-only features (TTL, LowCardinality) can be enabled later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/clickhouse/ch.h"

/* "name (columns) ENGINE ...", created in the database of the URL. The time-keyed tables
 * are partitioned by the UTC day of the profile time. */
static const char *const ch_tables[] = {
	"ember_schema_version (version UInt32, "
	"applied_at DateTime, server_version String) ENGINE = MergeTree() ORDER BY version",

	"series (tenant String, fingerprint UInt64, "
	"profile_type String, name String, label_names Array(String), "
	"label_values Array(String)) ENGINE = ReplacingMergeTree() "
	"ORDER BY (tenant, fingerprint)",

	"profiles (tenant String, fingerprint UInt64, "
	"time_ns Int64, duration_ns Int64, period Int64, total Int64, n_samples UInt32) "
	"ENGINE = MergeTree() PARTITION BY toYYYYMMDD(toDateTime(intDiv(time_ns, 1000000000))) "
	"ORDER BY (tenant, fingerprint, time_ns)",

	"samples (tenant String, fingerprint UInt64, "
	"time_ns Int64, stack_id UInt64, value Int64, span_id UInt64) "
	"ENGINE = MergeTree() PARTITION BY toYYYYMMDD(toDateTime(intDiv(time_ns, 1000000000))) "
	"ORDER BY (tenant, fingerprint, time_ns, stack_id)",

	"stacks (tenant String, stack_id UInt64, "
	"symbols Array(UInt64)) ENGINE = ReplacingMergeTree() ORDER BY (tenant, stack_id)",

	"symbols (tenant String, symbol_id UInt64, name String, "
	"file String) ENGINE = ReplacingMergeTree() ORDER BY (tenant, symbol_id)",
};

/* Runs "<head> <db>.<tail>". */
static int ch_exec(struct ch_conn *c, const char *head, const char *tail, struct buf *out,
		   struct ember_diag *d)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "%s %s%s%s", head, c->db, *tail ? "." : "", tail);
	return ch_query(c, sql, NULL, out, d);
}

int ch_schema_ensure(struct ch_conn *c, struct ember_diag *d)
{
	struct buf out;
	char ver[64] = "";
	unsigned long have;
	size_t i;
	int rc;

	buf_init(&out, MEM_STORE, 4096);
	rc = ch_query(c, "SELECT version()", NULL, &out, d);
	if (rc)
		goto done;
	snprintf(ver, sizeof(ver), "%.*s", (int)EMBER_MIN(out.len, sizeof(ver) - 1),
		 (const char *)out.data);
	ver[strspn(ver, "0123456789.")] = 0; /* also keeps it safe to quote below */
	if (sscanf(ver, "%u.%u", &c->server_major, &c->server_minor) != 2) {
		rc = ember_diag_set(d, -EMBER_EFORMAT, "clickhouse: unexpected version() \"%s\"",
				    ver);
		goto done;
	}
	rc = ch_exec(c, "CREATE DATABASE IF NOT EXISTS", "", NULL, d);
	for (i = 0; !rc && i < EMBER_ARRAY_SIZE(ch_tables); i++)
		rc = ch_exec(c, "CREATE TABLE IF NOT EXISTS", ch_tables[i], NULL, d);
	if (rc)
		goto done;
	rc = ch_exec(c, "SELECT max(version) FROM", "ember_schema_version", &out, d);
	if (rc)
		goto done;
	have = strtoul(out.len ? (const char *)out.data : "0", NULL, 10);
	if (have > CH_SCHEMA_VERSION) {
		rc = ember_diag_set(d, -EMBER_EVERSION,
				    "clickhouse: database %s has schema version %lu, this ember "
				    "knows up to %d",
				    c->db, have, CH_SCHEMA_VERSION);
	} else if (have < CH_SCHEMA_VERSION) {
		/* Version 1 is the first: nothing to migrate yet, only record it. */
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s.ember_schema_version VALUES (%d, now(), '%s')", c->db,
			 CH_SCHEMA_VERSION, ver);
		rc = ch_query(c, sql, NULL, NULL, d);
	}
done:
	buf_fini(&out);
	return rc;
}

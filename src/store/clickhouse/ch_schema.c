/*
 * ch_schema.c — creates the ClickHouse schema of the Ember backend when missing, migrates it and
 * checks its version, on one node: the database, the tables documented in
 * docs/internals/clickhouse.md (series, profiles, samples, stacks, symbols) and
 * ember_schema_version, which records every schema version applied on that node. In cluster
 * mode the tables are <t>_local and <t> is Distributed over them (no ZooKeeper: the caller runs
 * this on every listed node). Retention: TTL on servers >= 19.6, else ch_schema_drop_old drops
 * whole days (partitions). Only features ClickHouse 18.16 (Debian 12) has are used otherwise.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "store/clickhouse/ch.h"

struct ch_table {
	const char *name;
	const char *columns;
	const char *engine; /* ENGINE ... ORDER BY ... */
	const char *shard;  /* sharding key of the Distributed table */
	bool by_time;	    /* partitioned by day of time_ns: retention applies */
};

#define CH_DAY_PARTITION "PARTITION BY toYYYYMMDD(toDateTime(intDiv(time_ns, 1000000000))) "
#define CH_TTL_EXPR	 "toDateTime(intDiv(time_ns, 1000000000)) + INTERVAL %u DAY"

static const struct ch_table ch_tables[] = {
	{"series",
	 "tenant String, fingerprint UInt64, profile_type String, name String, "
	 "label_names Array(String), label_values Array(String)",
	 "ReplacingMergeTree() ORDER BY (tenant, fingerprint)", "fingerprint", false},
	{"profiles",
	 "tenant String, fingerprint UInt64, time_ns Int64, duration_ns Int64, period Int64, "
	 "total Int64, n_samples UInt32, batch UInt64",
	 "MergeTree() " CH_DAY_PARTITION "ORDER BY (tenant, fingerprint, time_ns)", "fingerprint",
	 true},
	{"samples",
	 "tenant String, fingerprint UInt64, time_ns Int64, stack_id UInt64, value Int64, "
	 "span_id UInt64, batch UInt64",
	 "MergeTree() " CH_DAY_PARTITION "ORDER BY (tenant, fingerprint, time_ns, stack_id)",
	 "fingerprint", true},
	{"stacks", "tenant String, stack_id UInt64, symbols Array(UInt64)",
	 "ReplacingMergeTree() ORDER BY (tenant, stack_id)", "stack_id", false},
	{"symbols", "tenant String, symbol_id UInt64, name String, file String",
	 "ReplacingMergeTree() ORDER BY (tenant, symbol_id)", "symbol_id", false},
};

static int ch_sql(struct ch_conn *c, struct buf *out, struct ember_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int ch_sql(struct ch_conn *c, struct buf *out, struct ember_diag *d, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(sql))
		return ember_diag_set(d, -EMBER_ELIMIT, "clickhouse: statement too long");
	return ch_query(c, sql, NULL, out, d);
}

static bool ch_has_ttl(const struct ch_conn *c)
{
	return c->server_major > 19 || (c->server_major == 19 && c->server_minor >= 6);
}

/* The storage table of t on this node: <t>_local in cluster mode. */
static void ch_local_name(const struct ch_table *t, const char *cluster, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", t->name, cluster && *cluster ? "_local" : "");
}

static int ch_create(struct ch_conn *c, const struct ch_table *t, const char *cluster,
		     uint32_t days, struct ember_diag *d)
{
	char local[96], ttl[128] = "";
	int rc;

	ch_local_name(t, cluster, local, sizeof(local));
	if (t->by_time && days && ch_has_ttl(c))
		snprintf(ttl, sizeof(ttl), " TTL " CH_TTL_EXPR, days);
	rc = ch_sql(c, NULL, d, "CREATE TABLE IF NOT EXISTS %s.%s (%s) ENGINE = %s%s", c->db, local,
		    t->columns, t->engine, ttl);
	if (!rc && *ttl)
		rc = ch_sql(c, NULL, d, "ALTER TABLE %s.%s MODIFY%s", c->db, local, ttl);
	if (!rc && cluster && *cluster)
		rc = ch_sql(c, NULL, d,
			    "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s ENGINE = Distributed(%s, "
			    "%s, %s, %s)",
			    c->db, t->name, c->db, local, cluster, c->db, local, t->shard);
	return rc;
}

/* Version 1 -> 2: profiles and samples get the batch column (idempotent retries). */
static int ch_migrate_2(struct ch_conn *c, const char *cluster, struct ember_diag *d)
{
	static const char *const tabs[] = {"profiles", "samples"};
	struct buf out;
	size_t i, k;
	int rc = 0;

	buf_init(&out, MEM_STORE, 4096);
	for (i = 0; !rc && i < EMBER_ARRAY_SIZE(tabs); i++) {
		for (k = 0; !rc && k < (cluster && *cluster ? 2u : 1u); k++) {
			char name[96];

			snprintf(name, sizeof(name), "%s%s", tabs[i], k ? "" : "_local");
			if (!(cluster && *cluster))
				snprintf(name, sizeof(name), "%s", tabs[i]);
			rc = ch_sql(c, &out, d,
				    "SELECT count() FROM system.columns WHERE database = '%s' AND "
				    "table = '%s' AND name = 'batch'",
				    c->db, name);
			if (!rc && out.len && out.data[0] == '0')
				rc = ch_sql(c, NULL, d, "ALTER TABLE %s.%s ADD COLUMN batch UInt64",
					    c->db, name);
		}
	}
	buf_fini(&out);
	return rc;
}

int ch_schema_ensure(struct ch_conn *c, const char *cluster, uint32_t retention_days,
		     struct ember_diag *d)
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
	rc = ch_sql(c, NULL, d, "CREATE DATABASE IF NOT EXISTS %s", c->db);
	rc = rc
		     ?: ch_sql(c, NULL, d,
			       "CREATE TABLE IF NOT EXISTS %s.ember_schema_version (version "
			       "UInt32, "
			       "applied_at DateTime, server_version String) ENGINE = MergeTree() "
			       "ORDER BY version",
			       c->db);
	rc = rc ?: ch_sql(c, &out, d, "SELECT max(version) FROM %s.ember_schema_version", c->db);
	if (rc)
		goto done;
	have = strtoul(out.len ? (const char *)out.data : "0", NULL, 10);
	if (have > CH_SCHEMA_VERSION) {
		rc = ember_diag_set(d, -EMBER_EVERSION,
				    "clickhouse: database %s on %s has schema version %lu, this "
				    "ember knows up to %d",
				    c->db, c->base_url, have, CH_SCHEMA_VERSION);
		goto done;
	}
	for (i = 0; !rc && i < EMBER_ARRAY_SIZE(ch_tables); i++)
		rc = ch_create(c, &ch_tables[i], cluster, retention_days, d);
	if (!rc && have == 1)
		rc = ch_migrate_2(c, cluster, d);
	if (!rc && have < CH_SCHEMA_VERSION)
		rc = ch_sql(c, NULL, d,
			    "INSERT INTO %s.ember_schema_version VALUES (%d, now(), '%s')", c->db,
			    CH_SCHEMA_VERSION, ver);
done:
	buf_fini(&out);
	return rc;
}

int ch_schema_drop_old(struct ch_conn *c, const char *cluster, uint32_t days, struct ember_diag *d)
{
	struct buf out;
	size_t i;
	int rc = 0;

	if (!days)
		return 0;
	buf_init(&out, MEM_STORE, (size_t)1 << 20);
	if (!c->server_major) {
		rc = ch_query(c, "SELECT version()", NULL, &out, d);
		if (!rc && sscanf(out.len ? (const char *)out.data : "", "%u.%u", &c->server_major,
				  &c->server_minor) != 2)
			rc = ember_diag_set(d, -EMBER_EFORMAT, "clickhouse: unexpected version()");
		if (rc || ch_has_ttl(c))
			goto done; /* TTL does it */
	}
	for (i = 0; !rc && i < EMBER_ARRAY_SIZE(ch_tables); i++) {
		const struct ch_table *t = &ch_tables[i];
		char local[96];
		const char *p;

		if (!t->by_time)
			continue;
		ch_local_name(t, cluster, local, sizeof(local));
		rc = ch_sql(c, &out, d,
			    "SELECT DISTINCT partition FROM system.parts WHERE database = '%s' "
			    "AND table = '%s' AND active AND toUInt32OrZero(partition) < "
			    "toYYYYMMDD(today() - %u) FORMAT TabSeparated",
			    c->db, local, days);
		if (rc)
			break;
		buf_putc(&out, 0);
		for (p = (const char *)out.data; !rc && *p;) {
			size_t n = strcspn(p, "\n");
			unsigned long day = strtoul(p, NULL, 10);

			if (day >= 19700101 && day <= 99991231) {
				rc = ch_sql(c, NULL, d, "ALTER TABLE %s.%s DROP PARTITION %lu",
					    c->db, local, day);
				if (!rc)
					LOG_INFO("clickhouse: retention: dropped day %lu of %s.%s "
						 "on "
						 "%s",
						 day, c->db, local, c->base_url);
			}
			p += n + (p[n] ? 1 : 0);
		}
	}
done:
	buf_fini(&out);
	return rc;
}

/*
 * test_server_config.c — the YAML configuration loader of `ember server` (server_config.c):
 * every section maps onto struct server_opts / store_opts, defaults stay zero, per-tenant
 * overrides and tokens (inline and token_file) are kept, scrape_configs is ignored, and every
 * kind of error names the origin, the line and the key; sizes and durations parse. Also the
 * per-tenant token bucket and limits of server_limits.c.
 */
#include <stdio.h>
#include <string.h>

#include "server/server_config.h"
#include "server/server_int.h"
#include "test.h"

static struct server_config *parse_ok(const char *yaml)
{
	struct server_config *c = NULL;
	struct ember_diag d = {{0}};

	if (server_config_parse(yaml, strlen(yaml), "t.yaml", &c, &d) != 0) {
		fprintf(stderr, "unexpected error: %s\n", d.msg);
		return NULL;
	}
	return c;
}

/* The error message of a document that must fail, or "" when it parsed. */
static const char *parse_err(const char *yaml)
{
	static struct ember_diag d;
	struct server_config *c = NULL;

	memset(&d, 0, sizeof(d));
	if (server_config_parse(yaml, strlen(yaml), "t.yaml", &c, &d) == 0) {
		server_config_free(c);
		return "";
	}
	if (c)
		return "returned a config on error";
	return d.msg;
}

#define CHECK_ERR(yaml, want)                                                           \
	do {                                                                            \
		const char *m_ = parse_err(yaml);                                       \
		CHECK_MSG(strstr(m_, want) != NULL, "error '%s' lacks '%s'", m_, want); \
	} while (0)

TEST(server_config_full)
{
	static const char yaml[] =
		"server:\n"
		"  listen: 0.0.0.0:4040\n"
		"  data_dir: /var/lib/ember\n"
		"  max_body: 8MiB\n"
		"  threads: 8\n"
		"  shutdown_grace: 10s\n"
		"  tls:\n"
		"    cert: /etc/ember/cert.pem\n"
		"    key: /etc/ember/key.pem\n"
		"storage:\n"
		"  retention: 30d\n"
		"  retention_bytes: 100GiB\n"
		"  block_duration: 2h\n"
		"  head_max_bytes: 256MiB\n"
		"  commit_delay: 2ms\n"
		"  compaction: false\n"
		"  max_tenants: 50\n"
		"  max_stack_depth: 512\n"
		"limits:\n"
		"  defaults:\n"
		"    ingest_rate: 20.5\n"
		"    ingest_burst: 40\n"
		"    max_decompressed: 32MiB\n"
		"    max_ratio: 100\n"
		"    max_series: 1000\n"
		"    max_labels: 20\n"
		"    max_label_value_len: 512\n"
		"  tenants:\n"
		"    team-a: {ingest_rate: 5, max_body: 1MiB}\n"
		"    team.b: {}\n"
		"auth:\n"
		"  tokens:\n"
		"    - token: secret-token-1\n"
		"      tenant: team-a\n"
		"      scopes: [ingest, query]\n"
		"    - {token: \"secret-token-2\", tenant: ops, scopes: [admin]}\n"
		"log:\n"
		"  level: debug\n"
		"  format: json\n"
		"scrape_configs:\n"
		"  - job_name: x\n"
		"    anything: [goes, here]\n";
	struct server_config *c = parse_ok(yaml);

	CHECK(c != NULL);
	CHECK_EQ_STR(c->opts.listen, "0.0.0.0:4040");
	CHECK_EQ_STR(c->opts.data_dir, "/var/lib/ember");
	CHECK_EQ_INT(c->opts.max_body_bytes, 8 << 20);
	CHECK_EQ_INT(c->opts.n_threads, 8);
	CHECK_EQ_INT(c->opts.shutdown_grace_ns, 10000000000LL);
	CHECK_EQ_STR(c->opts.tls_cert, "/etc/ember/cert.pem");
	CHECK_EQ_STR(c->opts.tls_key, "/etc/ember/key.pem");
	CHECK(c->opts.store == &c->store);
	CHECK_EQ_INT(c->store.retention_ns, 30LL * 86400 * 1000000000);
	CHECK_EQ_INT(c->store.retention_bytes, 100LL << 30);
	CHECK_EQ_INT(c->store.block_duration_ns, 7200LL * 1000000000);
	CHECK_EQ_INT(c->store.head_max_bytes, 256 << 20);
	CHECK_EQ_INT(c->store.commit_delay_us, 2000);
	CHECK(c->store.no_compaction);
	CHECK_EQ_INT(c->store.limits.max_tenants, 50);
	CHECK_EQ_INT(c->store.limits.max_stack_depth, 512);
	CHECK(c->opts.limits.ingest_rate > 20.49 && c->opts.limits.ingest_rate < 20.51);
	CHECK_EQ_INT(c->opts.limits.ingest_burst, 40);
	CHECK_EQ_INT(c->opts.limits.max_decompressed_bytes, 32 << 20);
	CHECK_EQ_INT(c->opts.limits.max_ratio, 100);
	CHECK_EQ_INT(c->opts.limits.max_series, 1000);
	CHECK_EQ_INT(c->opts.limits.max_labels, 20);
	CHECK_EQ_INT(c->opts.limits.max_label_value_len, 512);
	CHECK_EQ_INT(c->opts.n_tenant_limits, 2);
	CHECK_EQ_STR(c->opts.tenant_limits[0].tenant, "team-a");
	CHECK(c->opts.tenant_limits[0].lim.ingest_rate == 5);
	CHECK_EQ_INT(c->opts.tenant_limits[0].lim.max_body_bytes, 1 << 20);
	CHECK_EQ_INT(c->opts.tenant_limits[0].lim.max_series, 0); /* inherits */
	CHECK_EQ_STR(c->opts.tenant_limits[1].tenant, "team.b");
	CHECK_EQ_INT(c->opts.n_tokens, 2);
	CHECK_EQ_STR(c->opts.tokens[0].token, "secret-token-1");
	CHECK_EQ_STR(c->opts.tokens[0].tenant, "team-a");
	CHECK_EQ_INT(c->opts.tokens[0].scopes, SERVER_TOKEN_INGEST | SERVER_TOKEN_QUERY);
	CHECK_EQ_INT(c->opts.tokens[1].scopes, SERVER_TOKEN_ADMIN);
	CHECK(c->log_level_set);
	CHECK_EQ_INT(c->log_level, LOG_LEVEL_DEBUG);
	CHECK(c->log_json);
	server_config_free(c);
}

TEST(server_config_empty_and_nulls)
{
	struct server_config *c = parse_ok("");

	CHECK(c != NULL);
	CHECK(c->opts.listen == NULL);
	CHECK_EQ_INT(c->opts.n_tokens, 0);
	CHECK(!c->log_json);
	server_config_free(c);
	c = parse_ok("# only a comment\nserver:\nlimits: ~\nauth: null\n");
	CHECK(c != NULL);
	CHECK(c->opts.data_dir == NULL);
	server_config_free(c);
}

TEST(server_config_errors)
{
	CHECK_ERR("server:\n  threads: 2\n  lisen: x\n", "t.yaml:3: server.lisen: unknown key");
	CHECK_ERR("nope: 1\n", "t.yaml:1: nope: unknown key");
	CHECK_ERR("server:\n  threads: -1\n", "t.yaml:2: server.threads:");
	CHECK_ERR("server:\n  threads: 1000\n", "out of range");
	CHECK_ERR("server:\n  threads: [1]\n", "expected a single value");
	CHECK_ERR("server: 5\n", "t.yaml:1: server: expected a mapping");
	CHECK_ERR("server:\n  listen: 1.2.3.4\n", "server.listen: '1.2.3.4' is not ADDR:PORT");
	CHECK_ERR("server:\n  max_body: 12 parsecs\n", "not a size");
	CHECK_ERR("server:\n  max_body: 10\n", "out of range");
	CHECK_ERR("storage:\n  retention: 3 days\n", "not a duration");
	CHECK_ERR("storage:\n  compaction: maybe\n", "not true or false");
	CHECK_ERR("limits:\n  tenants:\n    'bad tenant': {}\n", "not a tenant id");
	CHECK_ERR("limits:\n  defaults:\n    ingest_rate: fast\n", "not a rate");
	CHECK_ERR("limits:\n  defaults:\n    ingest_rate: nan\n", "not a rate");
	CHECK_ERR("auth:\n  tokens:\n    - tenant: a\n      scopes: [query]\n",
		  "auth.tokens[0]: give exactly one of token and token_file");
	CHECK_ERR("auth:\n  tokens:\n    - token: abcdefghij\n      scopes: [query]\n",
		  "tenant is missing");
	CHECK_ERR("auth:\n  tokens:\n    - token: abcdefghij\n      tenant: a\n",
		  "scopes is missing");
	CHECK_ERR("auth:\n  tokens:\n    - token: abcdefghij\n      tenant: a\n      scopes: []\n",
		  "at least one scope");
	CHECK_ERR("auth:\n  tokens:\n    - {token: abcdefghij, tenant: a, scopes: [query]}\n"
		  "    - {token: abcdefghij, tenant: b, scopes: [query]}\n",
		  "auth.tokens[1]: the same token is given twice");
	CHECK_ERR("auth:\n  tokens:\n    - {token: 'abc defghij', tenant: a, scopes: [query]}\n",
		  "printable ASCII");
	CHECK_ERR("auth:\n  tokens:\n    - {token_file: /nonexistent/x, tenant: a, scopes: "
		  "[query]}\n",
		  "cannot read /nonexistent/x");
	CHECK_ERR("auth:\n  tokenz: []\n", "auth.tokenz: unknown key");
	CHECK_ERR("log:\n  level: loud\n", "log.level");
	CHECK_ERR("server:\n  tls:\n    key: /k.pem\n", "only key is set");
	CHECK_ERR("a: [1, 2\n", "t.yaml:");
	CHECK_ERR("server: {}\n---\nserver: {}\n", "only one YAML document");
	CHECK_ERR("[1, 2]\n", "must be a mapping");
	CHECK_ERR("server:\n  threads: 1\n  threads: 2\n", "duplicate key (first on line 2)");
}

TEST(server_config_token_not_in_errors)
{
	/* A token that breaks a rule is never echoed. */
	const char *m = parse_err("auth:\n  tokens:\n    - token: 'sekrit with space'\n"
				  "      tenant: a\n      scopes: [query]\n");
	CHECK(m[0] != 0);
	CHECK(strstr(m, "sekrit") == NULL);
}

TEST(server_config_token_file)
{
	char path[512], yaml[1024];
	struct server_config *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tok", test_tmpdir());
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("file-token-123456\n\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml),
		 "auth:\n  tokens:\n    - token_file: %s\n      tenant: t1\n      scopes: "
		 "[ingest]\n",
		 path);
	c = parse_ok(yaml);
	CHECK(c != NULL);
	CHECK_EQ_INT(c->opts.n_tokens, 1);
	CHECK_EQ_STR(c->opts.tokens[0].token, "file-token-123456");
	CHECK_EQ_INT(c->opts.tokens[0].scopes, SERVER_TOKEN_INGEST);
	server_config_free(c);
}

TEST(server_config_load_file)
{
	char path[512];
	struct server_config *c = NULL;
	struct ember_diag d = {{0}};
	FILE *f;

	snprintf(path, sizeof(path), "%s/ember.yaml", test_tmpdir());
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("server:\n  data_dir: /x\n", f);
	fclose(f);
	CHECK_OK(server_config_load(path, &c, &d));
	CHECK_EQ_STR(c->opts.data_dir, "/x");
	CHECK_EQ_STR(c->opts.config_path, path);
	server_config_free(c);
	snprintf(path, sizeof(path), "%s/missing.yaml", test_tmpdir());
	CHECK(server_config_load(path, &c, &d) != 0);
	CHECK(c == NULL);
	CHECK(strstr(d.msg, "missing.yaml") != NULL);
}

TEST(server_config_units)
{
	int64_t ns = 0;
	uint64_t b = 0;

	CHECK_OK(server_config_duration("90s", &ns));
	CHECK_EQ_INT(ns, 90000000000LL);
	CHECK_OK(server_config_duration("1h30m", &ns));
	CHECK_EQ_INT(ns, 5400LL * 1000000000);
	CHECK_OK(server_config_duration("500ms", &ns));
	CHECK_EQ_INT(ns, 500000000);
	CHECK_OK(server_config_duration("2w", &ns));
	CHECK_EQ_INT(ns, 14LL * 86400 * 1000000000);
	CHECK_OK(server_config_duration("0", &ns));
	CHECK_EQ_INT(ns, 0);
	CHECK(server_config_duration("", &ns) != 0);
	CHECK(server_config_duration("5", &ns) != 0);
	CHECK(server_config_duration("5x", &ns) != 0);
	CHECK(server_config_duration("-5s", &ns) != 0);
	CHECK(server_config_duration("999999999w", &ns) != 0);
	CHECK_OK(server_config_size("4096", &b));
	CHECK_EQ_INT(b, 4096);
	CHECK_OK(server_config_size("16MiB", &b));
	CHECK_EQ_INT(b, 16 << 20);
	CHECK_OK(server_config_size("1GB", &b));
	CHECK_EQ_INT(b, 1000000000);
	CHECK_OK(server_config_size("512k", &b));
	CHECK_EQ_INT(b, 512 * 1024);
	CHECK_OK(server_config_size("2 KiB", &b));
	CHECK_EQ_INT(b, 2048);
	CHECK(server_config_size("1.5GiB", &b) != 0);
	CHECK(server_config_size("MiB", &b) != 0);
	CHECK(server_config_size("99999999999999999999", &b) != 0);
	CHECK(server_config_size("99999999999TiB", &b) != 0);
}

/* The per-tenant token bucket (server_limits.c) with a synthetic clock. */
TEST(server_limits_bucket)
{
	struct server_limits def = {.ingest_rate = 2, .ingest_burst = 3};
	struct server_tenant_limits over[] = {
		{.tenant = "slow", .lim = {.ingest_rate = 0.5, .max_body_bytes = 1 << 30}},
	};
	struct server_limiter *m = server_limiter_new(&def, over, 1, 1 << 20);
	struct server_limits got;
	const int64_t s = 1000000000;

	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(server_limiter_take(m, "a", 0), 0);
	CHECK_EQ_INT(server_limiter_take(m, "a", 0), 1); /* 0.5 s away: rounded up to 1 */
	CHECK_EQ_INT(server_limiter_take(m, "b", 0), 0); /* another tenant's bucket is full */
	CHECK_EQ_INT(server_limiter_take(m, "a", s / 2), 0);
	CHECK_EQ_INT(server_limiter_take(m, "a", s / 2), 1);
	CHECK_EQ_INT(server_limiter_take(m, "a", 10 * s), 0); /* refilled, capped at the burst */
	CHECK_EQ_INT(server_limiter_take(m, "a", 10 * s), 0);
	CHECK_EQ_INT(server_limiter_take(m, "a", 10 * s), 0);
	CHECK_EQ_INT(server_limiter_take(m, "a", 10 * s), 1);
	/* The override: rate 0.5/s, the default's burst 3 (unset keys inherit), body capped at
	 * the server's. */
	server_limiter_get(m, "slow", false, &got);
	CHECK(got.ingest_rate == 0.5);
	CHECK_EQ_INT(got.ingest_burst, 3);
	CHECK_EQ_INT(got.max_body_bytes, 1 << 20);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(server_limiter_take(m, "slow", 0), 0);
	CHECK_EQ_INT(server_limiter_take(m, "slow", 0), 2);
	server_limiter_get(m, "unseen", false, &got);
	CHECK(got.ingest_rate == 2);
	CHECK_EQ_INT(got.max_decompressed_bytes, 64 << 20);
	CHECK_EQ_INT(got.max_ratio, 1000);
	server_limiter_free(m);
}

TEST(server_limits_bounded_tenants)
{
	struct server_limits def = {.ingest_rate = 1, .ingest_burst = 1};
	struct server_limiter *m = server_limiter_new(&def, NULL, 0, 1 << 20);
	char name[32];
	int refused = 0;

	/* Past the table's bound, new tenants share one bucket: most of them are refused. */
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		refused += server_limiter_take(m, name, 0) != 0;
	}
	CHECK(refused >= 5000 - 4096 - 1);
	CHECK(refused <= 5000 - 4096);
	server_limiter_free(m);
}

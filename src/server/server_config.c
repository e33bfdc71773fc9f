/*
 * server_config.c — loads the YAML configuration of `ember server` (libyaml's document API)
 * into a struct server_config: server (listen, data_dir, max_body, threads, tls), storage
 * (retention and the rest of struct store_opts), limits (defaults and per-tenant overrides),
 * auth (bearer tokens bound to a tenant and scopes) and log. scrape_configs is skipped here
 * (server_scrape.c reads it). Every error names the file, the line and the key path.
 *
 * The input is hostile: bounded size, bounded counts, no recursion beyond the fixed schema
 * depth. Token values never appear in messages or logs.
 */
#include "server/server_config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "format/ycfg.h"

#define CFG_MAX_PATH	   4096
#define CFG_MAX_STR	   YCFG_MAX_SCALAR
#define CFG_TOKEN_FILE_MAX 4096

struct cfg_ctx {
	struct ycfg *y;
	const char *origin;
	struct server_config *c;
	struct ember_diag *d;
	size_t n_tokens, cap_tokens;
	struct server_token *tokens;
	size_t n_tenants, cap_tenants;
	struct server_tenant_limits *tenants;
};

/* A non-empty string copied into the config's arena. */
static int want_str(struct cfg_ctx *x, const yaml_node_t *n, const char *p, const char **out)
{
	return ycfg_str(x->y, n, p, x->c->arena, CFG_MAX_STR, out);
}

static int want_u32(struct cfg_ctx *x, const yaml_node_t *n, const char *p, uint32_t min,
		    uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	int err = ycfg_u64(x->y, n, p, min, max, &v);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

const struct server_store_u32 server_store_u32s[SERVER_STORE_U32_N] = {
	{"max_tenants", "max-tenants", 1, 1000000, offsetof(struct store_limits, max_tenants)},
	{"max_stack_depth", "max-stack-depth", 1, 65536,
	 offsetof(struct store_limits, max_stack_depth)},
	{"max_sample_types", "max-sample-types", 1, 1024,
	 offsetof(struct store_limits, max_sample_types)},
	{"max_label_name_len", "max-label-name-len", 1, 65536,
	 offsetof(struct store_limits, max_label_name_len)},
};

bool server_name_ok(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

/* Tenant ids as the store accepts them: [A-Za-z0-9_.-]{1,64}. */
bool server_tenant_ok(const char *t)
{
	return strlen(t) <= 64 && server_name_ok(t, "_.-");
}

/* --- server ------------------------------------------------------------------------------ */

static int tls_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct server_opts *o = &x->c->opts;

	(void)arg;
	if (!strcmp(key, "cert"))
		return want_str(x, v, p, &o->tls_cert);
	if (!strcmp(key, "key"))
		return want_str(x, v, p, &o->tls_key);
	return ycfg_unknown_key(x->y, p, NULL);
}

static int server_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct server_opts *o = &x->c->opts;
	uint64_t u = 0;
	int err;

	(void)arg;
	if (!strcmp(key, "listen")) {
		unsigned char addr[4];
		unsigned short port;
		struct ember_diag d2 = {{0}};

		err = want_str(x, v, p, &o->listen);
		if (!err && server_listen_parse(o->listen, addr, &port, &d2))
			return ycfg_err(x->y, v, p, "%s", d2.msg);
		return err;
	}
	if (!strcmp(key, "data_dir"))
		return want_str(x, v, p, &o->data_dir);
	if (!strcmp(key, "max_body")) {
		err = ycfg_size(x->y, v, p, 1024, (uint64_t)1 << 30, &u);
		o->max_body_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "threads"))
		return want_u32(x, v, p, 1, 256, &o->n_threads);
	if (!strcmp(key, "shutdown_grace"))
		return ycfg_duration(x->y, v, p, 0, (int64_t)3600 * 1000000000,
				     &o->shutdown_grace_ns);
	if (!strcmp(key, "tls"))
		return ycfg_each_pair(x->y, v, p, tls_pair, NULL);
	return ycfg_unknown_key(x->y, p, NULL);
}

/* --- storage ------------------------------------------------------------------------------ */

int server_storage_parse(const char *s, struct store_opts *so, struct ember_diag *d)
{
	static const char ch[] = "clickhouse://";

	if (!strcmp(s, "local")) {
		so->backend = "local";
		so->url = NULL;
		return 0;
	}
	if (!strncmp(s, ch, sizeof(ch) - 1) && strlen(s) <= 2048) {
		so->backend = "clickhouse";
		so->url = s;
		return 0;
	}
	return ember_diag_set(d, -EMBER_EUSAGE,
			      "storage '%.100s' is not 'local' or clickhouse://host:8123/db", s);
}

static int storage_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct store_opts *so = &x->c->store;
	const int64_t year_ns = (int64_t)366 * 86400 * 1000000000;
	uint64_t u = 0;
	int64_t ns = 0;
	bool b = true;
	int err;

	(void)arg;
	if (!strcmp(key, "url")) {
		const char *s = NULL;
		struct ember_diag d2 = {{0}};

		err = want_str(x, v, p, &s);
		if (!err && server_storage_parse(s, so, &d2))
			return ycfg_err(x->y, v, p, "%s", d2.msg);
		return err;
	}
	if (!strcmp(key, "retention"))
		return ycfg_duration(x->y, v, p, 0, 100 * year_ns, &so->retention_ns);
	if (!strcmp(key, "retention_bytes"))
		return ycfg_size(x->y, v, p, 0, UINT64_MAX, &so->retention_bytes);
	if (!strcmp(key, "block_duration"))
		return ycfg_duration(x->y, v, p, (int64_t)60 * 1000000000,
				     (int64_t)7 * 86400 * 1000000000, &so->block_duration_ns);
	if (!strcmp(key, "head_max_bytes")) {
		err = ycfg_size(x->y, v, p, (uint64_t)1 << 20, (uint64_t)1 << 40, &u);
		so->head_max_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "commit_delay")) {
		err = ycfg_duration(x->y, v, p, 0, 1000000000, &ns);
		so->commit_delay_us = (uint32_t)(ns / 1000);
		return err;
	}
	if (!strcmp(key, "compaction")) {
		err = ycfg_bool(x->y, v, p, &b);
		so->no_compaction = !b;
		return err;
	}
	for (size_t i = 0; i < SERVER_STORE_U32_N; i++) {
		const struct server_store_u32 *l = &server_store_u32s[i];

		if (!strcmp(key, l->key))
			return want_u32(x, v, p, l->min, l->max,
					server_store_u32_field(&so->limits, l));
	}
	if (!strcmp(key, "max_profile_bytes"))
		return ycfg_size(x->y, v, p, 1024, (uint64_t)1 << 32,
				 &so->limits.max_profile_bytes);
	return ycfg_unknown_key(x->y, p, NULL);
}

/* --- limits ------------------------------------------------------------------------------- */

static int limits_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct server_limits *l = arg;
	uint64_t u = 0;
	int err;

	if (!strcmp(key, "ingest_rate")) {
		const char *s = NULL;
		char *end;
		double r;

		err = ycfg_scalar(x->y, v, p, &s);
		if (err)
			return err;
		errno = 0;
		r = strtod(s, &end);
		if (!*s || *end || errno || !isfinite(r) || r < 0 || r > 1e6)
			return ycfg_err(x->y, v, p,
					"'%.60s' is not a rate in [0, 1000000] profiles/s", s);
		l->ingest_rate = r;
		return 0;
	}
	if (!strcmp(key, "ingest_burst"))
		return want_u32(x, v, p, 0, 1000000, &l->ingest_burst);
	if (!strcmp(key, "max_body")) {
		err = ycfg_size(x->y, v, p, 1024, (uint64_t)1 << 30, &u);
		l->max_body_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "max_decompressed")) {
		err = ycfg_size(x->y, v, p, 1024, (uint64_t)1 << 32, &u);
		l->max_decompressed_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "max_ratio"))
		return want_u32(x, v, p, 1, 1000000, &l->max_ratio);
	if (!strcmp(key, "max_series"))
		return want_u32(x, v, p, 1, 100000000, &l->max_series);
	if (!strcmp(key, "max_labels"))
		return want_u32(x, v, p, 3, 1024, &l->max_labels);
	if (!strcmp(key, "max_label_value_len"))
		return want_u32(x, v, p, 1, 1 << 20, &l->max_label_value_len);
	return ycfg_unknown_key(x->y, p, NULL);
}

static int tenant_limits_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p,
			      void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct server_tenant_limits *t;

	(void)arg;
	if (!server_tenant_ok(key))
		return ycfg_err(x->y, v, p, "not a tenant id ([A-Za-z0-9_.-]{1,64})");
	if (x->n_tenants >= SERVER_CONFIG_MAX_TENANTS)
		return ycfg_err(x->y, v, p, "more than %d tenants", SERVER_CONFIG_MAX_TENANTS);
	mem_grow(MEM_SERVER, (void **)&x->tenants, &x->cap_tenants, x->n_tenants + 1,
		 sizeof(*x->tenants));
	t = &x->tenants[x->n_tenants++];
	memset(t, 0, sizeof(*t));
	t->tenant = arena_strndup(x->c->arena, key, strlen(key));
	return ycfg_each_pair(x->y, v, p, limits_pair, &t->lim);
}

static int limits_section_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p,
			       void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	(void)arg;
	if (!strcmp(key, "defaults"))
		return ycfg_each_pair(x->y, v, p, limits_pair, &x->c->opts.limits);
	if (!strcmp(key, "tenants"))
		return ycfg_each_pair(x->y, v, p, tenant_limits_pair, NULL);
	return ycfg_unknown_key(x->y, p, NULL);
}

/* --- auth --------------------------------------------------------------------------------- */

static int token_check(struct cfg_ctx *x, yaml_node_t *v, const char *p, const char *tok,
		       const char *what)
{
	size_t n = strlen(tok);

	if (n < SERVER_TOKEN_MIN_LEN || n > SERVER_TOKEN_MAX_LEN)
		return ycfg_err(x->y, v, p, "%s must be %d to %d characters long", what,
				SERVER_TOKEN_MIN_LEN, SERVER_TOKEN_MAX_LEN);
	for (; *tok; tok++)
		if (*tok < 0x21 || *tok > 0x7e)
			return ycfg_err(x->y, v, p, "%s must be printable ASCII without spaces",
					what);
	return 0;
}

/* Reads a token file (bounded), trailing whitespace removed. */
static int token_read_file(struct cfg_ctx *x, yaml_node_t *v, const char *p, const char *path,
			   const char **out)
{
	char full[CFG_MAX_PATH];
	const char *slash = strrchr(x->origin, '/');
	struct buf b;
	int err;

	if (path[0] != '/' && slash)
		snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - x->origin), x->origin, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	buf_init(&b, MEM_SERVER, CFG_TOKEN_FILE_MAX);
	err = buf_read_file(&b, full);
	if (err) {
		buf_fini(&b);
		return ycfg_err(x->y, v, p, "cannot read %.200s: %s", full,
				err == -EMBER_ELIMIT ? "file too large" : ember_strerror(err));
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
			 b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.len--;
	if (b.len && memchr(b.data, 0, b.len)) {
		buf_fini(&b);
		return ycfg_err(x->y, v, p, "%.200s contains a NUL byte", full);
	}
	*out = arena_strndup(x->c->arena, b.len ? (const char *)b.data : "", b.len);
	buf_fini(&b);
	return token_check(x, v, p, *out, "the token in the file");
}

static int scope_parse(struct cfg_ctx *x, yaml_node_t *v, const char *p, unsigned int *scopes)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return ycfg_err(x->y, v, p, "expected a list of ingest, query, admin");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *s = ycfg_node(x->y, *i);
		const char *name = NULL;
		int err;

		if (!s)
			return ycfg_err(x->y, v, p, "bad list item");
		err = ycfg_scalar(x->y, s, p, &name);
		if (err)
			return err;
		if (!strcmp(name, "ingest"))
			*scopes |= SERVER_TOKEN_INGEST;
		else if (!strcmp(name, "query"))
			*scopes |= SERVER_TOKEN_QUERY;
		else if (!strcmp(name, "admin"))
			*scopes |= SERVER_TOKEN_ADMIN;
		else
			return ycfg_err(x->y, s, p, "unknown scope '%.40s' (ingest, query, admin)",
					name);
	}
	if (!*scopes)
		return ycfg_err(x->y, v, p, "at least one scope is needed");
	return 0;
}

struct token_build {
	struct server_token t;
	yaml_node_t *token_node, *file_node, *tenant_node, *scopes_node;
};

static int token_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct token_build *tb = arg;

	if (!strcmp(key, "token"))
		tb->token_node = v;
	else if (!strcmp(key, "token_file"))
		tb->file_node = v;
	else if (!strcmp(key, "tenant"))
		tb->tenant_node = v;
	else if (!strcmp(key, "scopes"))
		tb->scopes_node = v;
	else
		return ycfg_unknown_key(x->y, p, NULL);
	return 0;
}

static int auth_token(struct cfg_ctx *x, yaml_node_t *v, const char *p)
{
	struct token_build tb;
	char kp[YCFG_PATH_MAX];
	const char *s = NULL;
	int err;

	memset(&tb, 0, sizeof(tb));
	err = ycfg_each_pair(x->y, v, p, token_pair, &tb);
	if (err)
		return err;
	if (!!tb.token_node == !!tb.file_node)
		return ycfg_err(x->y, v, p, "give exactly one of token and token_file");
	if (tb.token_node) {
		ycfg_path_join(kp, p, "token");
		err = want_str(x, tb.token_node, kp, &tb.t.token);
		if (!err)
			err = token_check(x, tb.token_node, kp, tb.t.token, "token");
	} else {
		ycfg_path_join(kp, p, "token_file");
		err = ycfg_scalar(x->y, tb.file_node, kp, &s);
		if (!err && !*s)
			err = ycfg_err(x->y, tb.file_node, kp, "must not be empty");
		if (!err)
			err = token_read_file(x, tb.file_node, kp, s, &tb.t.token);
	}
	if (err)
		return err;
	if (!tb.tenant_node)
		return ycfg_err(x->y, v, p, "tenant is missing");
	ycfg_path_join(kp, p, "tenant");
	err = want_str(x, tb.tenant_node, kp, &tb.t.tenant);
	if (err)
		return err;
	if (!server_tenant_ok(tb.t.tenant))
		return ycfg_err(x->y, tb.tenant_node, kp, "not a tenant id ([A-Za-z0-9_.-]{1,64})");
	if (!tb.scopes_node)
		return ycfg_err(x->y, v, p, "scopes is missing (a list of ingest, query, admin)");
	ycfg_path_join(kp, p, "scopes");
	err = scope_parse(x, tb.scopes_node, kp, &tb.t.scopes);
	if (err)
		return err;
	for (size_t i = 0; i < x->n_tokens; i++)
		if (!strcmp(x->tokens[i].token, tb.t.token))
			return ycfg_err(x->y, v, p,
					"the same token is given twice (also in tokens[%zu])", i);
	if (x->n_tokens >= SERVER_CONFIG_MAX_TOKENS)
		return ycfg_err(x->y, v, p, "more than %d tokens", SERVER_CONFIG_MAX_TOKENS);
	mem_grow(MEM_SERVER, (void **)&x->tokens, &x->cap_tokens, x->n_tokens + 1,
		 sizeof(*x->tokens));
	x->tokens[x->n_tokens++] = tb.t;
	return 0;
}

static int auth_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	size_t idx = 0;

	(void)arg;
	if (strcmp(key, "tokens"))
		return ycfg_unknown_key(x->y, p, NULL);
	if (v->type != YAML_SEQUENCE_NODE)
		return ycfg_err(x->y, v, p,
				"expected a list of {token|token_file, tenant, scopes}");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++, idx++) {
		yaml_node_t *t = ycfg_node(x->y, *i);
		char ip[YCFG_PATH_MAX];
		int err;

		snprintf(ip, sizeof(ip), "auth.tokens[%zu]", idx);
		if (!t)
			return ycfg_err(x->y, v, ip, "bad list item");
		err = auth_token(x, t, ip);
		if (err)
			return err;
	}
	return 0;
}

/* --- log ---------------------------------------------------------------------------------- */

static int log_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	const char *s = NULL;
	int err;

	(void)arg;
	if (!strcmp(key, "level")) {
		err = ycfg_scalar(x->y, v, p, &s);
		if (err)
			return err;
		if (log_parse_level(s, &x->c->log_level))
			return ycfg_err(x->y, v, p,
					"'%.40s' is not error, warn, info, debug or trace", s);
		x->c->log_level_set = true;
		return 0;
	}
	if (!strcmp(key, "format")) {
		err = ycfg_scalar(x->y, v, p, &s);
		if (err)
			return err;
		if (!strcmp(s, "json"))
			x->c->log_json = true;
		else if (!strcmp(s, "text"))
			x->c->log_json = false;
		else
			return ycfg_err(x->y, v, p, "'%.40s' is not text or json", s);
		return 0;
	}
	return ycfg_unknown_key(x->y, p, NULL);
}

/* --- top level ---------------------------------------------------------------------------- */

static int top_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	(void)arg;
	if (!strcmp(key, "server"))
		return ycfg_each_pair(x->y, v, p, server_pair, NULL);
	if (!strcmp(key, "storage"))
		return ycfg_each_pair(x->y, v, p, storage_pair, NULL);
	if (!strcmp(key, "limits"))
		return ycfg_each_pair(x->y, v, p, limits_section_pair, NULL);
	if (!strcmp(key, "auth"))
		return ycfg_each_pair(x->y, v, p, auth_pair, NULL);
	if (!strcmp(key, "log"))
		return ycfg_each_pair(x->y, v, p, log_pair, NULL);
	if (!strcmp(key, "scrape_configs"))
		return 0; /* server_scrape.c */
	return ycfg_unknown_key(x->y, p, "server, storage, limits, auth, log, scrape_configs");
}

struct server_config *server_config_new(void)
{
	struct server_config *c = mem_calloc(MEM_SERVER, 1, sizeof(*c));

	c->arena = arena_new(MEM_SERVER, 16384);
	c->log_level = LOG_LEVEL_INFO;
	c->opts.store = &c->store;
	return c;
}

void server_config_free(struct server_config *c)
{
	if (!c)
		return;
	arena_free(c->arena);
	mem_free(c);
}

/* Reads the loaded document y (freed here) into *out; origin names it in messages. */
static int from_doc(struct ycfg *y, const char *origin, struct server_config **out,
		    struct ember_diag *d)
{
	struct cfg_ctx x = {.y = y, .origin = origin, .d = d};
	int err;

	x.c = server_config_new();
	ycfg_set_user(y, &x);
	err = ycfg_each_pair(y, ycfg_root(y), "", top_pair, NULL);
	ycfg_free(y);
	if (!err && !x.c->opts.tls_cert != !x.c->opts.tls_key)
		err = ember_diag_set(d, -EMBER_EUSAGE,
				     "%s: server.tls needs both cert and key (only %s is set)",
				     x.origin, x.c->opts.tls_cert ? "cert" : "key");
	if (err) {
		mem_free(x.tokens);
		mem_free(x.tenants);
		server_config_free(x.c);
		return err;
	}
	/* Arrays move into the arena so that one free releases everything. */
	if (x.n_tokens) {
		struct server_token *t = arena_alloc(x.c->arena, x.n_tokens * sizeof(*t));
		memcpy(t, x.tokens, x.n_tokens * sizeof(*t));
		x.c->opts.tokens = t;
		x.c->opts.n_tokens = x.n_tokens;
	}
	if (x.n_tenants) {
		struct server_tenant_limits *t = arena_alloc(x.c->arena, x.n_tenants * sizeof(*t));
		memcpy(t, x.tenants, x.n_tenants * sizeof(*t));
		x.c->opts.tenant_limits = t;
		x.c->opts.n_tenant_limits = x.n_tenants;
	}
	mem_free(x.tokens);
	mem_free(x.tenants);
	*out = x.c;
	return 0;
}

int server_config_parse(const char *text, size_t len, const char *origin,
			struct server_config **out, struct ember_diag *d)
{
	struct ycfg *y = NULL;
	int err;

	*out = NULL;
	origin = origin ? origin : "config";
	err = ycfg_load(text, len, origin, &y, d);
	return err ? err : from_doc(y, origin, out, d);
}

int server_config_load(const char *path, struct server_config **out, struct ember_diag *d)
{
	struct ycfg *y = NULL;
	int err;

	*out = NULL;
	err = ycfg_load_file(path, &y, d);
	if (!err)
		err = from_doc(y, path, out, d);
	if (!err)
		(*out)->opts.config_path = arena_strndup((*out)->arena, path, strlen(path));
	return err;
}

/* --- units -------------------------------------------------------------------------------- */

int server_config_duration(const char *s, int64_t *out_ns)
{
	return ycfg_parse_duration(s, out_ns);
}

int server_config_size(const char *s, uint64_t *out)
{
	return ycfg_parse_size(s, out);
}

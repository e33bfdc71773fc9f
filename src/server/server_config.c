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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"

#define CFG_MAX_PATH	   4096
#define CFG_MAX_STR	   4096
#define CFG_TOKEN_FILE_MAX 4096

struct cfg_ctx {
	yaml_document_t *doc;
	const char *origin;
	struct server_config *c;
	struct ember_diag *d;
	yaml_node_t *key; /* the key of the pair being handled (unknown-key messages) */
	size_t n_tokens, cap_tokens;
	struct server_token *tokens;
	size_t n_tenants, cap_tenants;
	struct server_tenant_limits *tenants;
};

/* A key path for messages: "limits.tenants.team-a.ingest_rate". */
struct cfg_path {
	char s[256];
};

static void path_join(struct cfg_path *out, const struct cfg_path *base, const char *key)
{
	if (base && base->s[0])
		snprintf(out->s, sizeof(out->s), "%.120s.%.120s", base->s, key);
	else
		snprintf(out->s, sizeof(out->s), "%.250s", key);
}

static size_t node_line(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 0;
}

static int cfg_err(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int cfg_err(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p,
		   const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ember_diag_set(x->d, -EMBER_EUSAGE, "%s:%zu: %s: %s", x->origin, node_line(n),
			      p->s[0] ? p->s : "(top)", msg);
}

/* A plain scalar that YAML reads as null ("", "~", "null"): the key is treated as absent. */
static bool node_is_null(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

static int want_scalar(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p,
		       const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return cfg_err(x, n, p, "expected a single value, not a %s",
			       n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	if (n->data.scalar.length > CFG_MAX_STR)
		return cfg_err(x, n, p, "value longer than %d bytes", CFG_MAX_STR);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return cfg_err(x, n, p, "value contains a NUL byte");
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int want_str(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p,
		    const char **out)
{
	const char *v = NULL;
	int err = want_scalar(x, n, p, &v);

	if (err)
		return err;
	if (!*v)
		return cfg_err(x, n, p, "must not be empty");
	*out = arena_strndup(x->c->arena, v, strlen(v));
	return 0;
}

static int want_u64(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	const char *v = NULL, *c;
	uint64_t r = 0;
	int err = want_scalar(x, n, p, &v);

	if (err)
		return err;
	if (!*v)
		return cfg_err(x, n, p, "expected a number");
	for (c = v; *c; c++) {
		if (*c < '0' || *c > '9' || r > (UINT64_MAX - 9) / 10)
			return cfg_err(x, n, p, "'%.60s' is not a whole number", v);
		r = r * 10 + (uint64_t)(*c - '0');
	}
	if (r < min || r > max)
		return cfg_err(x, n, p, "%llu is out of range [%llu, %llu]", (unsigned long long)r,
			       (unsigned long long)min, (unsigned long long)max);
	*out = r;
	return 0;
}

static int want_u32(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p, uint32_t min,
		    uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	int err = want_u64(x, n, p, min, max, &v);

	if (!err)
		*out = (uint32_t)v;
	return err;
}

static int want_size(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p,
		     uint64_t min, uint64_t max, uint64_t *out)
{
	const char *v = NULL;
	uint64_t r = 0;
	int err = want_scalar(x, n, p, &v);

	if (err)
		return err;
	if (server_config_size(v, &r))
		return cfg_err(x, n, p, "'%.60s' is not a size (e.g. 4096, 512KiB, 16MiB, 1GB)", v);
	if (r < min || r > max)
		return cfg_err(x, n, p, "%.60s is out of range [%llu, %llu] bytes", v,
			       (unsigned long long)min, (unsigned long long)max);
	*out = r;
	return 0;
}

static int want_duration(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p,
			 int64_t min, int64_t max, int64_t *out)
{
	const char *v = NULL;
	int64_t r = 0;
	int err = want_scalar(x, n, p, &v);

	if (err)
		return err;
	if (server_config_duration(v, &r))
		return cfg_err(x, n, p, "'%.60s' is not a duration (e.g. 500ms, 90s, 12h, 30d)", v);
	if (r < min || r > max)
		return cfg_err(x, n, p, "%.60s is out of range", v);
	*out = r;
	return 0;
}

static int want_bool(struct cfg_ctx *x, const yaml_node_t *n, const struct cfg_path *p, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "off"};
	const char *v = NULL;
	int err = want_scalar(x, n, p, &v);

	if (err)
		return err;
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return cfg_err(x, n, p, "'%.60s' is not true or false", v);
}

/* Iterates a mapping: checks that keys are unique scalars; calls fn(key, value) for each
 * value that is not null. */
typedef int (*cfg_pair_fn)(struct cfg_ctx *x, const char *key, yaml_node_t *val,
			   const struct cfg_path *p, void *arg);

static int each_pair(struct cfg_ctx *x, yaml_node_t *map, const struct cfg_path *p, cfg_pair_fn fn,
		     void *arg)
{
	int err;

	if (map->type != YAML_MAPPING_NODE)
		return cfg_err(x, map, p, "expected a mapping (key: value lines)");
	for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, a->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, a->value);
		struct cfg_path kp;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return cfg_err(x, k ? k : map, p, "keys must be plain words");
		const char *key = (const char *)k->data.scalar.value;
		if (k->data.scalar.length > 128 || strlen(key) != k->data.scalar.length)
			return cfg_err(x, k, p, "key too long or with a NUL byte");
		for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
			yaml_node_t *k2 = yaml_document_get_node(x->doc, b->key);
			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, key)) {
				path_join(&kp, p, key);
				return cfg_err(x, k, &kp, "duplicate key (first on line %zu)",
					       node_line(k2));
			}
		}
		path_join(&kp, p, key);
		if (node_is_null(v))
			continue;
		x->key = k;
		err = fn(x, key, v, &kp, arg);
		if (err)
			return err;
	}
	return 0;
}

static int unknown_key(struct cfg_ctx *x, yaml_node_t *v, const struct cfg_path *p)
{
	return cfg_err(x, x->key ? x->key : v, p, "unknown key");
}

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

static int tls_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		    void *arg)
{
	struct server_opts *o = &x->c->opts;

	(void)arg;
	if (!strcmp(key, "cert"))
		return want_str(x, v, p, &o->tls_cert);
	if (!strcmp(key, "key"))
		return want_str(x, v, p, &o->tls_key);
	return unknown_key(x, v, p);
}

static int server_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		       void *arg)
{
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
			return cfg_err(x, v, p, "%s", d2.msg);
		return err;
	}
	if (!strcmp(key, "data_dir"))
		return want_str(x, v, p, &o->data_dir);
	if (!strcmp(key, "max_body")) {
		err = want_size(x, v, p, 1024, (uint64_t)1 << 30, &u);
		o->max_body_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "threads"))
		return want_u32(x, v, p, 1, 256, &o->n_threads);
	if (!strcmp(key, "shutdown_grace"))
		return want_duration(x, v, p, 0, (int64_t)3600 * 1000000000, &o->shutdown_grace_ns);
	if (!strcmp(key, "tls"))
		return each_pair(x, v, p, tls_pair, NULL);
	return unknown_key(x, v, p);
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

static int storage_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v,
			const struct cfg_path *p, void *arg)
{
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
			return cfg_err(x, v, p, "%s", d2.msg);
		return err;
	}
	if (!strcmp(key, "retention"))
		return want_duration(x, v, p, 0, 100 * year_ns, &so->retention_ns);
	if (!strcmp(key, "retention_bytes"))
		return want_size(x, v, p, 0, UINT64_MAX, &so->retention_bytes);
	if (!strcmp(key, "block_duration"))
		return want_duration(x, v, p, (int64_t)60 * 1000000000,
				     (int64_t)7 * 86400 * 1000000000, &so->block_duration_ns);
	if (!strcmp(key, "head_max_bytes")) {
		err = want_size(x, v, p, (uint64_t)1 << 20, (uint64_t)1 << 40, &u);
		so->head_max_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "commit_delay")) {
		err = want_duration(x, v, p, 0, 1000000000, &ns);
		so->commit_delay_us = (uint32_t)(ns / 1000);
		return err;
	}
	if (!strcmp(key, "compaction")) {
		err = want_bool(x, v, p, &b);
		so->no_compaction = !b;
		return err;
	}
	if (!strcmp(key, "max_tenants"))
		return want_u32(x, v, p, 1, 1000000, &so->limits.max_tenants);
	if (!strcmp(key, "max_stack_depth"))
		return want_u32(x, v, p, 1, 65536, &so->limits.max_stack_depth);
	if (!strcmp(key, "max_sample_types"))
		return want_u32(x, v, p, 1, 1024, &so->limits.max_sample_types);
	if (!strcmp(key, "max_label_name_len"))
		return want_u32(x, v, p, 1, 65536, &so->limits.max_label_name_len);
	if (!strcmp(key, "max_profile_bytes"))
		return want_size(x, v, p, 1024, (uint64_t)1 << 32, &so->limits.max_profile_bytes);
	return unknown_key(x, v, p);
}

/* --- limits ------------------------------------------------------------------------------- */

static int limits_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		       void *arg)
{
	struct server_limits *l = arg;
	uint64_t u = 0;
	int err;

	if (!strcmp(key, "ingest_rate")) {
		const char *s = NULL;
		char *end;
		double r;

		err = want_scalar(x, v, p, &s);
		if (err)
			return err;
		errno = 0;
		r = strtod(s, &end);
		if (!*s || *end || errno || !isfinite(r) || r < 0 || r > 1e6)
			return cfg_err(x, v, p, "'%.60s' is not a rate in [0, 1000000] profiles/s",
				       s);
		l->ingest_rate = r;
		return 0;
	}
	if (!strcmp(key, "ingest_burst"))
		return want_u32(x, v, p, 0, 1000000, &l->ingest_burst);
	if (!strcmp(key, "max_body")) {
		err = want_size(x, v, p, 1024, (uint64_t)1 << 30, &u);
		l->max_body_bytes = (size_t)u;
		return err;
	}
	if (!strcmp(key, "max_decompressed")) {
		err = want_size(x, v, p, 1024, (uint64_t)1 << 32, &u);
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
	return unknown_key(x, v, p);
}

static int tenant_limits_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v,
			      const struct cfg_path *p, void *arg)
{
	struct server_tenant_limits *t;

	(void)arg;
	if (!server_tenant_ok(key))
		return cfg_err(x, v, p, "not a tenant id ([A-Za-z0-9_.-]{1,64})");
	if (x->n_tenants >= SERVER_CONFIG_MAX_TENANTS)
		return cfg_err(x, v, p, "more than %d tenants", SERVER_CONFIG_MAX_TENANTS);
	mem_grow(MEM_SERVER, (void **)&x->tenants, &x->cap_tenants, x->n_tenants + 1,
		 sizeof(*x->tenants));
	t = &x->tenants[x->n_tenants++];
	memset(t, 0, sizeof(*t));
	t->tenant = arena_strndup(x->c->arena, key, strlen(key));
	return each_pair(x, v, p, limits_pair, &t->lim);
}

static int limits_section_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v,
			       const struct cfg_path *p, void *arg)
{
	(void)arg;
	if (!strcmp(key, "defaults"))
		return each_pair(x, v, p, limits_pair, &x->c->opts.limits);
	if (!strcmp(key, "tenants"))
		return each_pair(x, v, p, tenant_limits_pair, NULL);
	return unknown_key(x, v, p);
}

/* --- auth --------------------------------------------------------------------------------- */

static int token_check(struct cfg_ctx *x, yaml_node_t *v, const struct cfg_path *p, const char *tok,
		       const char *what)
{
	size_t n = strlen(tok);

	if (n < SERVER_TOKEN_MIN_LEN || n > SERVER_TOKEN_MAX_LEN)
		return cfg_err(x, v, p, "%s must be %d to %d characters long", what,
			       SERVER_TOKEN_MIN_LEN, SERVER_TOKEN_MAX_LEN);
	for (; *tok; tok++)
		if (*tok < 0x21 || *tok > 0x7e)
			return cfg_err(x, v, p, "%s must be printable ASCII without spaces", what);
	return 0;
}

/* Reads a token file (bounded), trailing whitespace removed. */
static int token_read_file(struct cfg_ctx *x, yaml_node_t *v, const struct cfg_path *p,
			   const char *path, const char **out)
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
		return cfg_err(x, v, p, "cannot read %.200s: %s", full,
			       err == -EMBER_ELIMIT ? "file too large" : ember_strerror(err));
	}
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' ||
			 b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.len--;
	if (b.len && memchr(b.data, 0, b.len)) {
		buf_fini(&b);
		return cfg_err(x, v, p, "%.200s contains a NUL byte", full);
	}
	*out = arena_strndup(x->c->arena, b.len ? (const char *)b.data : "", b.len);
	buf_fini(&b);
	return token_check(x, v, p, *out, "the token in the file");
}

static int scope_parse(struct cfg_ctx *x, yaml_node_t *v, const struct cfg_path *p,
		       unsigned int *scopes)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_err(x, v, p, "expected a list of ingest, query, admin");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++) {
		yaml_node_t *s = yaml_document_get_node(x->doc, *i);
		const char *name = NULL;
		int err;

		if (!s)
			return cfg_err(x, v, p, "bad list item");
		err = want_scalar(x, s, p, &name);
		if (err)
			return err;
		if (!strcmp(name, "ingest"))
			*scopes |= SERVER_TOKEN_INGEST;
		else if (!strcmp(name, "query"))
			*scopes |= SERVER_TOKEN_QUERY;
		else if (!strcmp(name, "admin"))
			*scopes |= SERVER_TOKEN_ADMIN;
		else
			return cfg_err(x, s, p, "unknown scope '%.40s' (ingest, query, admin)",
				       name);
	}
	if (!*scopes)
		return cfg_err(x, v, p, "at least one scope is needed");
	return 0;
}

struct token_build {
	struct server_token t;
	yaml_node_t *token_node, *file_node, *tenant_node, *scopes_node;
};

static int token_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		      void *arg)
{
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
		return unknown_key(x, v, p);
	return 0;
}

static int auth_token(struct cfg_ctx *x, yaml_node_t *v, const struct cfg_path *p)
{
	struct token_build tb;
	struct cfg_path kp;
	const char *s = NULL;
	int err;

	memset(&tb, 0, sizeof(tb));
	err = each_pair(x, v, p, token_pair, &tb);
	if (err)
		return err;
	if (!!tb.token_node == !!tb.file_node)
		return cfg_err(x, v, p, "give exactly one of token and token_file");
	if (tb.token_node) {
		path_join(&kp, p, "token");
		err = want_str(x, tb.token_node, &kp, &tb.t.token);
		if (!err)
			err = token_check(x, tb.token_node, &kp, tb.t.token, "token");
	} else {
		path_join(&kp, p, "token_file");
		err = want_scalar(x, tb.file_node, &kp, &s);
		if (!err && !*s)
			err = cfg_err(x, tb.file_node, &kp, "must not be empty");
		if (!err)
			err = token_read_file(x, tb.file_node, &kp, s, &tb.t.token);
	}
	if (err)
		return err;
	if (!tb.tenant_node)
		return cfg_err(x, v, p, "tenant is missing");
	path_join(&kp, p, "tenant");
	err = want_str(x, tb.tenant_node, &kp, &tb.t.tenant);
	if (err)
		return err;
	if (!server_tenant_ok(tb.t.tenant))
		return cfg_err(x, tb.tenant_node, &kp, "not a tenant id ([A-Za-z0-9_.-]{1,64})");
	if (!tb.scopes_node)
		return cfg_err(x, v, p, "scopes is missing (a list of ingest, query, admin)");
	path_join(&kp, p, "scopes");
	err = scope_parse(x, tb.scopes_node, &kp, &tb.t.scopes);
	if (err)
		return err;
	for (size_t i = 0; i < x->n_tokens; i++)
		if (!strcmp(x->tokens[i].token, tb.t.token))
			return cfg_err(x, v, p,
				       "the same token is given twice (also in tokens[%zu])", i);
	if (x->n_tokens >= SERVER_CONFIG_MAX_TOKENS)
		return cfg_err(x, v, p, "more than %d tokens", SERVER_CONFIG_MAX_TOKENS);
	mem_grow(MEM_SERVER, (void **)&x->tokens, &x->cap_tokens, x->n_tokens + 1,
		 sizeof(*x->tokens));
	x->tokens[x->n_tokens++] = tb.t;
	return 0;
}

static int auth_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		     void *arg)
{
	size_t idx = 0;

	(void)arg;
	if (strcmp(key, "tokens"))
		return unknown_key(x, v, p);
	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_err(x, v, p, "expected a list of {token|token_file, tenant, scopes}");
	for (yaml_node_item_t *i = v->data.sequence.items.start; i < v->data.sequence.items.top;
	     i++, idx++) {
		yaml_node_t *t = yaml_document_get_node(x->doc, *i);
		struct cfg_path ip;
		int err;

		snprintf(ip.s, sizeof(ip.s), "auth.tokens[%zu]", idx);
		if (!t)
			return cfg_err(x, v, &ip, "bad list item");
		err = auth_token(x, t, &ip);
		if (err)
			return err;
	}
	return 0;
}

/* --- log ---------------------------------------------------------------------------------- */

static int log_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		    void *arg)
{
	const char *s = NULL;
	int err;

	(void)arg;
	if (!strcmp(key, "level")) {
		err = want_scalar(x, v, p, &s);
		if (err)
			return err;
		if (log_parse_level(s, &x->c->log_level))
			return cfg_err(x, v, p, "'%.40s' is not error, warn, info, debug or trace",
				       s);
		x->c->log_level_set = true;
		return 0;
	}
	if (!strcmp(key, "format")) {
		err = want_scalar(x, v, p, &s);
		if (err)
			return err;
		if (!strcmp(s, "json"))
			x->c->log_json = true;
		else if (!strcmp(s, "text"))
			x->c->log_json = false;
		else
			return cfg_err(x, v, p, "'%.40s' is not text or json", s);
		return 0;
	}
	return unknown_key(x, v, p);
}

/* --- top level ---------------------------------------------------------------------------- */

static int top_pair(struct cfg_ctx *x, const char *key, yaml_node_t *v, const struct cfg_path *p,
		    void *arg)
{
	(void)arg;
	if (!strcmp(key, "server"))
		return each_pair(x, v, p, server_pair, NULL);
	if (!strcmp(key, "storage"))
		return each_pair(x, v, p, storage_pair, NULL);
	if (!strcmp(key, "limits"))
		return each_pair(x, v, p, limits_section_pair, NULL);
	if (!strcmp(key, "auth"))
		return each_pair(x, v, p, auth_pair, NULL);
	if (!strcmp(key, "log"))
		return each_pair(x, v, p, log_pair, NULL);
	if (!strcmp(key, "scrape_configs"))
		return 0; /* server_scrape.c */
	return cfg_err(x, x->key ? x->key : v, p,
		       "unknown key (top-level keys: server, storage, limits, auth, log, "
		       "scrape_configs)");
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

static int parse_doc(struct cfg_ctx *x, const char *text, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct cfg_path top = {{0}};
	int err = 0;

	if (!yaml_parser_initialize(&parser))
		return ember_diag_set(x->d, -ENOMEM, "%s: cannot start the YAML parser", x->origin);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = ember_diag_set(x->d, -EMBER_EUSAGE, "%s:%zu: YAML: %s%s%s", x->origin,
				     parser.problem_mark.line + 1,
				     parser.problem ? parser.problem : "syntax error",
				     parser.context ? " " : "",
				     parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return err;
	}
	x->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root && !node_is_null(root)) {
		if (root->type != YAML_MAPPING_NODE)
			err = cfg_err(x, root, &top, "the document must be a mapping of sections");
		else
			err = each_pair(x, root, &top, top_pair, NULL);
	}
	if (!err) {
		/* A second document is almost always a mistake (a stray "---"). */
		yaml_document_t doc2;
		if (!yaml_parser_load(&parser, &doc2)) {
			err = ember_diag_set(x->d, -EMBER_EUSAGE, "%s:%zu: YAML: %s", x->origin,
					     parser.problem_mark.line + 1,
					     parser.problem ? parser.problem : "syntax error");
		} else {
			if (yaml_document_get_root_node(&doc2))
				err = ember_diag_set(x->d, -EMBER_EUSAGE,
						     "%s:%zu: only one YAML document is read",
						     x->origin, parser.mark.line + 1);
			yaml_document_delete(&doc2);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	x->doc = NULL;
	return err;
}

int server_config_parse(const char *text, size_t len, const char *origin,
			struct server_config **out, struct ember_diag *d)
{
	struct cfg_ctx x = {.origin = origin ? origin : "config", .d = d};
	int err;

	*out = NULL;
	if (len > SERVER_CONFIG_MAX_BYTES)
		return ember_diag_set(d, -EMBER_ELIMIT, "%s: larger than %zu bytes", x.origin,
				      SERVER_CONFIG_MAX_BYTES);
	x.c = server_config_new();
	err = parse_doc(&x, text, len);
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

int server_config_load(const char *path, struct server_config **out, struct ember_diag *d)
{
	struct buf b;
	int err;

	*out = NULL;
	buf_init(&b, MEM_SERVER, SERVER_CONFIG_MAX_BYTES);
	err = buf_read_file(&b, path);
	if (err) {
		buf_fini(&b);
		return ember_diag_set(d, err, "%s: %s", path,
				      err == -EMBER_ELIMIT ? "larger than 1 MiB"
							   : ember_strerror(err));
	}
	err = server_config_parse(b.len ? (const char *)b.data : "", b.len, path, out, d);
	buf_fini(&b);
	if (!err)
		(*out)->opts.config_path = arena_strndup((*out)->arena, path, strlen(path));
	return err;
}

/* --- units -------------------------------------------------------------------------------- */

int server_config_duration(const char *s, int64_t *out_ns)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = {
		{"ms", 1000000},
		{"s", 1000000000},
		{"m", (int64_t)60 * 1000000000},
		{"h", (int64_t)3600 * 1000000000},
		{"d", (int64_t)86400 * 1000000000},
		{"w", (int64_t)7 * 86400 * 1000000000},
	};
	int64_t total = 0;

	if (!s || !*s)
		return -EMBER_EUSAGE;
	if (!strcmp(s, "0")) {
		*out_ns = 0;
		return 0;
	}
	while (*s) {
		uint64_t n = 0;
		size_t best = SIZE_MAX;

		if (*s < '0' || *s > '9')
			return -EMBER_EUSAGE;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (n > 1000000000)
				return -EMBER_EUSAGE;
			n = n * 10 + (uint64_t)(*s - '0');
		}
		for (size_t i = 0; i < EMBER_ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].u);
			if (!strncmp(s, units[i].u, ul) && !(s[ul] >= 'a' && s[ul] <= 'z') &&
			    (best == SIZE_MAX || ul > strlen(units[best].u)))
				best = i;
		}
		if (best == SIZE_MAX)
			return -EMBER_EUSAGE;
		if (n && (uint64_t)units[best].ns > (uint64_t)(INT64_MAX - total) / n)
			return -EMBER_EUSAGE;
		total += (int64_t)n * units[best].ns;
		s += strlen(units[best].u);
	}
	*out_ns = total;
	return 0;
}

int server_config_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *u;
		uint64_t mul;
	} units[] = {
		{"", 1},
		{"B", 1},
		{"k", 1024},
		{"K", 1024},
		{"KiB", 1024},
		{"KB", 1000},
		{"M", (uint64_t)1 << 20},
		{"MiB", (uint64_t)1 << 20},
		{"MB", 1000000},
		{"G", (uint64_t)1 << 30},
		{"GiB", (uint64_t)1 << 30},
		{"GB", 1000000000},
		{"T", (uint64_t)1 << 40},
		{"TiB", (uint64_t)1 << 40},
		{"TB", 1000000000000},
	};
	uint64_t n = 0;

	if (!s || *s < '0' || *s > '9')
		return -EMBER_EUSAGE;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -EMBER_EUSAGE;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s == ' ')
		s++;
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(units); i++) {
		if (strcmp(s, units[i].u))
			continue;
		if (n && units[i].mul > UINT64_MAX / n)
			return -EMBER_EUSAGE;
		*out = n * units[i].mul;
		return 0;
	}
	return -EMBER_EUSAGE;
}

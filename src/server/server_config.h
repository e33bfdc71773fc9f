/*
 * server_config.h — the YAML configuration of `ember server` (docs/config.md): top-level keys
 * server, storage, limits, auth and log become a struct server_opts (plus the store tuning and
 * the log settings); scrape_configs is accepted and left to server_scrape.c. Unknown keys,
 * wrong types and out-of-range values are errors naming the file, line and key.
 *
 * Everything parsed lives in the config's arena; the opts point into it.
 */
#ifndef EMBER_SERVER_SERVER_CONFIG_H
#define EMBER_SERVER_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "server/server.h"
#include "store/store.h"

#define SERVER_CONFIG_MAX_TOKENS  1024
#define SERVER_CONFIG_MAX_TENANTS 1024
#define SERVER_TOKEN_MIN_LEN	  8
#define SERVER_TOKEN_MAX_LEN	  512

struct arena;

struct server_config {
	struct server_opts opts; /* opts.store points at `store` */
	struct store_opts store;
	bool log_level_set;
	enum log_level log_level;
	bool log_json;
	struct arena *arena; /* owns every string and array above */
};

/* An empty configuration (every value its default). */
struct server_config *server_config_new(void);
/* Parses a YAML document; origin names it in messages ("ember.yaml:12: server.listen: ...").
 * -EMBER_EUSAGE (or -EMBER_ELIMIT) with the message on any error; nothing is returned then.
 * A relative token_file is read from the directory of origin (when origin has a '/'). */
int server_config_parse(const char *text, size_t len, const char *origin,
			struct server_config **out, struct ember_diag *d);
/* Reads path (at most YCFG_MAX_TEXT, 1 MiB) and parses it; config_path is set to path. */
int server_config_load(const char *path, struct server_config **out, struct ember_diag *d);
void server_config_free(struct server_config *c);

/* "30d", "12h", "1h30m", "500ms", "90s" (units ms s m h d w) into ns; -EMBER_EUSAGE otherwise. */
int server_config_duration(const char *s, int64_t *out_ns);

/* s is non-empty and only of ASCII letters, digits and the characters of extra. */
bool server_name_ok(const char *s, const char *extra);

/* The storage section's whole-number limits of struct store_limits, with their bounds: the
 * YAML keys and the `ember server` flags both read them from here. */
struct server_store_u32 {
	const char *key;  /* storage.<key> */
	const char *flag; /* --<flag> */
	uint32_t min, max;
	size_t off; /* of the uint32_t field in struct store_limits */
};
#define SERVER_STORE_U32_N 4
extern const struct server_store_u32 server_store_u32s[SERVER_STORE_U32_N];

/* The field of lim that u names. */
static inline uint32_t *server_store_u32_field(struct store_limits *lim,
					       const struct server_store_u32 *u)
{
	return (uint32_t *)((char *)lim + u->off);
}
/* A tenant id of the config and the X-Scope-OrgID header: [A-Za-z0-9_.-]{1,64}. */
bool server_tenant_ok(const char *t);

/* The storage URL of --storage / storage.url: "local" (the embedded store, the default) or
 * clickhouse://host:8123/db[?cluster=NAME...] (docs/internals/clickhouse.md); sets
 * so->backend and so->url (borrowed). -EMBER_EUSAGE otherwise. */
int server_storage_parse(const char *s, struct store_opts *so, struct ember_diag *d);

/* "16MiB", "1GB", "512k", "4096" (B, K/KiB, M/MiB, G/GiB, T/TiB = 1024^n; KB, MB, GB, TB =
 * 1000^n) into bytes; -EMBER_EUSAGE otherwise. */
int server_config_size(const char *s, uint64_t *out);

#endif

/*
 * server.h — `ember server`: the HTTP front of the store (libmicrohttpd). It owns the listening
 * socket, the worker threads and the opened store; request handlers live in server_ingest.c
 * (Pyroscope /ingest) and server_query.c (/pyroscope/render, labels), the transport, routing
 * and /metrics in server_http.c.
 *
 * Lifecycle: server_start opens the store and starts accepting; server_stop stops accepting,
 * lets the worker threads finish, closes the store and frees everything.
 */
#ifndef EMBER_SERVER_SERVER_H
#define EMBER_SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

struct server;

/* Per-tenant limits (server_limits.c). 0 in a tenant override = inherit the default; 0 in the
 * defaults = the built-in value named here. */
struct server_limits {
	double ingest_rate;	       /* profiles per second (token bucket); 0 = unlimited */
	uint32_t ingest_burst;	       /* bucket size; 0 = max(1, rate) */
	size_t max_body_bytes;	       /* request body; 0 = server_opts.max_body_bytes */
	size_t max_decompressed_bytes; /* an inflated body or part; 0 = 64 MiB */
	uint32_t max_ratio;	       /* inflated / compressed; 0 = 1000 */
	uint32_t max_series;	       /* series of the tenant; 0 = the store's 100000 */
	uint32_t max_labels;	       /* labels of a series; 0 = the store's 32 */
	uint32_t max_label_value_len;  /* bytes; 0 = the store's 2048 */
};

struct server_tenant_limits {
	const char *tenant;
	struct server_limits lim;
};

/* Scopes a bearer token may carry (bit set). */
#define SERVER_TOKEN_INGEST 1u
#define SERVER_TOKEN_QUERY  2u
#define SERVER_TOKEN_ADMIN  4u

struct server_token {
	const char *token; /* the secret; never logged */
	const char *tenant;
	unsigned int scopes;
};

/* HTTP worker threads when server_opts.n_threads is 0. */
#define SERVER_DEFAULT_THREADS 32

struct server_opts {
	const char *listen;	 /* "ADDR:PORT" (IPv4); NULL = "127.0.0.1:4040" */
	const char *data_dir;	 /* NULL = "./data" */
	size_t max_body_bytes;	 /* request body limit; 0 = 16 MiB */
	unsigned int n_threads;	 /* worker threads; 0 = SERVER_DEFAULT_THREADS */
	const char *config_path; /* YAML config (scrape_configs, ...); NULL = none */
	const char *tls_cert;	 /* PEM certificate chain file; with tls_key: HTTPS only */
	const char *tls_key;	 /* PEM private key file */
	/* Store tuning (limits, retention, block size); NULL = defaults. backend, dir and
	 * background are set by the server. */
	const struct store_opts *store;
	struct server_limits limits; /* defaults for every tenant */
	size_t n_tenant_limits;
	const struct server_tenant_limits *tenant_limits;
	size_t n_tokens; /* 0 = no authentication */
	const struct server_token *tokens;
	int64_t shutdown_grace_ns; /* SIGTERM: wait this long for running requests; 0 = 30 s */
};

/* Parses "ADDR:PORT" (dotted IPv4 address, port 1..65535). -EMBER_EUSAGE with a message. */
int server_listen_parse(const char *s, unsigned char addr[4], unsigned short *port,
			struct ember_diag *d);

int server_start(const struct server_opts *o, struct server **out, struct ember_diag *d);
void server_stop(struct server *s);

#endif

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

#include "base/err.h"

struct server;

struct server_opts {
	const char *listen;	 /* "ADDR:PORT" (IPv4); NULL = "127.0.0.1:4040" */
	const char *data_dir;	 /* NULL = "./data" */
	size_t max_body_bytes;	 /* request body limit; 0 = 16 MiB */
	unsigned int n_threads;	 /* worker threads; 0 = 4 */
	const char *config_path; /* YAML config (scrape_configs, ...); NULL = none */
};

/* Parses "ADDR:PORT" (dotted IPv4 address, port 1..65535). -EMBER_EUSAGE with a message. */
int server_listen_parse(const char *s, unsigned char addr[4], unsigned short *port,
			struct ember_diag *d);

int server_start(const struct server_opts *o, struct server **out, struct ember_diag *d);
void server_stop(struct server *s);

#endif

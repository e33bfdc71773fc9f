/*
 * server_ui.c — serves the web UI compiled into the binary (server_assets.h, generated from
 * web/ by scripts/embed_assets.sh): GET / and /index.html give the page, /assets/<file> the
 * scripts, styles and vendored libraries (404 JSON when unknown), and every other GET path that
 * is not an API path gives the page too, so that shared links like /explore?query=... work.
 * Answers carry Content-Type, Cache-Control: no-cache and a strong ETag; If-None-Match with the
 * current ETag gets 304. The bytes are served from static storage, never copied or modified.
 */
#include <string.h>

#include "server/server_assets.h"
#include "server/server_int.h"

#define UI_INDEX    "/index.html"
#define UI_MAX_PATH 1024

/* Paths of the APIs: an unknown one is a 404, never the page. */
static const char *const api_prefixes[] = {
	"/api/",   "/pyroscope/", "/querier.v1.", "/push.v1.", "/v1development/",
	"/ingest", "/metrics",	  "/ready",	  "/debug/",   "/favicon.ico"};

static const struct server_asset *asset_find(const char *path)
{
	size_t lo = 0, hi = server_n_assets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(server_assets[mid].path, path);
		if (!c)
			return &server_assets[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int server_ui_etag_matches(const char *inm, const char *etag)
{
	size_t n = strlen(etag);

	if (!inm || !n)
		return 0;
	if (!strcmp(inm, "*"))
		return 1;
	for (const char *p = inm; (p = strstr(p, etag)) != NULL; p += n) {
		/* a weak validator W/"..." matches too (RFC 9110 weak comparison) */
		char after = p[n];
		if (after == 0 || after == ',' || after == ' ')
			return 1;
	}
	return 0;
}

const struct server_asset *server_ui_resolve(const char *path, const char **why)
{
	const struct server_asset *a;

	*why = "no such page";
	if (!path || path[0] != '/' || strlen(path) > UI_MAX_PATH)
		return NULL;
	if (!strncmp(path, "/assets/", 8)) {
		*why = "no such asset";
		return asset_find(path);
	}
	for (size_t i = 0; i < sizeof(api_prefixes) / sizeof(api_prefixes[0]); i++) {
		if (!strncmp(path, api_prefixes[i], strlen(api_prefixes[i]))) {
			*why = "no such endpoint";
			return NULL;
		}
	}
	a = asset_find(UI_INDEX);
	if (!a)
		*why = "this ember binary was built without the web UI";
	return a;
}

void server_ui(const struct server_req *q, struct server_resp *r)
{
	const char *why;
	const struct server_asset *a = server_ui_resolve(server_path(q), &why);
	const char *inm;

	if (!a) {
		server_resp_error(r, MHD_HTTP_NOT_FOUND, "%s", why);
		return;
	}
	inm = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	r->ctype = a->ctype;
	r->etag = a->etag;
	r->cache_control = "no-cache";
	if (server_ui_etag_matches(inm, a->etag)) {
		r->status = MHD_HTTP_NOT_MODIFIED;
		return;
	}
	r->status = MHD_HTTP_OK;
	r->static_body = a->data;
	r->static_len = a->len;
}

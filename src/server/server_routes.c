/*
 * server_routes.c — the route table of `ember server`: which handler answers which method and
 * path, and under which scope (ingest, query, admin) for counters and authorization. The first
 * matching row wins; a row with `prefix` set matches every path that starts with its path.
 * Adding an endpoint means adding one row here and its handler in the file that owns it.
 */
#include <string.h>

#include "server/server_int.h"

static const struct server_route routes[] = {
	{"/ready", SERVER_GET, SERVER_SCOPE_NONE, false, server_ready},
	{"/metrics", SERVER_GET, SERVER_SCOPE_NONE, false, server_metrics},
	/* Ingest. */
	{"/ingest", SERVER_POST, SERVER_SCOPE_INGEST, false, server_ingest},
	{"/pyroscope/ingest", SERVER_POST, SERVER_SCOPE_INGEST, false, server_ingest},
	{"/push.v1.PusherService/Push", SERVER_POST, SERVER_SCOPE_INGEST, false, server_push},
	{"/v1development/profiles", SERVER_POST, SERVER_SCOPE_INGEST, false, server_otlp},
	/* Legacy Pyroscope query API. */
	{"/pyroscope/render", SERVER_GET, SERVER_SCOPE_QUERY, false, server_render},
	{"/pyroscope/render-diff", SERVER_GET, SERVER_SCOPE_QUERY, false, server_render_diff},
	{"/pyroscope/label-values", SERVER_GET, SERVER_SCOPE_QUERY, false, server_label_values},
	{"/pyroscope/labels", SERVER_GET, SERVER_SCOPE_QUERY, false, server_label_names},
	/* Connect querier (server_querier.c), Ember's own API (server_api.c). */
	{"/querier.v1.QuerierService/", SERVER_POST, SERVER_SCOPE_QUERY, true, server_querier},
	{"/api/v1/targets", SERVER_GET, SERVER_SCOPE_QUERY, false, server_scrape_targets},
	{"/api/v1/", SERVER_GET | SERVER_POST, SERVER_SCOPE_QUERY, true, server_api},
	/* The web UI's assets (server_ui.c); last, it answers every other GET. */
	{"/", SERVER_GET, SERVER_SCOPE_NONE, true, server_ui},
};

const struct server_route *server_route_find(const char *method, const char *url, int *method_ok)
{
	unsigned int m = 0;

	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		m = SERVER_GET;
	else if (!strcmp(method, "POST"))
		m = SERVER_POST;
	*method_ok = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct server_route *rt = &routes[i];
		int hit = rt->prefix ? !strncmp(url, rt->path, strlen(rt->path))
				     : !strcmp(url, rt->path);
		if (!hit)
			continue;
		if (rt->methods & m) {
			*method_ok = 1;
			return rt;
		}
		if (!rt->prefix || strcmp(rt->path, "/"))
			return rt; /* the path is known, the method is not allowed */
	}
	return NULL;
}

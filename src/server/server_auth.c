/*
 * server_auth.c — authentication and authorization of `ember server` requests. With no tokens
 * configured every request is let through and the tenant is X-Scope-OrgID ("anonymous" when
 * absent). With tokens, a route of scope ingest, query or admin needs
 * `Authorization: Bearer TOKEN` (or Basic auth whose password is the token, as Grafana and the
 * Pyroscope SDKs send it): unknown or missing → 401; a token without the route's scope → 403
 * (admin implies every scope); the token's tenant is forced, and an X-Scope-OrgID naming
 * another tenant → 403. Open routes (SERVER_SCOPE_NONE) need nothing.
 *
 * Tokens are compared in constant time and never logged or echoed.
 */
#include <string.h>

#include "base/base64.h"
#include "server/server_int.h"

#define AUTH_MAX_HEADER 2048

/* Constant time in the length of the secret: equal iff same length and bytes. */
static bool token_eq(const char *a, size_t alen, const char *secret)
{
	size_t slen = strlen(secret);
	unsigned char diff = (unsigned char)(alen != slen);

	for (size_t i = 0; i < slen; i++)
		diff |= (unsigned char)(secret[i] ^ (i < alen ? a[i] : 0));
	return diff == 0;
}

/* The token presented by the request: points into hdr or buf; NULL when none. */
static const char *presented_token(const char *hdr, char *buf, size_t cap, size_t *len)
{
	if (!hdr || strlen(hdr) > AUTH_MAX_HEADER)
		return NULL;
	if (!strncasecmp(hdr, "Bearer ", 7)) {
		hdr += 7;
		while (*hdr == ' ')
			hdr++;
		*len = strlen(hdr);
		while (*len && hdr[*len - 1] == ' ')
			(*len)--;
		return *len ? hdr : NULL;
	}
	if (!strncasecmp(hdr, "Basic ", 6)) {
		size_t n;
		const char *colon;

		hdr += 6;
		while (*hdr == ' ')
			hdr++;
		long r = base64_decode(hdr, strlen(hdr), (uint8_t *)buf, cap);
		if (r < 0)
			return NULL;
		n = (size_t)r;
		colon = memchr(buf, ':', n);
		if (!colon)
			return NULL;
		*len = n - (size_t)(colon + 1 - buf);
		return *len ? colon + 1 : NULL;
	}
	return NULL;
}

static unsigned int scope_bit(enum server_scope scope)
{
	switch (scope) {
	case SERVER_SCOPE_INGEST:
		return SERVER_TOKEN_INGEST;
	case SERVER_SCOPE_QUERY:
		return SERVER_TOKEN_QUERY;
	case SERVER_SCOPE_ADMIN:
		return SERVER_TOKEN_ADMIN;
	default:
		return 0;
	}
}

static const char *scope_name(enum server_scope scope)
{
	switch (scope) {
	case SERVER_SCOPE_INGEST:
		return "ingest";
	case SERVER_SCOPE_QUERY:
		return "query";
	case SERVER_SCOPE_ADMIN:
		return "admin";
	default:
		return "none";
	}
}

unsigned int server_auth_check(const struct server *s, struct MHD_Connection *c,
			       enum server_scope scope, const char *hdr_tenant, const char **tenant,
			       struct server_resp *r)
{
	char basic[AUTH_MAX_HEADER];
	const struct server_token *hit = NULL;
	const char *tok;
	size_t len = 0;

	*tenant = hdr_tenant && *hdr_tenant ? hdr_tenant : "anonymous";
	if (!s->n_tokens || scope == SERVER_SCOPE_NONE)
		return 0;
	tok = presented_token(
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		basic, sizeof(basic), &len);
	if (!tok) {
		server_resp_error(r, MHD_HTTP_UNAUTHORIZED,
				  "authentication required: send Authorization: Bearer TOKEN");
		r->www_authenticate = true;
		return MHD_HTTP_UNAUTHORIZED;
	}
	/* Every token is compared, so the time does not depend on which one matched. */
	for (size_t i = 0; i < s->n_tokens; i++)
		if (token_eq(tok, len, s->tokens[i].token) && !hit)
			hit = &s->tokens[i];
	memset(basic, 0, sizeof(basic));
	if (!hit) {
		server_resp_error(r, MHD_HTTP_UNAUTHORIZED, "unknown token");
		r->www_authenticate = true;
		return MHD_HTTP_UNAUTHORIZED;
	}
	if (!(hit->scopes & (scope_bit(scope) | SERVER_TOKEN_ADMIN))) {
		server_resp_error(r, MHD_HTTP_FORBIDDEN, "the token does not have the %s scope",
				  scope_name(scope));
		return MHD_HTTP_FORBIDDEN;
	}
	if (hdr_tenant && *hdr_tenant && strcmp(hdr_tenant, hit->tenant)) {
		server_resp_error(r, MHD_HTTP_FORBIDDEN,
				  "the token is bound to another tenant than X-Scope-OrgID");
		return MHD_HTTP_FORBIDDEN;
	}
	*tenant = hit->tenant;
	return 0;
}

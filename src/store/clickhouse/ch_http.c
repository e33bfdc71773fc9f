/*
 * ch_http.c — the ClickHouse HTTP client: URL parsing (hosts, database, parameters), one POST per statement through a
 * reused libcurl easy handle, bounded response bodies, timeouts, and server error bodies
 * turned into diag messages. Also the escaping helpers for SQL literals and TabSeparated.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/mem.h"
#include "store/clickhouse/ch.h"

/* Parses one "host[:port]" of n bytes into base (http://host:port/). */
static int ch_host_parse(const char *p, size_t n, const char *url, char *base, size_t cap,
			 struct ember_diag *d)
{
	const char *colon = memchr(p, ':', n);
	size_t hl = colon ? (size_t)(colon - p) : n, i;
	unsigned long port = 8123;

	if (!hl || hl >= 256)
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: bad host in url \"%.200s\"",
				      url);
	for (i = 0; i < hl; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr(".-_", p[i]))
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: bad host \"%.*s\" in url", (int)hl, p);
	if (colon) {
		size_t pl = n - hl - 1;

		port = 0;
		for (i = 0; i < pl && i < 6; i++) {
			if (!isdigit((unsigned char)colon[1 + i]))
				break;
			port = port * 10 + (unsigned long)(colon[1 + i] - '0');
		}
		if (!pl || i != pl || port == 0 || port > 65535)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: bad port in url \"%.200s\"", url);
	}
	snprintf(base, cap, "http://%.*s:%lu/", (int)hl, p, port);
	return 0;
}

static bool ch_ident_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || n > CH_DB_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* A decimal parameter value in [min, max]. */
static int ch_param_u64(const char *key, const char *v, size_t n, uint64_t min, uint64_t max,
			uint64_t *out, struct ember_diag *d)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && i < 19; i++) {
		if (!isdigit((unsigned char)v[i]))
			break;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (!n || i != n || x < min || x > max)
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "clickhouse: url parameter %s=\"%.*s\" is not a number in "
				      "[%llu, %llu]",
				      key, (int)EMBER_MIN(n, (size_t)40), v,
				      (unsigned long long)min, (unsigned long long)max);
	*out = x;
	return 0;
}

/* One key=value of the query string. */
static int ch_param(struct ch_url *u, const char *p, size_t n, struct ember_diag *d)
{
	const char *eq = memchr(p, '=', n);
	size_t kl = eq ? (size_t)(eq - p) : n, vl = eq ? n - kl - 1 : 0;
	const char *v = eq ? eq + 1 : "";
	uint64_t x = 0;
	int rc;

#define CH_KEY(k) (kl == sizeof(k) - 1 && !memcmp(p, k, kl))
	if (CH_KEY("cluster")) {
		if (!ch_ident_ok(v, vl))
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: cluster name \"%.*s\" must be "
					      "[A-Za-z0-9_]{1,64}",
					      (int)EMBER_MIN(vl, (size_t)64), v);
		memcpy(u->cluster, v, vl);
		u->cluster[vl] = 0;
		return 0;
	}
	if (CH_KEY("flush_ms")) {
		rc = ch_param_u64("flush_ms", v, vl, 1, 60000, &x, d);
		u->flush_ms = (uint32_t)x;
	} else if (CH_KEY("batch_rows")) {
		rc = ch_param_u64("batch_rows", v, vl, 1, 100000000, &x, d);
		u->batch_rows = (uint32_t)x;
	} else if (CH_KEY("max_pending")) {
		rc = ch_param_u64("max_pending", v, vl, 1024, (uint64_t)1 << 40, &x, d);
		u->max_pending = x;
	} else if (CH_KEY("timeout_ms")) {
		rc = ch_param_u64("timeout_ms", v, vl, 100, 3600000, &x, d);
		u->timeout_ms = (long)x;
	} else if (CH_KEY("retry_ms")) {
		rc = ch_param_u64("retry_ms", v, vl, 0, 600000, &x, d);
		u->retry_ms = (uint32_t)x;
	} else if (CH_KEY("retention_days")) {
		rc = ch_param_u64("retention_days", v, vl, 0, 36600, &x, d);
		u->retention_days = (uint32_t)x;
	} else {
		rc = ember_diag_set(
			d, -EMBER_EUSAGE,
			"clickhouse: unknown url parameter \"%.*s\" (cluster, flush_ms, "
			"batch_rows, max_pending, timeout_ms, retry_ms, retention_days)",
			(int)EMBER_MIN(kl, (size_t)64), p);
	}
#undef CH_KEY
	return rc;
}

int ch_url_parse(const char *url, struct ch_url *u, struct ember_diag *d)
{
	static const char scheme[] = "clickhouse://";
	const char *p, *hosts_end, *q, *db_end;
	int rc;

	memset(u, 0, sizeof(*u));
	u->flush_ms = 200;
	u->batch_rows = 100000;
	u->max_pending = (uint64_t)256 << 20;
	u->timeout_ms = 30000;
	u->retry_ms = 3000;
	snprintf(u->db, sizeof(u->db), "%s", "ember");
	if (!url || strncmp(url, scheme, sizeof(scheme) - 1))
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "clickhouse: url must look like clickhouse://host:8123/db");
	if (strlen(url) > CH_URL_MAX)
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: url longer than %d bytes",
				      CH_URL_MAX);
	p = url + sizeof(scheme) - 1;
	hosts_end = p + strcspn(p, "/?");
	while (p < hosts_end) {
		const char *comma = memchr(p, ',', (size_t)(hosts_end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(hosts_end - p);

		if (u->n_hosts == CH_HOSTS_MAX)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: more than %d hosts in url",
					      CH_HOSTS_MAX);
		rc = ch_host_parse(p, n, url, u->hosts[u->n_hosts], sizeof(u->hosts[0]), d);
		if (rc)
			return rc;
		u->n_hosts++;
		p += n + (comma ? 1 : 0);
		if (comma && p == hosts_end)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: empty host in url \"%.200s\"", url);
	}
	if (!u->n_hosts)
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: bad host in url \"%.200s\"",
				      url);
	q = strchr(hosts_end, '?');
	db_end = q ? q : hosts_end + strlen(hosts_end);
	if (*hosts_end == '/' && db_end > hosts_end + 1) {
		size_t dl = (size_t)(db_end - hosts_end - 1);

		if (dl > CH_DB_MAX)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: database name longer than %d bytes",
					      CH_DB_MAX);
		if (!ch_ident_ok(hosts_end + 1, dl))
			return ember_diag_set(
				d, -EMBER_EUSAGE,
				"clickhouse: database name \"%.*s\" must be [A-Za-z0-9_]", (int)dl,
				hosts_end + 1);
		memcpy(u->db, hosts_end + 1, dl);
		u->db[dl] = 0;
	}
	for (p = q ? q + 1 : NULL; p && *p;) {
		size_t n = strcspn(p, "&");

		if (n) {
			rc = ch_param(u, p, n, d);
			if (rc)
				return rc;
		}
		p += n + (p[n] ? 1 : 0);
	}
	if (u->n_hosts > 1 && !u->cluster[0])
		return ember_diag_set(
			d, -EMBER_EUSAGE,
			"clickhouse: several hosts need ?cluster=NAME (the cluster of "
			"remote_servers they form)");
	return 0;
}

int ch_conn_open(struct ch_conn *c, const struct ch_url *u, size_t host, struct ember_diag *d)
{
	memset(c, 0, sizeof(*c));
	c->connect_timeout_ms = 2000;
	c->timeout_ms = u->timeout_ms;
	snprintf(c->db, sizeof(c->db), "%s", u->db);
	snprintf(c->base_url, sizeof(c->base_url), "%s", u->hosts[host]);
	snprintf(c->req_url, sizeof(c->req_url), "%s%s", c->base_url,
		 u->cluster[0] ? "?distributed_product_mode=global&insert_distributed_sync=1" : "");
	c->curl = curl_easy_init();
	if (!c->curl)
		return ember_diag_set(d, -ENOMEM, "clickhouse: curl_easy_init failed");
	return 0;
}

int ch_conn_init(struct ch_conn *c, const char *url, struct ember_diag *d)
{
	struct ch_url *u = mem_calloc(MEM_STORE, 1, sizeof(*u));
	int rc;

	memset(c, 0, sizeof(*c));
	rc = ch_url_parse(url, u, d);
	rc = rc ?: ch_conn_open(c, u, 0, d);
	mem_free(u);
	return rc;
}

void ch_conn_fini(struct ch_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

struct ch_sink {
	struct buf *out;
	int err;
};

static size_t ch_write_cb(char *p, size_t size, size_t n, void *ud)
{
	struct ch_sink *s = ud;
	size_t len = size * n;

	if (buf_append(s->out, p, len)) {
		s->err = -EMBER_ELIMIT;
		return 0;
	}
	return len;
}

int ch_query(struct ch_conn *c, const char *sql, const struct buf *body, struct buf *out,
	     struct ember_diag *d)
{
	struct buf req, errbody;
	struct ch_sink sink;
	struct curl_slist *hdr = NULL;
	CURL *h = c->curl;
	CURLcode cc;
	long status = 0;
	int rc = 0;

	buf_init(&req, MEM_STORE, (size_t)1 << 31);
	buf_init(&errbody, MEM_STORE, (size_t)1 << 20);
	if (buf_puts(&req, sql) || buf_putc(&req, '\n') ||
	    (body && buf_append(&req, body->data, body->len))) {
		rc = ember_diag_set(d, -EMBER_ELIMIT, "clickhouse: request too large");
		goto out;
	}
	if (out)
		buf_reset(out);
	sink.out = out ? out : &errbody;
	sink.err = 0;
	curl_easy_reset(h);
	hdr = curl_slist_append(hdr, "Content-Type: text/plain");
	curl_easy_setopt(h, CURLOPT_URL, c->req_url[0] ? c->req_url : c->base_url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)req.data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req.len);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ch_write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_WRITE_ERROR && sink.err) {
		rc = ember_diag_set(d, sink.err, "clickhouse: result larger than %zu bytes",
				    sink.out->max);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = ember_diag_set(d, -ETIMEDOUT, "clickhouse: %s timed out after %ld ms",
				    c->base_url, c->timeout_ms);
	} else if (cc == CURLE_COULDNT_CONNECT) {
		rc = ember_diag_set(d, -ECONNREFUSED, "clickhouse: cannot connect to %s: %s",
				    c->base_url, curl_easy_strerror(cc));
	} else if (cc != CURLE_OK) {
		rc = ember_diag_set(d, -EIO, "clickhouse: %s: %s", c->base_url,
				    curl_easy_strerror(cc));
	} else if (status != 200) {
		const struct buf *eb = sink.out;
		const char *msg = eb->len ? (const char *)eb->data : "(no body)";
		int ml = eb->len ? (int)EMBER_MIN(eb->len, (size_t)CH_ERROR_MAX) : 9;

		while (ml > 0 && (msg[ml - 1] == '\n' || msg[ml - 1] == '\r'))
			ml--;
		rc = ember_diag_set(d, -EIO, "clickhouse: HTTP %ld: %.*s", status, ml, msg);
	}
out:
	curl_slist_free_all(hdr);
	buf_fini(&req);
	buf_fini(&errbody);
	return rc;
}

/* Backslash escapes for ClickHouse text: the control characters TSV and SQL strings share,
 * the backslash itself, and the single quote when `quote` (inside a SQL literal). */
static int ch_escape(struct buf *b, const char *s, size_t len, bool quote)
{
	int rc = 0;

	for (size_t i = 0; i < len && !rc; i++) {
		char esc = 0;

		switch (s[i]) {
		case '\\':
			esc = '\\';
			break;
		case '\t':
			esc = 't';
			break;
		case '\n':
			esc = 'n';
			break;
		case '\r':
			esc = 'r';
			break;
		case '\0':
			esc = '0';
			break;
		case '\'':
			esc = quote ? '\'' : 0;
			break;
		}
		rc = esc ? buf_append(b, (char[]){'\\', esc}, 2) : buf_putc(b, s[i]);
	}
	return rc;
}

int ch_tsv_escape(struct buf *b, const char *s, size_t len)
{
	return ch_escape(b, s, len, false);
}

int ch_sql_quote(struct buf *b, const char *s, size_t len)
{
	int rc = buf_putc(b, '\'');

	if (!rc)
		rc = ch_escape(b, s, len, true);
	return rc ? rc : buf_putc(b, '\'');
}

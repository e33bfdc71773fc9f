/*
 * ch_http.c — the ClickHouse HTTP client: URL parsing, one POST per statement through a
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

#include "store/clickhouse/ch.h"

int ch_conn_init(struct ch_conn *c, const char *url, struct ember_diag *d)
{
	static const char scheme[] = "clickhouse://";
	const char *p, *slash, *colon;
	char host[256];
	unsigned long port = 8123;
	size_t hl, i;

	memset(c, 0, sizeof(*c));
	c->connect_timeout_ms = 2000;
	c->timeout_ms = 30000;
	if (!url || strncmp(url, scheme, sizeof(scheme) - 1))
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "clickhouse: url must look like clickhouse://host:8123/db");
	p = url + sizeof(scheme) - 1;
	slash = strchr(p, '/');
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	hl = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
	if (!hl || hl >= sizeof(host))
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: bad host in url \"%.200s\"",
				      url);
	memcpy(host, p, hl);
	host[hl] = 0;
	for (i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-_", host[i]))
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: bad host \"%.200s\" in url", host);
	if (colon) {
		char *e;

		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (errno || e == colon + 1 || port == 0 || port > 65535 || (*e && *e != '/'))
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: bad port in url \"%.200s\"", url);
	}
	snprintf(c->db, sizeof(c->db), "%s", "ember");
	if (slash && slash[1]) {
		size_t dl = strlen(slash + 1);

		if (dl > CH_DB_MAX)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "clickhouse: database name longer than %d bytes",
					      CH_DB_MAX);
		for (i = 0; i < dl; i++)
			if (!isalnum((unsigned char)slash[1 + i]) && slash[1 + i] != '_')
				return ember_diag_set(
					d, -EMBER_EUSAGE,
					"clickhouse: database name \"%.64s\" must be [A-Za-z0-9_]",
					slash + 1);
		memcpy(c->db, slash + 1, dl + 1);
	}
	snprintf(c->base_url, sizeof(c->base_url), "http://%s:%lu/", host, port);
	c->curl = curl_easy_init();
	if (!c->curl)
		return ember_diag_set(d, -ENOMEM, "clickhouse: curl_easy_init failed");
	return 0;
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
	curl_easy_setopt(h, CURLOPT_URL, c->base_url);
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

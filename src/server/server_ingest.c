/*
 * server_ingest.c — Pyroscope's legacy `POST /ingest` (also /pyroscope/ingest): parses
 * name=app.kind{k=v,...}, from/until, format (folded default, lines, pprof raw or gzipped),
 * sampleRate and spyName, decodes the body into a profile, derives the series labels
 * (service_name, pyroscope_spy, the tags; the store adds __name__ and __profile_type__) and
 * appends it. Text formats take the profile kind from the name's suffix (app.cpu -> process_cpu
 * cpu:nanoseconds, values scaled by the sampling period) as Pyroscope does.
 * Without a format, a multipart/form-data body (the Go and Node SDKs) is split by
 * server_multipart.c: its `profile` part is pprof and `sample_type_config` renames sample types.
 *
 * Every argument and body byte is hostile: bounded lengths and counts, errors as 400 (bad
 * metadata), 422 (a body that does not decode or breaks a limit), 5xx (the store failed).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/mem.h"
#include "format/folded.h"
#include "format/pprof.h"
#include "server/server_config.h"
#include "server/server_int.h"

#define INGEST_MAX_NAME	  4096
#define INGEST_MAX_DECODE ((size_t)64 << 20)

/* A text-format profile kind: the suffix of the name and what Pyroscope makes of it. */
struct ingest_kind {
	const char *suffix;
	const char *name; /* __name__ */
	const char *type, *unit;
	const char *ptype, *punit;
	int scale; /* values are sample counts: multiply by the period 1e9/sampleRate */
};

static const struct ingest_kind ingest_kinds[] = {
	{"cpu", "process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds", 1},
	{"itimer", "process_cpu", "cpu", "nanoseconds", "cpu", "nanoseconds", 1},
	{"wall", "wall", "wall", "nanoseconds", "wall", "nanoseconds", 1},
	{"inuse_space", "memory", "inuse_space", "bytes", "space", "bytes", 0},
	{"inuse_objects", "memory", "inuse_objects", "count", "space", "bytes", 0},
	{"alloc_space", "memory", "alloc_space", "bytes", "space", "bytes", 0},
	{"alloc_objects", "memory", "alloc_objects", "count", "space", "bytes", 0},
	{"goroutines", "goroutines", "goroutine", "count", "goroutine", "count", 0},
	{"mutex_count", "mutex", "contentions", "count", "mutex", "count", 0},
	{"mutex_duration", "mutex", "delay", "nanoseconds", "mutex", "count", 0},
	{"block_count", "block", "contentions", "count", "block", "count", 0},
	{"block_duration", "block", "delay", "nanoseconds", "block", "count", 0},
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

int server_ingest_name_parse(const char *arg, struct arena *a, struct server_ingest_name *n,
			     struct server_resp *r)
{
	size_t len = strlen(arg);
	char *s, *brace, *tags, *end;

	if (len == 0 || len > INGEST_MAX_NAME) {
		server_resp_error(r, 400, "name: want app.kind{k=v,...}, 1..%d bytes",
				  INGEST_MAX_NAME);
		return -1;
	}
	s = arena_alloc(a, len + 1);
	memcpy(s, arg, len + 1);
	brace = strchr(s, '{');
	n->n_tags = 0;
	if (brace) {
		end = s + len - 1;
		while (end > brace && (*end == ' ' || *end == '\t'))
			end--;
		if (*end != '}') {
			server_resp_error(r, 400, "name: '{' without a closing '}'");
			return -1;
		}
		*end = 0;
		*brace = 0;
		tags = brace + 1;
		while (*trim(tags)) {
			char *comma = strchr(tags, ',');
			char *eq;

			if (comma)
				*comma = 0;
			eq = strchr(tags, '=');
			if (!eq) {
				server_resp_error(r, 400, "name: tag '%.64s' is not key=value",
						  tags);
				return -1;
			}
			*eq = 0;
			char *k = trim(tags), *v = trim(eq + 1);
			if (!server_name_ok(k, "_.")) {
				server_resp_error(r, 400, "name: bad tag name '%.64s'", k);
				return -1;
			}
			if (!(k[0] == '_' && k[1] == '_') || !strcmp(k, "__session_id__")) {
				if (n->n_tags >= SERVER_INGEST_MAX_TAGS) {
					server_resp_error(r, 400, "name: more than %d tags",
							  SERVER_INGEST_MAX_TAGS);
					return -1;
				}
				n->tags[n->n_tags].name = k;
				n->tags[n->n_tags++].value = v;
			}
			if (!comma)
				break;
			tags = comma + 1;
		}
	}
	n->base = trim(s);
	if (!server_name_ok(n->base, "_.-/")) {
		server_resp_error(r, 400, "name: bad application name '%.64s'", n->base);
		return -1;
	}
	return 0;
}

int server_time_parse(const char *s, int64_t now_ns, int64_t *out_ns)
{
	size_t n = 0;
	uint64_t u = 0, scale;

	if (!strncmp(s, "now", 3)) {
		const char *p = s + 3;
		int64_t mul, v = 0;

		if (!*p) {
			*out_ns = now_ns;
			return 0;
		}
		if (*p++ != '-' || *p < '0' || *p > '9')
			return -EMBER_EUSAGE;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (v > 1000000000)
				return -EMBER_EUSAGE;
			v = v * 10 + (*p - '0');
		}
		mul = !strcmp(p, "s")	? 1
		      : !strcmp(p, "m") ? 60
		      : !strcmp(p, "h") ? 3600
		      : !strcmp(p, "d") ? 86400
		      : !strcmp(p, "w") ? 7 * 86400
		      : !strcmp(p, "y") ? 365 * 86400
					: 0;
		if (!mul || v > INT64_MAX / 1000000000 / mul)
			return -EMBER_EUSAGE;
		*out_ns = now_ns - v * mul * 1000000000;
		return 0;
	}
	for (const char *p = s; *p; p++, n++) {
		if (*p < '0' || *p > '9' || n >= 19)
			return -EMBER_EUSAGE;
		u = u * 10 + (uint64_t)(*p - '0'); /* at most 19 digits: no wrap */
	}
	if (n == 0)
		return -EMBER_EUSAGE;
	if (n == 8) {
		struct tm tm = {.tm_year = (int)(u / 10000) - 1900,
				.tm_mon = (int)(u / 100 % 100) - 1,
				.tm_mday = (int)(u % 100)};
		time_t t;

		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31)
			return -EMBER_EUSAGE;
		t = timegm(&tm);
		if (t < 0 || (uint64_t)t > (uint64_t)INT64_MAX / 1000000000) /* before 1970, 2262 */
			return -EMBER_EUSAGE;
		*out_ns = (int64_t)t * 1000000000;
		return 0;
	}
	scale = n == 13 ? 1000000 : n == 16 ? 1000 : n == 19 ? 1 : 1000000000;
	if (u > (uint64_t)INT64_MAX / scale) /* past the year 2262 in ns */
		return -EMBER_EUSAGE;
	*out_ns = (int64_t)(u * scale);
	return 0;
}

/* __name__ for a pprof body, from its sample types (Pyroscope's createLabels). */
static const char *pprof_metric_name(const struct prof *p, const struct ingest_kind *fallback)
{
	const struct prof_value_type *t = prof_sample_types(p);

	for (size_t i = 0; i < prof_n_sample_types(p); i++) {
		const char *n = prof_string(p, t[i].type);

		if (!strcmp(n, "wall"))
			return "wall";
		if (strstr(n, "cpu"))
			return "process_cpu";
		if (!strncmp(n, "alloc_", 6) || !strncmp(n, "inuse_", 6) || !strcmp(n, "space") ||
		    !strcmp(n, "objects"))
			return "memory";
		if (!strncmp(n, "mutex_", 6))
			return "mutex";
		if (!strncmp(n, "block_", 6))
			return "block";
		if (!strcmp(n, "goroutines") || !strcmp(n, "goroutine"))
			return "goroutines";
	}
	return fallback ? fallback->name : "process_cpu";
}

static const struct ingest_kind *find_kind(const char *suffix)
{
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(ingest_kinds); i++)
		if (!strcmp(ingest_kinds[i].suffix, suffix))
			return &ingest_kinds[i];
	return NULL;
}

/* "lines": one stack per line, identical lines counted -> folded text with count 1 each. */
static int lines_to_folded(const uint8_t *p, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && p[j] != '\n')
			j++;
		size_t e = j;
		if (e > i && p[e - 1] == '\r')
			e--;
		if (e > i) {
			int err = buf_append(out, p + i, e - i);
			if (!err)
				err = buf_puts(out, " 1\n");
			if (err)
				return err;
		}
		i = j + 1;
	}
	return 0;
}

static struct prof *decode_text(const struct server_req *q, const char *format,
				const struct ingest_kind *k, struct server_resp *r)
{
	struct prof *p = NULL;
	struct ember_diag d = {{0}};
	const char *rate_s = server_arg(q, "sampleRate");
	long rate = 100;
	int err;

	if (rate_s) {
		char *end;
		errno = 0;
		rate = strtol(rate_s, &end, 10);
		if (errno || end == rate_s || *end || rate <= 0 || rate > 1000000000) {
			server_resp_error(r, 400, "sampleRate: want an integer in 1..1e9 Hz");
			return NULL;
		}
	}
	if (!strcmp(format, "lines")) {
		struct buf t;

		buf_init(&t, MEM_SERVER, 2 * q->body_len + 64);
		err = lines_to_folded(q->body, q->body_len, &t);
		if (!err)
			err = folded_read((const char *)t.data, t.len, k->type, k->unit, &p, &d);
		buf_fini(&t);
	} else {
		err = folded_read((const char *)q->body, q->body_len, k->type, k->unit, &p, &d);
	}
	if (err) {
		server_resp_error(r, 422, "%s body: %s", format, ember_diag_msg(&d, err));
		return NULL;
	}
	struct prof_meta *m = prof_meta(p);
	m->period_type.type = prof_intern_cstr(p, k->ptype);
	m->period_type.unit = prof_intern_cstr(p, k->punit);
	m->period = 1;
	if (k->scale) {
		int64_t period = 1000000000 / rate;

		m->period = period;
		for (size_t i = 0; i < prof_n_samples(p); i++) {
			int64_t *v = prof_sample_values(p, i);

			if (v[0] > INT64_MAX / period || v[0] < -(INT64_MAX / period)) {
				prof_free(p);
				server_resp_error(r, 422, "sample value too large");
				return NULL;
			}
			v[0] *= period;
		}
	}
	return p;
}

void server_ingest(const struct server_req *q, struct server_resp *r)
{
	const char *name_arg = server_arg(q, "name");
	const char *format = server_arg(q, "format");
	const char *spy = server_arg(q, "spyName");
	const char *from_s = server_arg(q, "from"), *until_s = server_arg(q, "until");
	struct arena *a = arena_new(MEM_SERVER, 16384);
	struct server_ingest_name n;
	const struct ingest_kind *k = NULL;
	struct server_pprof x = {0};
	struct ember_diag d = {{0}};
	int64_t now = server_now_ns(), from = now, until = now;
	char *service;
	int pprof, err;
	const char *ctype =
		MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct server_multipart mp;
	const uint8_t *body = q->body;
	size_t body_len = q->body_len;
	int multipart = 0;

	memset(&mp, 0, sizeof(mp));
	if ((!format || !*format) && server_multipart_is(ctype)) {
		/* Go/Node SDKs: no format, the form content type selects pprof. */
		if (server_multipart_parse(ctype, q->body, q->body_len, &mp, r))
			goto out;
		if (mp.prev_profile.data) {
			server_resp_error(r, 400,
					  "multipart: prev_profile (cumulative profiles) is "
					  "an unsupported client version");
			goto out;
		}
		multipart = 1;
		format = "pprof";
		body = mp.profile.data;
		body_len = mp.profile.len;
	}
	if (!format || !*format)
		format = "folded";
	pprof = !strcmp(format, "pprof");
	if (!pprof && strcmp(format, "folded") && strcmp(format, "lines")) {
		server_resp_error(r, 400, "format '%.32s' is not supported (folded, lines, pprof)",
				  format);
		goto out;
	}
	if (!name_arg) {
		server_resp_error(r, 400, "missing the 'name' argument");
		goto out;
	}
	if (server_ingest_name_parse(name_arg, a, &n, r))
		goto out;
	if ((from_s && server_time_parse(from_s, now, &from)) ||
	    (until_s && server_time_parse(until_s, now, &until))) {
		server_resp_error(r, 400, "from/until: want unix s/ms/us/ns, YYYYMMDD or now-1h");
		goto out;
	}
	if (spy && (strlen(spy) > 64 || !server_name_ok(spy, "_.-/"))) {
		server_resp_error(r, 400, "spyName: bad value");
		goto out;
	}

	/* The kind suffix (text formats): after the last '.'; none means cpu. */
	service = n.base;
	char *dot = strrchr(n.base, '.');
	if (dot) {
		k = find_kind(dot + 1);
		if (k && !pprof)
			*dot = 0; /* app.cpu -> service app */
	}
	if (!pprof && !k) {
		if (dot) {
			server_resp_error(r, 400, "name: unknown profile kind '%.64s'", dot + 1);
			goto out;
		}
		k = &ingest_kinds[0];
	}

	if (pprof) {
		/* The tenant's inflation limits (server_limits.c). */
		size_t max_out = q->limits && q->limits->max_decompressed_bytes
					 ? q->limits->max_decompressed_bytes
					 : INGEST_MAX_DECODE;
		struct pprof_limits lim = {
			.gzip = {.max_out = max_out,
				 .max_ratio = q->limits ? q->limits->max_ratio : 0},
			.max_bytes = max_out};

		err = server_pprof_decode(q->srv->store, body, body_len, &lim, &x, &d);
		if (err) {
			server_resp_error(r, 422, "pprof %s: %s",
					  multipart ? "profile part" : "body",
					  ember_diag_msg(&d, err));
			goto out;
		}
		if (multipart && mp.sample_type_config.data &&
		    server_sample_type_config(x.prof, mp.sample_type_config.data,
					      mp.sample_type_config.len, r))
			goto out;
	} else {
		x.prof = decode_text(q, format, k, r);
		if (!x.prof)
			goto out;
	}
	struct prof *p = x.prof;
	if (server_pprof_n_samples(&x) == 0) {
		r->status = 200; /* nothing to store, as Pyroscope answers an empty profile */
		r->ctype = "text/plain";
		goto out;
	}
	prof_meta(p)->time_ns = from;
	if (until > from)
		prof_meta(p)->duration_ns = until - from;

	struct store_label labels[SERVER_INGEST_MAX_TAGS + 2];
	size_t nl = 0;
	int has_service = 0;
	for (size_t i = 0; i < n.n_tags; i++) {
		if (!strcmp(n.tags[i].name, STORE_LABEL_SERVICE))
			has_service = 1;
		if (!strcmp(n.tags[i].name, "pyroscope_spy"))
			continue;
		labels[nl++] = n.tags[i];
	}
	if (!has_service)
		labels[nl++] = (struct store_label){STORE_LABEL_SERVICE, service};
	labels[nl++] = (struct store_label){"pyroscope_spy", spy && *spy ? spy : "unknown"};

	struct store_append ap = {.tenant = q->tenant,
				  .labels = labels,
				  .n_labels = nl,
				  .name = pprof ? pprof_metric_name(p, k) : k->name,
				  .time_ns = from};
	server_pprof_to_append(&x, &ap);
	err = store_append(q->srv->store, &ap, &d);
	if (err) {
		unsigned int st = server_store_status(err, r);
		server_resp_error(r, st, "%s", ember_diag_msg(&d, err));
		goto out;
	}
	atomic_fetch_add(&q->srv->ingest_profiles, 1);
	atomic_fetch_add(&q->srv->ingest_samples, server_pprof_n_samples(&x));
	r->status = 200;
	r->ctype = "text/plain";
out:
	server_pprof_fini(&x);
	arena_free(a);
}

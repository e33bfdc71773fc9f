/*
 * server_multipart.c — the multipart/form-data body of Pyroscope's legacy `POST /ingest` as the
 * Go and Node SDKs send it: a `profile` part (pprof, gzipped or not), an optional
 * `sample_type_config` part (JSON: sample type -> units, display-name, aggregation, cumulative,
 * sampled) and `prev_profile`, which Pyroscope rejects as an unsupported (cumulative) client.
 *
 * The parser is bounded and strict: the boundary comes from the Content-Type header, parts are
 * framed by CRLF "--boundary" lines, part headers are limited in size and count, and every
 * problem is a 400 naming what is wrong. Part contents point into the request body.
 */
#include <string.h>

#include <jansson.h>

#include "format/json_depth.h"
#include "server/server_int.h"

#define MP_MAX_PARTS	16
#define MP_MAX_HEADERS	8192
#define MP_MAX_BOUNDARY 70
#define STC_MAX_BYTES	65536
#define STC_MAX_DEPTH	4
#define STC_MAX_STR	256

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive search for a NUL-terminated needle in [s, s+n). */
static const char *find_ci(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;

		while (j < k && lower((unsigned char)s[i + j]) == lower((unsigned char)needle[j]))
			j++;
		if (j == k)
			return s + i;
	}
	return NULL;
}

static const uint8_t *find_bytes(const uint8_t *s, size_t n, const uint8_t *needle, size_t k)
{
	if (k == 0 || n < k)
		return NULL;
	for (const uint8_t *p = s; (size_t)(s + n - p) >= k;) {
		const uint8_t *c = memchr(p, needle[0], (size_t)(s + n - p) - k + 1);

		if (!c)
			return NULL;
		if (!memcmp(c, needle, k))
			return c;
		p = c + 1;
	}
	return NULL;
}

int server_multipart_is(const char *ctype)
{
	return ctype && find_ci(ctype, strlen(ctype), "multipart/form-data") != NULL;
}

/* boundary=... (optionally quoted) into out (NUL-terminated). */
static int get_boundary(const char *ctype, char *out, struct server_resp *r)
{
	const char *b = find_ci(ctype, strlen(ctype), "boundary=");
	size_t n = 0;

	if (!b) {
		server_resp_error(r, 400, "multipart: Content-Type has no boundary");
		return -1;
	}
	b += 9;
	if (*b == '"') {
		b++;
		while (b[n] && b[n] != '"')
			n++;
		if (b[n] != '"') {
			server_resp_error(r, 400, "multipart: unterminated quoted boundary");
			return -1;
		}
	} else {
		while (b[n] && b[n] != ';' && b[n] != ' ' && b[n] != '\t')
			n++;
	}
	if (n == 0 || n > MP_MAX_BOUNDARY) {
		server_resp_error(r, 400, "multipart: boundary must be 1..%d bytes",
				  MP_MAX_BOUNDARY);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7e) {
			server_resp_error(r, 400, "multipart: boundary has a control byte");
			return -1;
		}
	memcpy(out, b, n);
	out[n] = 0;
	return 0;
}

/* The name="..." of a Content-Disposition: form-data header block, into name (cap bytes). */
static int part_name(const char *h, size_t n, char *name, size_t cap, struct server_resp *r)
{
	const char *cd = find_ci(h, n, "content-disposition:");
	const char *end, *nm;

	if (!cd) {
		server_resp_error(r, 400, "multipart: a part has no Content-Disposition header");
		return -1;
	}
	end = cd;
	while (end < h + n && *end != '\r' && *end != '\n')
		end++;
	if (!find_ci(cd, (size_t)(end - cd), "form-data")) {
		server_resp_error(r, 400, "multipart: Content-Disposition is not form-data");
		return -1;
	}
	/* name= but not filename= */
	nm = cd;
	for (;;) {
		nm = find_ci(nm, (size_t)(end - nm), "name=");
		if (!nm) {
			server_resp_error(r, 400, "multipart: a part has no name=");
			return -1;
		}
		if (nm == cd || (nm[-1] != 'e' && nm[-1] != 'E'))
			break;
		nm += 5;
	}
	nm += 5;
	size_t k = 0;
	if (nm < end && *nm == '"') {
		nm++;
		while (nm + k < end && nm[k] != '"')
			k++;
		if (nm + k >= end) {
			server_resp_error(r, 400, "multipart: unterminated part name");
			return -1;
		}
	} else {
		while (nm + k < end && nm[k] != ';' && nm[k] != ' ')
			k++;
	}
	if (k == 0 || k >= cap) {
		server_resp_error(r, 400, "multipart: part name must be 1..%zu bytes", cap - 1);
		return -1;
	}
	memcpy(name, nm, k);
	name[k] = 0;
	return 0;
}

int server_multipart_parse(const char *ctype, const uint8_t *body, size_t len,
			   struct server_multipart *m, struct server_resp *r)
{
	char bnd[MP_MAX_BOUNDARY + 1];
	uint8_t delim[MP_MAX_BOUNDARY + 4];
	size_t dl, n_parts = 0;
	const uint8_t *p, *end = body + len;

	memset(m, 0, sizeof(*m));
	if (get_boundary(ctype, bnd, r))
		return -1;
	delim[0] = '\r';
	delim[1] = '\n';
	delim[2] = delim[3] = '-';
	dl = strlen(bnd);
	memcpy(delim + 4, bnd, dl);
	dl += 4;
	/* The first delimiter may start the body (no leading CRLF). */
	if (len >= dl - 2 && !memcmp(body, delim + 2, dl - 2)) {
		p = body + dl - 2;
	} else {
		const uint8_t *f = find_bytes(body, len, delim, dl);

		if (!f) {
			server_resp_error(r, 400, "multipart: no '--%s' boundary line in the body",
					  bnd);
			return -1;
		}
		p = f + dl;
	}
	for (;;) {
		/* p is just after a delimiter: "--" ends the form, else CRLF and a part. */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
			server_resp_error(r, 400, "multipart: boundary line not followed by CRLF");
			return -1;
		}
		p += 2;
		if (++n_parts > MP_MAX_PARTS) {
			server_resp_error(r, 400, "multipart: more than %d parts", MP_MAX_PARTS);
			return -1;
		}
		size_t hl_max =
			(size_t)(end - p) < MP_MAX_HEADERS ? (size_t)(end - p) : MP_MAX_HEADERS;
		const uint8_t *he = find_bytes(p, hl_max, (const uint8_t *)"\r\n\r\n", 4);
		if (!he) {
			server_resp_error(r, 400,
					  "multipart: part headers unterminated or over %d bytes",
					  MP_MAX_HEADERS);
			return -1;
		}
		char name[32];
		if (part_name((const char *)p, (size_t)(he - p), name, sizeof(name), r))
			return -1;
		const uint8_t *data = he + 4;
		const uint8_t *next = find_bytes(data, (size_t)(end - data), delim, dl);
		if (!next) {
			server_resp_error(r, 400, "multipart: part '%s' has no closing boundary",
					  name);
			return -1;
		}
		struct server_part *slot = !strcmp(name, "profile") ? &m->profile
					   : !strcmp(name, "sample_type_config")
						   ? &m->sample_type_config
					   : !strcmp(name, "prev_profile") ? &m->prev_profile
									   : NULL;
		if (slot) {
			if (slot->data) {
				server_resp_error(r, 400, "multipart: part '%s' given twice", name);
				return -1;
			}
			slot->data = data;
			slot->len = (size_t)(next - data);
		}
		p = next + dl;
	}
	if (!m->profile.data) {
		server_resp_error(r, 400, "multipart: no 'profile' part");
		return -1;
	}
	return 0;
}

static const char *cfg_str(json_t *o, const char *key, struct server_resp *r, int *bad)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (!v)
		return NULL;
	if (!json_is_string(v) || !*(s = json_string_value(v)) || strlen(s) > STC_MAX_STR) {
		server_resp_error(r, 400,
				  "sample_type_config: '%s' must be a string of 1..%d bytes", key,
				  STC_MAX_STR);
		*bad = 1;
		return NULL;
	}
	return s;
}

int server_sample_type_config(struct prof *p, const uint8_t *cfg, size_t len, struct server_resp *r)
{
	json_error_t je;
	json_t *root;
	int bad = 0;

	if (len > STC_MAX_BYTES) {
		server_resp_error(r, 400, "sample_type_config: larger than %d bytes",
				  STC_MAX_BYTES);
		return -1;
	}
	if (!json_depth_ok(cfg, len, STC_MAX_DEPTH)) {
		server_resp_error(r, 400, "sample_type_config: nested deeper than %d",
				  STC_MAX_DEPTH);
		return -1;
	}
	root = json_loadb((const char *)cfg, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		server_resp_error(r, 400, "sample_type_config: bad JSON at line %d: %.80s", je.line,
				  je.text);
		return -1;
	}
	if (!json_is_object(root)) {
		server_resp_error(r, 400, "sample_type_config: want a JSON object");
		json_decref(root);
		return -1;
	}
	const struct prof_value_type *t = prof_sample_types(p);

	for (size_t i = 0; i < prof_n_sample_types(p) && !bad; i++) {
		json_t *o = json_object_get(root, prof_string(p, t[i].type));
		const char *units, *disp, *agg;

		if (!o)
			continue;
		if (!json_is_object(o)) {
			server_resp_error(r, 400, "sample_type_config: '%.64s' is not an object",
					  prof_string(p, t[i].type));
			bad = 1;
			break;
		}
		units = cfg_str(o, "units", r, &bad);
		disp = cfg_str(o, "display-name", r, &bad);
		agg = cfg_str(o, "aggregation", r, &bad);
		if (bad)
			break;
		if (agg && strcmp(agg, "sum") && strcmp(agg, "average")) {
			server_resp_error(r, 400,
					  "sample_type_config: aggregation '%.32s' (sum, average)",
					  agg);
			bad = 1;
			break;
		}
		json_t *cum = json_object_get(o, "cumulative"),
		       *smp = json_object_get(o, "sampled");
		if ((cum && !json_is_boolean(cum)) || (smp && !json_is_boolean(smp))) {
			server_resp_error(
				r, 400, "sample_type_config: cumulative/sampled must be booleans");
			bad = 1;
			break;
		}
		if (units || disp)
			prof_set_sample_type(p, i, disp ? prof_intern_cstr(p, disp) : t[i].type,
					     units ? prof_intern_cstr(p, units) : t[i].unit);
	}
	json_decref(root);
	return bad ? -1 : 0;
}

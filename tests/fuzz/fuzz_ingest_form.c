/*
 * fuzz_ingest_form.c — libFuzzer target for the parsers of a Pyroscope /ingest request that
 * are not a profile format (server/server_ingest.c, server/server_multipart.c). The first byte
 * picks one:
 *   0: multipart/form-data: the rest is "Content-Type\0body"; what parses must give a profile
 *      part (and any other part) inside the body;
 *   1: the name argument (app.kind{k=v,...}); what parses must give a valid application name,
 *      at most SERVER_INGEST_MAX_TAGS tags with valid names, and no other tag than
 *      __session_id__ named __x__;
 *   2: from/until (server_time_parse);
 *   3: sample_type_config JSON applied to a two-type profile: it keeps two types.
 * Every refusal must carry a 400 with a message, and nothing may leak (the arena and the
 * response buffer are freed; the leak checker runs in `make fuzz`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "profile/profile.h"
#include "server/server_config.h"
#include "server/server_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const struct server_part *p, const uint8_t *b, size_t n)
{
	return !p->data || (p->data >= b && p->len <= n && p->data + p->len <= b + n);
}

static void refused(struct server_resp *r)
{
	if (r->status != 400 || !r->body.len)
		abort();
}

static void fuzz_multipart(const uint8_t *p, size_t n, struct server_resp *r)
{
	const uint8_t *nul = memchr(p, 0, n);
	struct server_multipart m;
	const uint8_t *body;
	size_t blen;

	if (!nul)
		return;
	body = nul + 1;
	blen = n - (size_t)(body - p);
	memset(&m, 0, sizeof(m));
	if (server_multipart_parse((const char *)p, body, blen, &m, r)) {
		refused(r);
		return;
	}
	if (!m.profile.data || !inside(&m.profile, body, blen) ||
	    !inside(&m.sample_type_config, body, blen) || !inside(&m.prev_profile, body, blen))
		abort();
}

static void fuzz_name(const uint8_t *p, size_t n, struct server_resp *r)
{
	char *s = mem_alloc(MEM_TEST, n + 1);
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct server_ingest_name nm;

	memcpy(s, p, n);
	s[n] = 0;
	if (server_ingest_name_parse(s, a, &nm, r)) {
		refused(r);
	} else {
		if (!server_name_ok(nm.base, "_.-/") || nm.n_tags > SERVER_INGEST_MAX_TAGS)
			abort();
		for (size_t i = 0; i < nm.n_tags; i++) {
			const char *k = nm.tags[i].name;

			if (!server_name_ok(k, "_.") || !nm.tags[i].value ||
			    (k[0] == '_' && k[1] == '_' && strcmp(k, "__session_id__")))
				abort();
		}
	}
	arena_free(a);
	mem_free(s);
}

static void fuzz_time(const uint8_t *p, size_t n)
{
	char s[64];
	int64_t t = 0;

	if (n >= sizeof(s))
		return;
	memcpy(s, p, n);
	s[n] = 0;
	(void)server_time_parse(s, (int64_t)1700000000 * 1000000000, &t);
}

static void fuzz_type_config(const uint8_t *p, size_t n, struct server_resp *r)
{
	struct prof *pr = prof_new();

	prof_add_sample_type(pr, prof_intern_cstr(pr, "samples"), prof_intern_cstr(pr, "count"));
	prof_add_sample_type(pr, prof_intern_cstr(pr, "cpu"), prof_intern_cstr(pr, "nanoseconds"));
	if (server_sample_type_config(pr, p, n, r))
		refused(r);
	else if (prof_n_sample_types(pr) != 2)
		abort();
	prof_free(pr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_resp r;

	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	buf_init(&r.body, MEM_TEST, 4096);
	switch (data[0] & 3) {
	case 0:
		fuzz_multipart(data + 1, size - 1, &r);
		break;
	case 1:
		fuzz_name(data + 1, size - 1, &r);
		break;
	case 2:
		fuzz_time(data + 1, size - 1);
		break;
	default:
		fuzz_type_config(data + 1, size - 1, &r);
		break;
	}
	buf_fini(&r.body);
	return 0;
}

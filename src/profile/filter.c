/*
 * filter.c — pprof-style sample filters: focus/ignore by a regex over frame display names, and
 * a label value filter. The result is a new profile (prof_merge_subset of the kept samples).
 *
 * Regexes are PCRE2 with match, depth and heap limits (no catastrophic backtracking), compiled
 * and matched with allocations routed through mem_*. Each location is matched once (all its
 * inline frames), each stack node inherits its parent's result, each label set is matched once,
 * so no regex runs per sample. Never logs; a bad regex is -EMBER_EUSAGE with pcre2's message.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "profile/filter.h"

#include <errno.h>
#include <inttypes.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "profile/merge.h"

#define FILTER_MATCH_LIMIT    200000
#define FILTER_DEPTH_LIMIT    5000
#define FILTER_HEAP_LIMIT_KIB 20000

/* Per-location and per-node flags. */
#define F_DONE	 1u
#define F_FOCUS	 2u
#define F_IGNORE 4u

struct fctx {
	const struct prof *p;
	pcre2_general_context *gctx;
	pcre2_compile_context *cctx;
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	pcre2_code *focus, *ignore, *label;
	int err;
	struct ember_diag *d;
};

static void *rx_alloc(PCRE2_SIZE n, void *data)
{
	(void)data;
	return mem_try_alloc(MEM_PROFILE, n);
}

static void rx_free(void *ptr, void *data)
{
	(void)data;
	mem_free(ptr);
}

static int rx_compile(struct fctx *c, const char *what, const char *pattern, uint32_t options,
		      pcre2_code **out)
{
	int code;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[256];

	*out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &off,
			     c->cctx);
	if (*out)
		return 0;
	if (code == PCRE2_ERROR_HEAP_FAILED || code == PCRE2_ERROR_NOMEMORY)
		return -ENOMEM;
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", code);
	return ember_diag_set(c->d, -EMBER_EUSAGE, "bad %s regex \"%s\": %s at offset %zu", what,
			      pattern, (const char *)msg, (size_t)off);
}

/* 1 = match, 0 = none; on a limit or other match error, 0 and c->err set (-EMBER_ELIMIT with
 * a message, or -ENOMEM). */
static int rx_search(struct fctx *c, pcre2_code *re, const char *s, size_t len)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, c->md, c->mctx);

	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_NOMEMORY && !c->err)
		c->err = -ENOMEM;
	if (!c->err) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", rc);
		c->err = ember_diag_set(c->d, -EMBER_ELIMIT, "regex match failed on \"%.100s\": %s",
					s, (const char *)msg);
	}
	return 0;
}

static uint8_t location_flags(struct fctx *c, uint32_t loc)
{
	uint32_t n = prof_location_n_frames(c->p, loc);
	uint8_t f = F_DONE;
	char tmp[80];

	for (uint32_t i = 0; i < n; i++) {
		const char *name = prof_frame_name(c->p, loc, i, tmp);
		size_t len = strlen(name);

		if (c->focus && !(f & F_FOCUS) && rx_search(c, c->focus, name, len))
			f |= F_FOCUS;
		if (c->ignore && !(f & F_IGNORE) && rx_search(c, c->ignore, name, len))
			f |= F_IGNORE;
	}
	return f;
}

/* Flags of every stack node: the union of its path's location flags. */
static uint8_t *node_flags(struct fctx *c)
{
	const struct prof *p = c->p;
	uint32_t n_nodes = prof_n_nodes(p), n_loc = prof_n_locations(p);
	uint8_t *nf = mem_calloc(MEM_PROFILE, n_nodes ? n_nodes : 1, 1);
	uint8_t *lf = mem_calloc(MEM_PROFILE, (size_t)n_loc + 1, 1);

	for (uint32_t n = 1; n < n_nodes && !c->err; n++) {
		uint32_t loc = prof_node_location(p, n);
		uint8_t f = 0;

		if (loc <= n_loc) {
			if (!lf[loc])
				lf[loc] = location_flags(c, loc);
			f = lf[loc];
		} else {
			f = location_flags(c, loc);
		}
		nf[n] = (uint8_t)(nf[prof_node_parent(p, n)] | f);
	}
	mem_free(lf);
	return nf;
}

static bool labelset_matches(struct fctx *c, uint32_t ls, bool have_key, uint32_t key)
{
	const struct prof_label *l;
	size_t n;
	char num[32];

	if (!have_key)
		return false;
	l = prof_labelset_get(c->p, ls, &n);
	for (size_t i = 0; i < n; i++) {
		if (l[i].key != key)
			continue;
		if (!c->label)
			return true;
		if (l[i].str) {
			if (rx_search(c, c->label, prof_string(c->p, l[i].str),
				      prof_string_len(c->p, l[i].str)))
				return true;
		} else {
			int w = snprintf(num, sizeof(num), "%" PRId64, l[i].num);

			if (rx_search(c, c->label, num, (size_t)w))
				return true;
		}
	}
	return false;
}

static void fctx_fini(struct fctx *c)
{
	pcre2_code_free(c->focus);
	pcre2_code_free(c->ignore);
	pcre2_code_free(c->label);
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	pcre2_compile_context_free(c->cctx);
	pcre2_general_context_free(c->gctx);
}

static int fctx_init(struct fctx *c, const struct prof *p, const struct prof_filter_opts *o,
		     struct ember_diag *d)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->d = d;
	c->gctx = pcre2_general_context_create(rx_alloc, rx_free, NULL);
	if (!c->gctx)
		return -ENOMEM;
	c->cctx = pcre2_compile_context_create(c->gctx);
	c->mctx = pcre2_match_context_create(c->gctx);
	c->md = pcre2_match_data_create(1, c->gctx);
	if (!c->cctx || !c->mctx || !c->md)
		return -ENOMEM;
	pcre2_set_match_limit(c->mctx, FILTER_MATCH_LIMIT);
	pcre2_set_depth_limit(c->mctx, FILTER_DEPTH_LIMIT);
	pcre2_set_heap_limit(c->mctx, FILTER_HEAP_LIMIT_KIB);
	if (o->focus && (rc = rx_compile(c, "focus", o->focus, 0, &c->focus)) < 0)
		return rc;
	if (o->ignore && (rc = rx_compile(c, "ignore", o->ignore, 0, &c->ignore)) < 0)
		return rc;
	if (o->label_re && !o->label_key)
		return ember_diag_set(d, -EMBER_EUSAGE, "a label regex needs a label key");
	if (o->label_re && (rc = rx_compile(c, "label", o->label_re,
					    PCRE2_ANCHORED | PCRE2_ENDANCHORED, &c->label)) < 0)
		return rc;
	return 0;
}

int prof_filter(const struct prof *p, const struct prof_filter_opts *o, struct prof **out,
		struct ember_diag *d)
{
	static const struct prof_filter_opts none;
	size_t n = prof_n_samples(p);
	uint32_t key = 0, n_ls = prof_n_labelsets(p);
	bool have_key = false, *keep = NULL;
	uint8_t *nf = NULL, *lsf = NULL;
	struct fctx c;
	int rc;

	*out = NULL;
	if (!o)
		o = &none;
	rc = fctx_init(&c, p, o, d);
	if (rc < 0)
		goto out;
	if (o->label_key)
		have_key = prof_find_string(p, o->label_key, &key) && key != 0;
	nf = node_flags(&c);
	lsf = mem_calloc(MEM_PROFILE, n_ls ? n_ls : 1, 1);
	keep = mem_calloc(MEM_PROFILE, n ? n : 1, sizeof(*keep));
	for (size_t i = 0; i < n && !c.err; i++) {
		struct prof_sample s;
		uint8_t f;

		prof_sample_get(p, i, &s);
		f = s.node < prof_n_nodes(p) ? nf[s.node] : 0;
		if (o->focus && !(f & F_FOCUS))
			continue;
		if (o->ignore && (f & F_IGNORE))
			continue;
		if (o->label_key) {
			if (s.labelset >= n_ls)
				continue;
			if (!lsf[s.labelset])
				lsf[s.labelset] =
					labelset_matches(&c, s.labelset, have_key, key) ? 2 : 1;
			if (lsf[s.labelset] != 2)
				continue;
		}
		keep[i] = true;
	}
	rc = c.err;
	if (rc == 0) {
		*out = prof_new();
		rc = prof_merge_subset(*out, p, keep, d);
		if (rc < 0) {
			prof_free(*out);
			*out = NULL;
		}
	}
out:
	mem_free(keep);
	mem_free(lsf);
	mem_free(nf);
	fctx_fini(&c);
	return rc;
}

/*
 * matcher.c — label matchers: = != =~ !~ with anchored PCRE2 regexes (match and depth limits,
 * so a hostile pattern cannot run away), resolution of a matcher list on a tenant's postings
 * into a set of series ids, and the selector parser `{a="x", b=~"y.*"}`. A missing label
 * matches as "". Owns the compiled patterns (store_cmatch_free). Never logs.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

#define MATCH_LIMIT	100000
#define MATCH_DEPTH	1000
#define MAX_MATCHERS	64
#define MAX_PATTERN_LEN 4096

struct cm {
	const char *name;
	const char *value;
	enum store_match_op op;
	pcre2_code *re;
	pcre2_match_data *md;
};

struct store_cmatch {
	struct cm *m;
	size_t n;
	pcre2_match_context *mctx;
	int err; /* a regex hit its match limit */
};

void store_cmatch_free(struct store_cmatch *cm)
{
	if (!cm)
		return;
	for (size_t i = 0; i < cm->n; i++) {
		pcre2_match_data_free(cm->m[i].md);
		pcre2_code_free(cm->m[i].re);
	}
	pcre2_match_context_free(cm->mctx);
	mem_free(cm->m);
	mem_free(cm);
}

int store_cmatch_new(const struct store_matcher *m, size_t n, const char *profile_type,
		     struct store_cmatch **out, struct ember_diag *d)
{
	struct store_cmatch *cm;

	*out = NULL;
	if (n > MAX_MATCHERS)
		return ember_diag_set(d, -EMBER_ELIMIT, "too many matchers (%zu > %d)", n,
				      MAX_MATCHERS);
	cm = mem_calloc(MEM_STORE, 1, sizeof(*cm));
	cm->m = mem_calloc(MEM_STORE, n + 1, sizeof(*cm->m));
	cm->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(cm->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(cm->mctx, MATCH_DEPTH);
	for (size_t i = 0; i < n; i++) {
		struct cm *c = &cm->m[cm->n++];

		if (!m[i].name || !m[i].value || m[i].op > STORE_MATCH_NRE) {
			store_cmatch_free(cm);
			return ember_diag_set(d, -EMBER_EUSAGE, "matcher %zu incomplete", i);
		}
		c->name = m[i].name;
		c->value = m[i].value;
		c->op = m[i].op;
		if (c->op == STORE_MATCH_RE || c->op == STORE_MATCH_NRE) {
			int ec;
			PCRE2_SIZE eo;

			if (strlen(c->value) > MAX_PATTERN_LEN) {
				store_cmatch_free(cm);
				return ember_diag_set(d, -EMBER_ELIMIT, "regex for %s too long",
						      c->name);
			}
			c->re = pcre2_compile((PCRE2_SPTR)c->value, PCRE2_ZERO_TERMINATED,
					      PCRE2_ANCHORED | PCRE2_ENDANCHORED, &ec, &eo, NULL);
			if (!c->re) {
				PCRE2_UCHAR msg[128];

				pcre2_get_error_message(ec, msg, sizeof(msg));
				store_cmatch_free(cm);
				return ember_diag_set(d, -EMBER_EUSAGE,
						      "bad regex for %s at offset %zu: %s",
						      m[i].name, (size_t)eo, (const char *)msg);
			}
			c->md = pcre2_match_data_create_from_pattern(c->re, NULL);
		}
	}
	if (profile_type) {
		struct cm *c = &cm->m[cm->n++];

		c->name = STORE_LABEL_PROFILE_TYPE;
		c->value = profile_type;
		c->op = STORE_MATCH_EQ;
	}
	*out = cm;
	return 0;
}

static bool test_value(struct store_cmatch *cm, struct cm *c, const char *v, size_t len)
{
	int rc;

	switch (c->op) {
	case STORE_MATCH_EQ:
		return strlen(c->value) == len && memcmp(c->value, v, len) == 0;
	case STORE_MATCH_NEQ:
		return !(strlen(c->value) == len && memcmp(c->value, v, len) == 0);
	default:
		rc = pcre2_match(c->re, (PCRE2_SPTR)v, len, 0, 0, c->md, cm->mctx);
		if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
			cm->err = -EMBER_ELIMIT; /* match or depth limit */
		return (rc >= 0) == (c->op == STORE_MATCH_RE);
	}
}

/* Bitmap helpers over series ids. */
static void bm_and_posting(uint64_t *bm, uint32_t nw, const struct store_posting *p, bool keep)
{
	/* keep = true: bm &= posting; false: bm &= ~posting */
	if (keep) {
		uint64_t *t = mem_calloc(MEM_STORE, nw ? nw : 1, 8);

		if (p)
			for (uint32_t i = 0; i < p->n; i++)
				t[p->ids[i] >> 6] |= 1ull << (p->ids[i] & 63);
		for (uint32_t w = 0; w < nw; w++)
			bm[w] &= t[w];
		mem_free(t);
	} else if (p) {
		for (uint32_t i = 0; i < p->n; i++)
			bm[p->ids[i] >> 6] &= ~(1ull << (p->ids[i] & 63));
	}
}

int store_cmatch_select(struct store_cmatch *cm, const struct store_sdata *sd, int64_t start,
			int64_t end, uint32_t **ids, uint32_t *n, struct ember_diag *d)
{
	uint32_t nw = (sd->n_series + 63) / 64, cnt = 0;
	uint64_t *bm = mem_alloc(MEM_STORE, (nw ? nw : 1) * 8);
	uint32_t *out;

	memset(bm, 0xff, (nw ? nw : 1) * 8);
	cm->err = 0;
	for (size_t i = 0; i < cm->n; i++) {
		struct cm *c = &cm->m[i];
		uint32_t name;
		bool empty_ok = test_value(cm, c, "", 0);

		if (!prof_find_string(sd->dict, c->name, &name)) {
			if (!empty_ok)
				memset(bm, 0, (nw ? nw : 1) * 8);
			continue;
		}
		if (c->op == STORE_MATCH_EQ && c->value[0]) {
			uint32_t v;
			const struct store_posting *p = NULL;

			if (prof_find_string(sd->dict, c->value, &v))
				p = store_sdata_posting(sd, name, v);
			bm_and_posting(bm, nw, p, true);
			continue;
		}
		if (empty_ok) {
			/* drop series whose value for name fails */
			for (uint32_t k = 0; k < sd->n_postings; k++) {
				const struct store_posting *p = &sd->postings[k];
				size_t len;
				const char *s;

				if (p->name != name)
					continue;
				s = prof_string(sd->dict, p->value);
				len = prof_string_len(sd->dict, p->value);
				if (!test_value(cm, c, s, len))
					bm_and_posting(bm, nw, p, false);
			}
		} else {
			uint64_t *u = mem_calloc(MEM_STORE, nw ? nw : 1, 8);

			for (uint32_t k = 0; k < sd->n_postings; k++) {
				const struct store_posting *p = &sd->postings[k];

				if (p->name != name ||
				    !test_value(cm, c, prof_string(sd->dict, p->value),
						prof_string_len(sd->dict, p->value)))
					continue;
				for (uint32_t j = 0; j < p->n; j++)
					u[p->ids[j] >> 6] |= 1ull << (p->ids[j] & 63);
			}
			for (uint32_t w = 0; w < nw; w++)
				bm[w] &= u[w];
			mem_free(u);
		}
	}
	if (cm->err) {
		mem_free(bm);
		return ember_diag_set(d, cm->err, "a label regex hit its match limit");
	}
	out = mem_alloc(MEM_STORE, (sd->n_series ? sd->n_series : 1) * sizeof(*out));
	for (uint32_t i = 0; i < sd->n_series; i++) {
		const struct store_series_rec *s = &sd->series[i];

		if (!(bm[i >> 6] >> (i & 63) & 1))
			continue;
		if (s->max_t < start || s->min_t >= end)
			continue;
		out[cnt++] = i;
	}
	mem_free(bm);
	*ids = out;
	*n = cnt;
	return 0;
}

/* Selector parsing. */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

int store_matchers_parse(const char *sel, struct arena *a, struct store_matcher **out, size_t *n,
			 struct ember_diag *d)
{
	const char *s = skip_ws(sel);
	bool brace = false;
	size_t cap = 8, cnt = 0;
	struct store_matcher *m = arena_calloc(a, cap, sizeof(*m));

	*out = NULL;
	*n = 0;
	if (*s == '{') {
		brace = true;
		s = skip_ws(s + 1);
	}
	while (*s && *s != '}') {
		const char *name = s;
		size_t nlen;
		char *val;
		size_t vlen = 0;

		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		       (*s >= '0' && *s <= '9' && s != name) || *s == '.')
			s++;
		nlen = (size_t)(s - name);
		if (!nlen)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "selector: label name expected at offset %zu",
					      (size_t)(s - sel));
		s = skip_ws(s);
		if (cnt == cap) {
			struct store_matcher *nm = arena_calloc(a, cap * 2, sizeof(*nm));

			memcpy(nm, m, cap * sizeof(*m));
			m = nm;
			cap *= 2;
		}
		if (s[0] == '=' && s[1] == '~') {
			m[cnt].op = STORE_MATCH_RE;
			s += 2;
		} else if (s[0] == '!' && s[1] == '~') {
			m[cnt].op = STORE_MATCH_NRE;
			s += 2;
		} else if (s[0] == '!' && s[1] == '=') {
			m[cnt].op = STORE_MATCH_NEQ;
			s += 2;
		} else if (s[0] == '=') {
			m[cnt].op = STORE_MATCH_EQ;
			s += 1;
		} else {
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "selector: operator expected at offset %zu",
					      (size_t)(s - sel));
		}
		s = skip_ws(s);
		if (*s != '"' && *s != '\'' && *s != '`')
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "selector: quoted value expected at offset %zu",
					      (size_t)(s - sel));
		{
			char q = *s++;
			const char *start = s;

			val = arena_alloc(a, strlen(s) + 1);
			while (*s && *s != q) {
				if (*s == '\\' && q != '`' && s[1]) {
					s++;
					switch (*s) {
					case 'n':
						val[vlen++] = '\n';
						break;
					case 't':
						val[vlen++] = '\t';
						break;
					default:
						val[vlen++] = *s;
					}
					s++;
					continue;
				}
				val[vlen++] = *s++;
			}
			if (*s != q)
				return ember_diag_set(d, -EMBER_EUSAGE,
						      "selector: unterminated value at offset %zu",
						      (size_t)(start - 1 - sel));
			s++;
			val[vlen] = 0;
		}
		m[cnt].name = arena_strndup(a, name, nlen);
		m[cnt].value = val;
		cnt++;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
		else if (*s && *s != '}')
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "selector: ',' or '}' expected at offset %zu",
					      (size_t)(s - sel));
	}
	if (brace != (*s == '}'))
		return ember_diag_set(d, -EMBER_EUSAGE, "selector: unbalanced braces");
	if (*s == '}' && *skip_ws(s + 1))
		return ember_diag_set(d, -EMBER_EUSAGE, "selector: trailing characters");
	*out = m;
	*n = cnt;
	return 0;
}

uint64_t store_span_id_parse(const char *s, size_t len)
{
	uint64_t v = 0;

	if (len == 0 || len > 16)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned x;

		if (c >= '0' && c <= '9')
			x = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x = (unsigned)(c - 'A' + 10);
		else
			return 0;
		v = v << 4 | x;
	}
	return v;
}

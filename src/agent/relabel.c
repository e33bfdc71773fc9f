/*
 * relabel.c — the selectors and relabel rules of relabel.h on PCRE2 (anchored at both ends,
 * a match limit so that a pathological regex cannot stall the agent's flush).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "agent/relabel.h"

#include <errno.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define RELABEL_MATCH_LIMIT 100000
#define RELABEL_MAX_SOURCES 16

enum action {
	A_REPLACE,
	A_KEEP,
	A_DROP,
	A_KEEPEQUAL,
	A_DROPEQUAL,
	A_LOWERCASE,
	A_UPPERCASE,
	A_LABELMAP,
	A_LABELDROP,
	A_LABELKEEP,
};

static const char *const action_names[] = {
	[A_REPLACE] = "replace",     [A_KEEP] = "keep",		  [A_DROP] = "drop",
	[A_KEEPEQUAL] = "keepequal", [A_DROPEQUAL] = "dropequal", [A_LOWERCASE] = "lowercase",
	[A_UPPERCASE] = "uppercase", [A_LABELMAP] = "labelmap",	  [A_LABELDROP] = "labeldrop",
	[A_LABELKEEP] = "labelkeep",
};

struct rule {
	enum action act;
	char *sources[RELABEL_MAX_SOURCES];
	size_t n_sources;
	char *separator, *target, *replacement;
	pcre2_code *re;
};

struct selector {
	bool exclude;
	size_t n;
	char **names;
	pcre2_code **res;
};

struct agent_relabel {
	struct rule *rules;
	size_t n_rules, cap_rules;
	struct selector *sels;
	size_t n_sels, cap_sels;
	size_t n_include;
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	char val[AGENT_LABEL_VALUE_MAX * 2], res[AGENT_LABEL_VALUE_MAX],
		target[AGENT_LABEL_NAME_MAX];
};

/* --- label sets --------------------------------------------------------------------------- */

bool agent_label_name_ok(const char *s)
{
	size_t n = 0;

	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '.'))
			return false;
	return n < AGENT_LABEL_NAME_MAX;
}

static ptrdiff_t label_index(const struct agent_labels *ls, const char *name)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!strcmp(ls->l[i].name, name))
			return (ptrdiff_t)i;
	return -1;
}

int agent_labels_set(struct agent_labels *ls, const char *name, const char *value)
{
	ptrdiff_t i = label_index(ls, name);

	if (strlen(name) >= AGENT_LABEL_NAME_MAX)
		return -EMBER_ELIMIT;
	if (!value || !*value) {
		if (i >= 0)
			ls->l[i] = ls->l[--ls->n];
		return 0;
	}
	if (i < 0) {
		if (ls->n >= AGENT_LABELS_MAX)
			return -EMBER_ELIMIT;
		i = (ptrdiff_t)ls->n++;
		snprintf(ls->l[i].name, sizeof(ls->l[i].name), "%s", name);
	}
	snprintf(ls->l[i].value, sizeof(ls->l[i].value), "%s", value);
	return 0;
}

const char *agent_labels_get(const struct agent_labels *ls, const char *name)
{
	ptrdiff_t i = label_index(ls, name);
	return i >= 0 ? ls->l[i].value : "";
}

static int label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct agent_label *)a)->name, ((const struct agent_label *)b)->name);
}

void agent_labels_sort(struct agent_labels *ls)
{
	qsort(ls->l, ls->n, sizeof(ls->l[0]), label_cmp);
}

/* --- building ----------------------------------------------------------------------------- */

struct agent_relabel *agent_relabel_new(void)
{
	struct agent_relabel *r = mem_calloc(MEM_AGENT, 1, sizeof(*r));

	r->mctx = pcre2_match_context_create(NULL);
	r->md = pcre2_match_data_create(10, NULL);
	if (!r->mctx || !r->md) {
		pcre2_match_context_free(r->mctx);
		pcre2_match_data_free(r->md);
		mem_free(r);
		return NULL;
	}
	pcre2_set_match_limit(r->mctx, RELABEL_MATCH_LIMIT);
	return r;
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s);
	char *d = mem_alloc(MEM_AGENT, n + 1);
	memcpy(d, s, n + 1);
	return d;
}

void agent_relabel_free(struct agent_relabel *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_rules; i++) {
		struct rule *u = &r->rules[i];
		for (size_t k = 0; k < u->n_sources; k++)
			mem_free(u->sources[k]);
		mem_free(u->separator);
		mem_free(u->target);
		mem_free(u->replacement);
		pcre2_code_free(u->re);
	}
	for (size_t i = 0; i < r->n_sels; i++) {
		for (size_t k = 0; k < r->sels[i].n; k++) {
			mem_free(r->sels[i].names[k]);
			pcre2_code_free(r->sels[i].res[k]);
		}
		mem_free(r->sels[i].names);
		mem_free(r->sels[i].res);
	}
	mem_free(r->rules);
	mem_free(r->sels);
	pcre2_match_context_free(r->mctx);
	pcre2_match_data_free(r->md);
	mem_free(r);
}

static int compile(const char *what, const char *pattern, pcre2_code **out, struct ember_diag *d)
{
	PCRE2_UCHAR msg[200];
	PCRE2_SIZE off = 0;
	int code = 0;

	*out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &code, &off, NULL);
	if (*out)
		return 0;
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", code);
	return ember_diag_set(d, -EMBER_EUSAGE, "%s: bad regex \"%.100s\": %s at offset %zu", what,
			      pattern, (const char *)msg, (size_t)off);
}

int agent_relabel_add(struct agent_relabel *r, const struct agent_relabel_spec *s,
		      struct ember_diag *d)
{
	struct rule u = {0};
	size_t a;
	int err;

	for (a = 0; a < EMBER_ARRAY_SIZE(action_names); a++)
		if (!strcmp(s->action ? s->action : "replace", action_names[a]))
			break;
	if (a == EMBER_ARRAY_SIZE(action_names))
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "action: '%.40s' is not replace, keep, drop, keepequal, "
				      "dropequal, lowercase, uppercase, labelmap, labeldrop or "
				      "labelkeep",
				      s->action);
	if (r->n_rules >= AGENT_RELABEL_MAX)
		return ember_diag_set(d, -EMBER_ELIMIT, "more than %d relabel rules",
				      AGENT_RELABEL_MAX);
	u.act = (enum action)a;
	bool needs_target = u.act == A_REPLACE || u.act == A_LOWERCASE || u.act == A_UPPERCASE ||
			    u.act == A_KEEPEQUAL || u.act == A_DROPEQUAL;
	bool label_names = u.act == A_LABELMAP || u.act == A_LABELDROP || u.act == A_LABELKEEP;
	if (needs_target && (!s->target_label || !*s->target_label))
		return ember_diag_set(d, -EMBER_EUSAGE, "target_label: needed by action %s",
				      action_names[a]);
	if (s->target_label && u.act != A_REPLACE && !agent_label_name_ok(s->target_label))
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "target_label: '%.60s' is not a label name "
				      "([A-Za-z_][A-Za-z0-9_.]*)",
				      s->target_label);
	if (label_names && s->n_source)
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "source_labels: not used by action %s (its regex matches "
				      "label names)",
				      action_names[a]);
	if (!label_names && !s->n_source && u.act != A_REPLACE)
		return ember_diag_set(d, -EMBER_EUSAGE, "source_labels: needed by action %s",
				      action_names[a]);
	if (s->n_source > RELABEL_MAX_SOURCES)
		return ember_diag_set(d, -EMBER_ELIMIT, "source_labels: more than %d",
				      RELABEL_MAX_SOURCES);
	for (size_t k = 0; k < s->n_source; k++)
		if (!agent_label_name_ok(s->source_labels[k]))
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "source_labels: '%.60s' is not a label name",
					      s->source_labels[k]);
	if (u.act != A_KEEPEQUAL && u.act != A_DROPEQUAL && u.act != A_LOWERCASE &&
	    u.act != A_UPPERCASE) {
		err = compile("regex", s->regex ? s->regex : "(.*)", &u.re, d);
		if (err)
			return err;
	}
	for (size_t k = 0; k < s->n_source; k++)
		u.sources[k] = dup_str(s->source_labels[k]);
	u.n_sources = s->n_source;
	u.separator = dup_str(s->separator ? s->separator : ";");
	u.target = s->target_label ? dup_str(s->target_label) : NULL;
	u.replacement = dup_str(s->replacement ? s->replacement : "$1");
	mem_grow(MEM_AGENT, (void **)&r->rules, &r->cap_rules, r->n_rules + 1, sizeof(*r->rules));
	r->rules[r->n_rules++] = u;
	return 0;
}

int agent_relabel_select(struct agent_relabel *r, bool exclude, const char *const *names,
			 const char *const *regexes, size_t n, struct ember_diag *d)
{
	struct selector s = {.exclude = exclude, .n = n};
	int err = 0;

	if (r->n_sels >= AGENT_RELABEL_MAX)
		return ember_diag_set(d, -EMBER_ELIMIT, "more than %d selectors",
				      AGENT_RELABEL_MAX);
	if (!n)
		return ember_diag_set(d, -EMBER_EUSAGE, "a selector needs at least one label");
	s.names = mem_calloc(MEM_AGENT, n, sizeof(*s.names));
	s.res = mem_calloc(MEM_AGENT, n, sizeof(*s.res));
	for (size_t k = 0; k < n && !err; k++) {
		if (!agent_label_name_ok(names[k])) {
			err = ember_diag_set(d, -EMBER_EUSAGE, "'%.60s' is not a label name",
					     names[k]);
			break;
		}
		s.names[k] = dup_str(names[k]);
		err = compile(names[k], regexes[k], &s.res[k], d);
	}
	if (err) {
		for (size_t k = 0; k < n; k++) {
			mem_free(s.names[k]);
			pcre2_code_free(s.res[k]);
		}
		mem_free(s.names);
		mem_free(s.res);
		return err;
	}
	mem_grow(MEM_AGENT, (void **)&r->sels, &r->cap_sels, r->n_sels + 1, sizeof(*r->sels));
	r->sels[r->n_sels++] = s;
	if (!exclude)
		r->n_include++;
	return 0;
}

size_t agent_relabel_n_rules(const struct agent_relabel *r)
{
	return r->n_rules + r->n_sels;
}

/* --- applying ----------------------------------------------------------------------------- */

/* True when re matches all of s; a match error (the limit) counts as no match. */
static bool match(struct agent_relabel *r, pcre2_code *re, const char *s)
{
	return pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, r->md, r->mctx) >= 0;
}

/* Appends group g of the last match on subject to out[*n..cap). */
static void put_group(struct agent_relabel *r, const char *subject, long g, char *out, size_t *n,
		      size_t cap)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	uint32_t count = pcre2_get_ovector_count(r->md);

	if (g < 0 || (uint32_t)g >= count || ov[2 * g] == PCRE2_UNSET)
		return;
	for (PCRE2_SIZE i = ov[2 * g]; i < ov[2 * g + 1] && *n + 1 < cap; i++)
		out[(*n)++] = subject[i];
}

/* Expands $1, ${1}, ${name}, $name and $$ of tmpl with the last match on subject. */
static void expand(struct agent_relabel *r, pcre2_code *re, const char *subject, const char *tmpl,
		   char *out, size_t cap)
{
	size_t n = 0;

	for (const char *t = tmpl; *t && n + 1 < cap;) {
		if (*t != '$') {
			out[n++] = *t++;
			continue;
		}
		t++;
		if (*t == '$') {
			out[n++] = *t++;
			continue;
		}
		const char *start = t;
		char name[64];
		size_t k = 0;
		bool braced = *t == '{';
		if (braced)
			t++;
		while (((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
			(*t >= '0' && *t <= '9') || *t == '_')) {
			if (k + 1 < sizeof(name))
				name[k++] = *t;
			t++;
		}
		name[k] = 0;
		if (braced) {
			if (*t != '}' || !k) { /* not a reference: keep the text as it is */
				out[n++] = '$';
				t = start;
				continue;
			}
			t++;
		} else if (!k) {
			out[n++] = '$';
			continue;
		}
		char *end;
		long g = strtol(name, &end, 10);
		if (*end)
			g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
		put_group(r, subject, g, out, &n, cap);
	}
	out[n] = 0;
}

static void source_value(const struct rule *u, const struct agent_labels *ls, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = 0;
	for (size_t k = 0; k < u->n_sources; k++) {
		const char *v = agent_labels_get(ls, u->sources[k]);
		n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? u->separator : "", v);
		if (n >= cap) {
			out[cap - 1] = 0;
			return;
		}
	}
}

static void change_case(char *s, bool upper)
{
	for (; *s; s++) {
		if (upper && *s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
		else if (!upper && *s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* One rule; false = drop the process. */
static bool apply_rule(struct agent_relabel *r, const struct rule *u, struct agent_labels *ls)
{
	char *val = r->val, *res = r->res, *target = r->target;

	switch (u->act) {
	case A_REPLACE:
		source_value(u, ls, val, sizeof(r->val));
		if (!match(r, u->re, val))
			return true;
		expand(r, u->re, val, u->target, target, sizeof(r->target));
		expand(r, u->re, val, u->replacement, res, sizeof(r->res));
		if (agent_label_name_ok(target))
			agent_labels_set(ls, target, res);
		return true;
	case A_KEEP:
	case A_DROP:
		source_value(u, ls, val, sizeof(r->val));
		return match(r, u->re, val) == (u->act == A_KEEP);
	case A_KEEPEQUAL:
	case A_DROPEQUAL:
		source_value(u, ls, val, sizeof(r->val));
		return (strcmp(val, agent_labels_get(ls, u->target)) == 0) ==
		       (u->act == A_KEEPEQUAL);
	case A_LOWERCASE:
	case A_UPPERCASE:
		source_value(u, ls, val, sizeof(r->val));
		change_case(val, u->act == A_UPPERCASE);
		agent_labels_set(ls, u->target, val);
		return true;
	case A_LABELMAP: {
		size_t n = ls->n;
		for (size_t i = 0; i < n && i < ls->n; i++) {
			if (!match(r, u->re, ls->l[i].name))
				continue;
			expand(r, u->re, ls->l[i].name, u->replacement, target, sizeof(r->target));
			if (agent_label_name_ok(target)) {
				snprintf(res, sizeof(r->res), "%s", ls->l[i].value);
				agent_labels_set(ls, target, res);
			}
		}
		return true;
	}
	case A_LABELDROP:
	case A_LABELKEEP:
		for (size_t i = 0; i < ls->n;) {
			if (match(r, u->re, ls->l[i].name) == (u->act == A_LABELDROP))
				ls->l[i] = ls->l[--ls->n];
			else
				i++;
		}
		return true;
	}
	return true;
}

static bool selector_matches(struct agent_relabel *r, const struct selector *s,
			     const struct agent_labels *ls)
{
	for (size_t k = 0; k < s->n; k++)
		if (!match(r, s->res[k], agent_labels_get(ls, s->names[k])))
			return false;
	return true;
}

bool agent_relabel_apply(struct agent_relabel *r, struct agent_labels *ls)
{
	bool included = r->n_include == 0;

	for (size_t i = 0; i < r->n_sels; i++) {
		const struct selector *s = &r->sels[i];
		if (s->exclude && selector_matches(r, s, ls))
			return false;
		if (!s->exclude && !included && selector_matches(r, s, ls))
			included = true;
	}
	if (!included)
		return false;
	for (size_t i = 0; i < r->n_rules; i++)
		if (!apply_rule(r, &r->rules[i], ls))
			return false;
	for (size_t i = 0; i < ls->n;) {
		if (ls->l[i].name[0] == '_' && ls->l[i].name[1] == '_')
			ls->l[i] = ls->l[--ls->n];
		else
			i++;
	}
	return true;
}

/*
 * server_scrape_config.c — the `scrape_configs` section of the server's YAML config, read with
 * libyaml's document loader and checked key by key (Prometheus/Parca naming):
 *
 *   scrape_configs:
 *     - job_name: api                # required, unique; the default service_name
 *       scrape_interval: 15s         # default 15s (ms s m h d units, 1s..24h)
 *       scrape_timeout: 15s          # default = interval, <= interval
 *       scheme: http                 # or https
 *       tenant: team-a               # default anonymous
 *       static_configs:
 *         - targets: ["10.0.0.1:6060"]
 *           labels: {env: prod}
 *       profiling_config:
 *         path_prefix: /svc          # prepended to every path
 *         pprof_config:
 *           process_cpu: {enabled: true, path: /debug/pprof/profile, seconds: 14}
 *           memory: {enabled: true, path: /debug/pprof/heap, delta: true}
 *
 * Every other top-level key belongs to other readers and is ignored; inside scrape_configs an
 * unknown or duplicate key is an error naming it and its line. Owns nothing after returning: the
 * config lives in its own arena. Must never trust the file: sizes, counts and characters are
 * bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/arena.h"
#include "base/mem.h"
#include "format/ycfg.h"
#include "server/server_config.h"
#include "server/server_scrape.h"

/* Room for a key path such as scrape_configs[3].static_configs[0].labels.env. */
#define WHERE_MAX 320

static const struct scrape_kind_info kind_info[SCRAPE_N_KINDS] = {
	[SCRAPE_CPU] = {"process_cpu", "process_cpu", "/debug/pprof/profile", true, true, false},
	[SCRAPE_MEMORY] = {"memory", "memory", "/debug/pprof/heap", true, true, true},
	[SCRAPE_GOROUTINE] = {"goroutine", "goroutine", "/debug/pprof/goroutine", true, false,
			      false},
	[SCRAPE_MUTEX] = {"mutex", "mutex", "/debug/pprof/mutex", true, true, true},
	[SCRAPE_BLOCK] = {"block", "block", "/debug/pprof/block", true, true, true},
	[SCRAPE_ALLOCS] = {"allocs", "memory", "/debug/pprof/allocs", false, true, true},
};

const struct scrape_kind_info *server_scrape_kind(enum scrape_kind k)
{
	return &kind_info[k];
}

struct cfg_ctx {
	struct ycfg *y;
	struct arena *a;
	size_t n_targets;
};

static int get_str(struct cfg_ctx *c, const yaml_node_t *n, const char *where, size_t max,
		   const char **out)
{
	return ycfg_str(c->y, n, where, c->a, max, out);
}

/* Iterates a mapping's pairs: sets *k to the key text (a scalar) and *v to the value node. */
struct map_it {
	yaml_node_pair_t *p, *end;
};

static int map_begin(struct cfg_ctx *c, yaml_node_t *n, const char *where, struct map_it *it)
{
	if (ycfg_is_null(n)) {
		it->p = it->end = NULL;
		return 0;
	}
	if (n->type != YAML_MAPPING_NODE)
		return ycfg_err(c->y, n, where, "want a mapping, not %s", ycfg_type_name(n));
	it->p = n->data.mapping.pairs.start;
	it->end = n->data.mapping.pairs.top;
	return 0;
}

/* 1 with the next pair, 0 at the end, <0 on a non-scalar key. */
static int map_next(struct cfg_ctx *c, struct map_it *it, const char *where, const char **k,
		    yaml_node_t **kn, yaml_node_t **v)
{
	if (it->p == it->end)
		return 0;
	*kn = ycfg_node(c->y, it->p->key);
	*v = ycfg_node(c->y, it->p->value);
	it->p++;
	if (!*kn || (*kn)->type != YAML_SCALAR_NODE)
		return ycfg_err(c->y, *kn, where, "a key must be a string");
	*k = (const char *)(*kn)->data.scalar.value;
	if (strlen(*k) != (*kn)->data.scalar.length)
		return ycfg_err(c->y, *kn, where, "a key must not contain a NUL byte");
	return 1;
}

struct seq_it {
	yaml_node_item_t *p, *end;
};

static int seq_begin(struct cfg_ctx *c, yaml_node_t *n, const char *where, struct seq_it *it)
{
	if (ycfg_is_null(n)) {
		it->p = it->end = NULL;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return ycfg_err(c->y, n, where, "want a list, not %s", ycfg_type_name(n));
	it->p = n->data.sequence.items.start;
	it->end = n->data.sequence.items.top;
	return 0;
}

static yaml_node_t *seq_next(struct cfg_ctx *c, struct seq_it *it)
{
	if (it->p == it->end)
		return NULL;
	return ycfg_node(c->y, *it->p++);
}

/* Marks key i of a known-key table as seen; an error when it was seen already. */
static int seen_once(struct cfg_ctx *c, unsigned int *seen, unsigned int i, const yaml_node_t *kn,
		     const char *where, const char *key)
{
	if (*seen & (1u << i))
		return ycfg_err(c->y, kn, where, "duplicate key '%s'", key);
	*seen |= 1u << i;
	return 0;
}

static int key_index(const char *const *keys, size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i], k))
			return (int)i;
	return -1;
}

static bool name_char_ok(char ch, const char *extra)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr(extra, ch));
}

/* A URL path: '/' then printable ASCII without space, '#', '"', '<', '>', '\\'. */
static bool path_ok(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("#\"<>\\`", *s))
			return false;
	return true;
}

/* host:port with a DNS name or IPv4 host, or [IPv6]:port; port 1..65535. */
static bool target_ok(const char *s)
{
	const char *colon;
	long port = 0;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb == s + 1 || rb[1] != ':')
			return false;
		for (const char *p = s + 1; p < rb; p++)
			if (!name_char_ok(*p, ":.%"))
				return false;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return false;
		for (const char *p = s; p < colon; p++)
			if (!name_char_ok(*p, ".-_"))
				return false;
	}
	if (!colon[1])
		return false;
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

static int parse_profile(struct cfg_ctx *c, yaml_node_t *n, const char *where,
			 struct scrape_profile_cfg *pc, bool *delta_set)
{
	static const char *const keys[] = {"enabled", "path", "delta", "seconds"};
	struct map_it it;
	const char *k;
	yaml_node_t *kn, *v;
	unsigned int seen = 0;
	char w[WHERE_MAX];
	int r, err;

	pc->enabled = true; /* naming a kind enables it unless it says otherwise */
	if ((err = map_begin(c, n, where, &it)))
		return err;
	while ((r = map_next(c, &it, where, &k, &kn, &v)) > 0) {
		int i = key_index(keys, EMBER_ARRAY_SIZE(keys), k);

		snprintf(w, sizeof(w), "%.200s.%.64s", where, k);
		if (i < 0)
			return ycfg_err(c->y, kn, where,
					"unknown key '%.64s' (enabled, path, delta, seconds)", k);
		if ((err = seen_once(c, &seen, (unsigned int)i, kn, where, k)))
			return err;
		if (i == 0) {
			err = ycfg_bool(c->y, v, w, &pc->enabled);
		} else if (i == 1) {
			err = get_str(c, v, w, SCRAPE_MAX_PATH_LEN, &pc->path);
			if (!err && !path_ok(pc->path))
				err = ycfg_err(
					c->y, v, w,
					"'%.64s' is not a URL path (starts with '/', no spaces)",
					pc->path);
		} else if (i == 2) {
			err = ycfg_bool(c->y, v, w, &pc->delta);
			*delta_set = true;
		} else {
			int64_t s;
			const char *t;

			err = get_str(c, v, w, 16, &t);
			if (!err) {
				char *end;
				errno = 0;
				s = strtoll(t, &end, 10);
				if (errno || end == t || *end || s < 1 || s > 86400)
					err = ycfg_err(c->y, v, w,
						       "want whole seconds in 1..86400");
				else
					pc->seconds = s;
			}
		}
		if (err)
			return err;
	}
	return r;
}

static int parse_profiling(struct cfg_ctx *c, yaml_node_t *n, const char *where,
			   struct scrape_job *j, bool delta_set[SCRAPE_N_KINDS],
			   const yaml_node_t *kind_node[SCRAPE_N_KINDS])
{
	struct map_it it, it2;
	const char *k, *k2;
	yaml_node_t *kn, *v, *kn2, *v2;
	bool seen_prefix = false, seen_pprof = false;
	char w[WHERE_MAX], w2[WHERE_MAX];
	int r, r2, err;

	if ((err = map_begin(c, n, where, &it)))
		return err;
	while ((r = map_next(c, &it, where, &k, &kn, &v)) > 0) {
		snprintf(w, sizeof(w), "%.200s.%.64s", where, k);
		if (!strcmp(k, "path_prefix")) {
			if (seen_prefix)
				return ycfg_err(c->y, kn, where, "duplicate key '%s'", k);
			seen_prefix = true;
			if ((err = get_str(c, v, w, SCRAPE_MAX_PATH_LEN, &j->path_prefix)))
				return err;
			if (!path_ok(j->path_prefix))
				return ycfg_err(c->y, v, w, "'%.64s' is not a URL path",
						j->path_prefix);
			size_t l = strlen(j->path_prefix);
			if (j->path_prefix[l - 1] == '/')
				((char *)j->path_prefix)[l - 1] = 0;
			continue;
		}
		if (strcmp(k, "pprof_config"))
			return ycfg_err(c->y, kn, where,
					"unknown key '%.64s' (path_prefix, pprof_config)", k);
		if (seen_pprof)
			return ycfg_err(c->y, kn, where, "duplicate key '%s'", k);
		seen_pprof = true;
		if ((err = map_begin(c, v, w, &it2)))
			return err;
		while ((r2 = map_next(c, &it2, w, &k2, &kn2, &v2)) > 0) {
			size_t ki;

			for (ki = 0; ki < SCRAPE_N_KINDS; ki++)
				if (!strcmp(kind_info[ki].key, k2))
					break;
			if (ki == SCRAPE_N_KINDS)
				return ycfg_err(c->y, kn2, w,
						"unknown profile '%.64s' (process_cpu, memory, "
						"goroutine, mutex, block, allocs)",
						k2);
			if (kind_node[ki])
				return ycfg_err(c->y, kn2, w, "duplicate key '%s'", k2);
			kind_node[ki] = kn2;
			snprintf(w2, sizeof(w2), "%.200s.%.64s", w, k2);
			if ((err = parse_profile(c, v2, w2, &j->prof[ki], &delta_set[ki])))
				return err;
		}
		if (r2 < 0)
			return r2;
	}
	return r;
}

static int parse_static(struct cfg_ctx *c, yaml_node_t *n, const char *where, struct scrape_job *j,
			struct scrape_target_cfg **tg, size_t *cap)
{
	struct seq_it si;
	yaml_node_t *g;
	size_t gi = 0;
	char w[WHERE_MAX], w2[WHERE_MAX];
	int err;

	if ((err = seq_begin(c, n, where, &si)))
		return err;
	while ((g = seq_next(c, &si))) {
		static const char *const keys[] = {"targets", "labels"};
		struct store_label *labels = NULL;
		size_t n_labels = 0, first = j->n_targets;
		unsigned int seen = 0;
		struct map_it it;
		const char *k;
		yaml_node_t *kn, *v;
		int r;

		snprintf(w, sizeof(w), "%.200s[%zu]", where, gi++);
		if (ycfg_is_null(g))
			continue;
		if ((err = map_begin(c, g, w, &it)))
			return err;
		while ((r = map_next(c, &it, w, &k, &kn, &v)) > 0) {
			int i = key_index(keys, 2, k);

			snprintf(w2, sizeof(w2), "%.200s.%.64s", w, k);
			if (i < 0)
				return ycfg_err(c->y, kn, w,
						"unknown key '%.64s' (targets, labels)", k);
			if ((err = seen_once(c, &seen, (unsigned int)i, kn, w, k)))
				return err;
			if (i == 0) {
				struct seq_it ti;
				yaml_node_t *t;
				size_t idx = 0;

				if ((err = seq_begin(c, v, w2, &ti)))
					return err;
				while ((t = seq_next(c, &ti))) {
					char w3[WHERE_MAX];
					const char *inst;

					snprintf(w3, sizeof(w3), "%.200s[%zu]", w2, idx++);
					if ((err = get_str(c, t, w3, SCRAPE_MAX_TARGET_LEN, &inst)))
						return err;
					if (!target_ok(inst))
						return ycfg_err(
							c->y, t, w3,
							"'%.64s' is not host:port (the scheme "
							"is the job's 'scheme')",
							inst);
					for (size_t q = 0; q < j->n_targets; q++)
						if (!strcmp((*tg)[q].instance, inst))
							return ycfg_err(c->y, t, w3,
									"duplicate target '%s'",
									inst);
					if (++c->n_targets > SCRAPE_MAX_TARGETS)
						return ycfg_err(c->y, t, w3, "more than %d targets",
								SCRAPE_MAX_TARGETS);
					mem_grow(MEM_SERVER, (void **)tg, cap, j->n_targets + 1,
						 sizeof(**tg));
					(*tg)[j->n_targets++] =
						(struct scrape_target_cfg){.instance = inst};
				}
			} else {
				struct map_it li;
				const char *lk;
				yaml_node_t *lkn, *lv;
				int lr;

				if ((err = map_begin(c, v, w2, &li)))
					return err;
				labels = arena_calloc(c->a, SCRAPE_MAX_LABELS, sizeof(*labels));
				while ((lr = map_next(c, &li, w2, &lk, &lkn, &lv)) > 0) {
					char w3[WHERE_MAX];
					const char *val;

					snprintf(w3, sizeof(w3), "%.200s.%.64s", w2, lk);
					if (strlen(lk) > SCRAPE_MAX_NAME_LEN ||
					    !store_label_name_ok(lk, strlen(lk)) ||
					    (lk[0] == '_' && lk[1] == '_'))
						return ycfg_err(
							c->y, lkn, w2,
							"bad label name '%.64s' (want "
							"[a-zA-Z_][a-zA-Z0-9_.]*, no leading __)",
							lk);
					for (size_t q = 0; q < n_labels; q++)
						if (!strcmp(labels[q].name, lk))
							return ycfg_err(c->y, lkn, w2,
									"duplicate label '%s'", lk);
					if (n_labels >= SCRAPE_MAX_LABELS)
						return ycfg_err(c->y, lkn, w2,
								"more than %d labels",
								SCRAPE_MAX_LABELS);
					if ((err = get_str(c, lv, w3, SCRAPE_MAX_VALUE_LEN, &val)))
						return err;
					if (!*val)
						return ycfg_err(c->y, lv, w3, "empty label value");
					labels[n_labels].name = arena_strndup(c->a, lk, strlen(lk));
					labels[n_labels++].value = val;
				}
				if (lr < 0)
					return lr;
			}
		}
		if (r < 0)
			return r;
		for (size_t q = first; q < j->n_targets; q++) {
			(*tg)[q].labels = labels;
			(*tg)[q].n_labels = n_labels;
		}
	}
	return 0;
}

static int parse_job(struct cfg_ctx *c, yaml_node_t *n, const char *where, struct scrape_job *j)
{
	static const char *const keys[] = {"job_name",	      "scrape_interval", "scrape_timeout",
					   "scheme",	      "tenant",		 "static_configs",
					   "profiling_config"};
	struct map_it it;
	const char *k;
	yaml_node_t *kn, *v;
	const yaml_node_t *interval_n = NULL, *timeout_n = NULL;
	const yaml_node_t *kind_node[SCRAPE_N_KINDS] = {0};
	bool delta_set[SCRAPE_N_KINDS] = {0};
	struct scrape_target_cfg *tg = NULL;
	size_t cap = 0;
	unsigned int seen = 0;
	char w[WHERE_MAX];
	int r, err = 0;

	*j = (struct scrape_job){.tenant = "anonymous", .scheme = "http", .path_prefix = ""};
	j->line = (int)n->start_mark.line + 1;
	for (size_t ki = 0; ki < SCRAPE_N_KINDS; ki++)
		j->prof[ki] = (struct scrape_profile_cfg){.enabled = kind_info[ki].enabled,
							  .delta = kind_info[ki].delta,
							  .path = kind_info[ki].path};
	if (n->type != YAML_MAPPING_NODE) {
		err = ycfg_err(c->y, n, where, "want a mapping with job_name, not %s",
			       ycfg_type_name(n));
		goto out;
	}
	if ((err = map_begin(c, n, where, &it)))
		goto out;
	while ((r = map_next(c, &it, where, &k, &kn, &v)) > 0) {
		int i = key_index(keys, EMBER_ARRAY_SIZE(keys), k);

		snprintf(w, sizeof(w), "%.200s.%.64s", where, k);
		if (i < 0) {
			err = ycfg_err(
				c->y, kn, where,
				"unknown key '%.64s' (job_name, scrape_interval, scrape_timeout, "
				"scheme, tenant, static_configs, profiling_config)",
				k);
			goto out;
		}
		if ((err = seen_once(c, &seen, (unsigned int)i, kn, where, k)))
			goto out;
		switch (i) {
		case 0:
			err = get_str(c, v, w, SCRAPE_MAX_NAME_LEN, &j->name);
			if (!err && !server_name_ok(j->name, "_.-/:"))
				err = ycfg_err(c->y, v, w,
					       "'%.64s' is not a job name ([A-Za-z0-9_.-/:]+)",
					       j->name);
			break;
		case 1:
			interval_n = v;
			err = ycfg_duration(c->y, v, w, 0, INT64_MAX, &j->interval_ns);
			break;
		case 2:
			timeout_n = v;
			err = ycfg_duration(c->y, v, w, 0, INT64_MAX, &j->timeout_ns);
			break;
		case 3:
			err = get_str(c, v, w, 8, &j->scheme);
			if (!err && strcmp(j->scheme, "http") && strcmp(j->scheme, "https"))
				err = ycfg_err(c->y, v, w, "'%s' is not http or https", j->scheme);
			break;
		case 4:
			err = get_str(c, v, w, 64, &j->tenant);
			if (!err && !server_name_ok(j->tenant, "_.-"))
				err = ycfg_err(c->y, v, w,
					       "'%.64s' is not a tenant ([A-Za-z0-9_.-]{1,64})",
					       j->tenant);
			break;
		case 5:
			err = parse_static(c, v, w, j, &tg, &cap);
			break;
		default:
			err = parse_profiling(c, v, w, j, delta_set, kind_node);
			break;
		}
		if (err)
			goto out;
	}
	if (r < 0) {
		err = r;
		goto out;
	}
	if (!j->name) {
		err = ycfg_err(c->y, n, where, "job_name is required");
		goto out;
	}
	if (!interval_n)
		j->interval_ns = SCRAPE_DEFAULT_INTERVAL;
	if (j->interval_ns < SCRAPE_MIN_INTERVAL_NS || j->interval_ns > SCRAPE_MAX_INTERVAL_NS) {
		err = ycfg_err(c->y, interval_n, where, "scrape_interval must be within 1s..24h");
		goto out;
	}
	if (!timeout_n)
		j->timeout_ns = j->interval_ns;
	if (j->timeout_ns < SCRAPE_MIN_TIMEOUT_NS || j->timeout_ns > j->interval_ns) {
		err = ycfg_err(c->y, timeout_n, where,
			       "scrape_timeout must be within 100ms..scrape_interval");
		goto out;
	}
	if (j->prof[SCRAPE_CPU].enabled) {
		const struct scrape_profile_cfg *pc = &j->prof[SCRAPE_CPU];
		const yaml_node_t *at = kind_node[SCRAPE_CPU] ? kind_node[SCRAPE_CPU] : n;

		if (!pc->delta) {
			err = ycfg_err(
				c->y, at, where,
				"process_cpu: delta must be true (a CPU profile always covers "
				"?seconds=N)");
			goto out;
		}
		if (j->timeout_ns < 2 * (int64_t)1000000000) {
			err = ycfg_err(
				c->y, timeout_n ? timeout_n : interval_n, where,
				"scrape_timeout must be at least 2s when process_cpu is enabled");
			goto out;
		}
		if (pc->seconds && pc->seconds * (int64_t)1000000000 >= j->timeout_ns) {
			err = ycfg_err(c->y, at, where,
				       "process_cpu: seconds (%lld) must be below scrape_timeout",
				       (long long)pc->seconds);
			goto out;
		}
	}
	for (size_t ki = 0; ki < SCRAPE_N_KINDS; ki++) {
		if (ki != SCRAPE_CPU && j->prof[ki].seconds) {
			err = ycfg_err(c->y, kind_node[ki], where,
				       "%s: seconds is for process_cpu only", kind_info[ki].key);
			goto out;
		}
		if (delta_set[ki] && j->prof[ki].delta && !kind_info[ki].cumulative_possible &&
		    ki != SCRAPE_CPU) {
			err = ycfg_err(c->y, kind_node[ki], where,
				       "%s: a gauge profile has no delta (delta: false)",
				       kind_info[ki].key);
			goto out;
		}
	}
	if (j->prof[SCRAPE_MEMORY].enabled && j->prof[SCRAPE_ALLOCS].enabled) {
		err = ycfg_err(
			c->y, kind_node[SCRAPE_ALLOCS], where,
			"memory and allocs are the same Go heap profile (stored as 'memory'); "
			"enable only one");
		goto out;
	}
	if (j->n_targets) {
		struct scrape_target_cfg *t = arena_alloc(c->a, j->n_targets * sizeof(*t));
		memcpy(t, tg, j->n_targets * sizeof(*t));
		j->targets = t;
	}
out:
	mem_free(tg);
	return err;
}

static int parse_doc(struct cfg_ctx *c, struct scrape_config *cfg)
{
	yaml_node_t *root = ycfg_root(c->y), *seq = NULL, *kn, *v;
	struct scrape_job *jobs;
	struct map_it it;
	struct seq_it si;
	const char *k;
	size_t n = 0;
	int r, err;

	if (!root)
		return 0;
	if ((err = map_begin(c, root, "(top level)", &it)))
		return err;
	while ((r = map_next(c, &it, "(top level)", &k, &kn, &v)) > 0) {
		if (strcmp(k, "scrape_configs"))
			continue;
		if (seq)
			return ycfg_err(c->y, kn, "(top level)", "duplicate key 'scrape_configs'");
		seq = v;
		if (!seq)
			return ycfg_err(c->y, kn, "scrape_configs", "no value");
	}
	if (r < 0)
		return r;
	if (!seq || ycfg_is_null(seq))
		return 0;
	if ((err = seq_begin(c, seq, "scrape_configs", &si)))
		return err;
	n = (size_t)(si.end - si.p);
	if (n > SCRAPE_MAX_JOBS)
		return ycfg_err(c->y, seq, "scrape_configs", "more than %d jobs", SCRAPE_MAX_JOBS);
	jobs = arena_calloc(c->a, n ? n : 1, sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *jn = seq_next(c, &si);
		char w[WHERE_MAX];

		snprintf(w, sizeof(w), "scrape_configs[%zu]", i);
		if (!jn)
			return ycfg_err(c->y, seq, w, "missing");
		if ((err = parse_job(c, jn, w, &jobs[i])))
			return err;
		for (size_t q = 0; q < i; q++)
			if (!strcmp(jobs[q].name, jobs[i].name))
				return ycfg_err(c->y, jn, w,
						"duplicate job_name '%s' (also at line %d)",
						jobs[i].name, jobs[q].line);
	}
	cfg->jobs = jobs;
	cfg->n_jobs = n;
	cfg->n_targets = c->n_targets;
	return 0;
}

/* Reads the loaded document y (freed here) into *out. */
static int from_doc(struct ycfg *y, struct scrape_config **out)
{
	struct scrape_config *cfg = mem_calloc(MEM_SERVER, 1, sizeof(*cfg));
	struct cfg_ctx c = {.y = y};
	int err;

	cfg->arena = arena_new(MEM_SERVER, 16384);
	c.a = cfg->arena;
	err = parse_doc(&c, cfg);
	ycfg_free(y);
	if (err) {
		server_scrape_config_free(cfg);
		return err;
	}
	*out = cfg;
	return 0;
}

int server_scrape_config_parse(const char *text, size_t len, const char *origin,
			       struct scrape_config **out, struct ember_diag *d)
{
	struct ycfg *y = NULL;
	int err;

	*out = NULL;
	err = ycfg_load(text, len, origin, &y, d);
	return err ? err : from_doc(y, out);
}

int server_scrape_config_load(const char *path, struct scrape_config **out, struct ember_diag *d)
{
	struct ycfg *y = NULL;
	int err;

	*out = NULL;
	err = ycfg_load_file(path, &y, d);
	return err ? err : from_doc(y, out);
}

void server_scrape_config_free(struct scrape_config *c)
{
	if (!c)
		return;
	arena_free(c->arena);
	mem_free(c);
}

int64_t server_scrape_cpu_seconds(const struct scrape_job *j)
{
	int64_t span = EMBER_MIN(j->interval_ns, j->timeout_ns) / 1000000000 - 1;

	if (j->prof[SCRAPE_CPU].seconds)
		return j->prof[SCRAPE_CPU].seconds;
	return span < 1 ? 1 : span;
}

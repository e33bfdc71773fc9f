/*
 * agent_config.c — reads the agent's YAML (format/ycfg.h) into a struct agent_config and
 * compiles its include/exclude selectors and relabel_configs into a struct agent_relabel.
 */
#include "agent/agent_config.h"

#include <errno.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "format/ycfg.h"

#define CFG_MAX_SOURCES 16

static const char top_keys[] =
	"server, output, frequency, interval, duration, push_backlog, push_batch, "
	"kernel_stacks, unwind, off_cpu, off_cpu_every, metrics_addr, include, exclude, "
	"relabel_configs";

struct cfg_ctx {
	struct agent_config *c;
};

static int want_ms(struct ycfg *y, yaml_node_t *v, const char *p, int64_t min_ns, long *out)
{
	int64_t ns = 0;
	int err = ycfg_duration(y, v, p, min_ns, (int64_t)30 * 86400 * 1000000000, &ns);

	if (!err)
		*out = (long)(ns / 1000000);
	return err;
}

/* --- include / exclude ------------------------------------------------------------------- */

struct sel_build {
	const char *names[AGENT_LABELS_MAX], *regexes[AGENT_LABELS_MAX];
	size_t n;
};

static int sel_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct sel_build *sb = arg;
	const char *re = NULL;
	int err;

	if (!agent_label_name_ok(key))
		return ycfg_err(y, ycfg_key(y), p, "not a label name ([A-Za-z_][A-Za-z0-9_.]*)");
	if (sb->n >= AGENT_LABELS_MAX)
		return ycfg_err(y, v, p, "more than %d labels", AGENT_LABELS_MAX);
	if ((err = ycfg_scalar(y, v, p, &re)))
		return err;
	sb->names[sb->n] = key;
	sb->regexes[sb->n++] = re;
	return 0;
}

static int sel_item(struct ycfg *y, yaml_node_t *item, size_t i, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	bool exclude = arg != NULL;
	struct sel_build sb = {.n = 0};
	struct ember_diag d2 = {{0}};
	int err;

	(void)i;
	if (item->type != YAML_MAPPING_NODE)
		return ycfg_err(y, item, p, "expected a mapping of label: regex, not %s",
				ycfg_type_name(item));
	if ((err = ycfg_each_pair(y, item, p, sel_pair, &sb)))
		return err;
	if (!sb.n)
		return ycfg_err(y, item, p, "an empty selector (give label: regex pairs)");
	if (agent_relabel_select(x->c->relabel, exclude, sb.names, sb.regexes, sb.n, &d2))
		return ycfg_err(y, item, p, "%s", d2.msg);
	return 0;
}

/* --- relabel_configs ---------------------------------------------------------------------- */

struct rule_build {
	struct agent_relabel_spec s;
	const char *sources[CFG_MAX_SOURCES];
	char action[16];
};

static int source_item(struct ycfg *y, yaml_node_t *item, size_t i, const char *p, void *arg)
{
	struct rule_build *rb = arg;
	const char *name = NULL;
	int err = ycfg_scalar(y, item, p, &name);

	if (err)
		return err;
	if (!agent_label_name_ok(name))
		return ycfg_err(y, item, p, "'%.60s' is not a label name", name);
	rb->sources[i] = name;
	rb->s.n_source = i + 1;
	return 0;
}

static int rule_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct rule_build *rb = arg;

	if (!strcmp(key, "source_labels"))
		return ycfg_each_item(y, v, p, CFG_MAX_SOURCES, source_item, rb);
	if (!strcmp(key, "separator"))
		return ycfg_scalar(y, v, p, &rb->s.separator);
	if (!strcmp(key, "regex"))
		return ycfg_scalar(y, v, p, &rb->s.regex);
	if (!strcmp(key, "target_label"))
		return ycfg_scalar(y, v, p, &rb->s.target_label);
	if (!strcmp(key, "replacement"))
		return ycfg_scalar(y, v, p, &rb->s.replacement);
	if (!strcmp(key, "action")) {
		const char *a = NULL;
		int err = ycfg_scalar(y, v, p, &a);
		size_t n;

		if (err)
			return err;
		for (n = 0; a[n] && n + 1 < sizeof(rb->action); n++)
			rb->action[n] =
				(char)(a[n] >= 'A' && a[n] <= 'Z' ? a[n] - 'A' + 'a' : a[n]);
		rb->action[n] = 0;
		rb->s.action = a[n] ? a : rb->action; /* too long: the error shows it whole */
		return 0;
	}
	if (!strcmp(key, "modulus"))
		return ycfg_err(y, ycfg_key(y), p,
				"hashmod is not supported by the agent (it shards scrape "
				"targets; the agent has none)");
	return ycfg_unknown_key(y, p,
				"source_labels, separator, regex, target_label, replacement, "
				"action");
}

static int rule_item(struct ycfg *y, yaml_node_t *item, size_t i, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct rule_build rb;
	struct ember_diag d2 = {{0}};
	int err;

	(void)i;
	(void)arg;
	memset(&rb, 0, sizeof(rb));
	rb.s.source_labels = rb.sources;
	if (item->type != YAML_MAPPING_NODE)
		return ycfg_err(y, item, p,
				"expected a mapping (source_labels, regex, ...), not %s",
				ycfg_type_name(item));
	if ((err = ycfg_each_pair(y, item, p, rule_pair, &rb)))
		return err;
	if (agent_relabel_add(x->c->relabel, &rb.s, &d2))
		return ycfg_err(y, item, p, "%s", d2.msg);
	return 0;
}

/* --- top level ---------------------------------------------------------------------------- */

static int top_pair(struct ycfg *y, const char *key, yaml_node_t *v, const char *p, void *arg)
{
	struct cfg_ctx *x = ycfg_user(y);
	struct agent_config *c = x->c;
	uint64_t u = 0;
	bool b = false;
	int err;

	(void)arg;
	if (!strcmp(key, "server"))
		return ycfg_str(y, v, p, c->arena, 2048, &c->server);
	if (!strcmp(key, "output"))
		return ycfg_str(y, v, p, c->arena, 4000, &c->output);
	if (!strcmp(key, "metrics_addr"))
		return ycfg_str(y, v, p, c->arena, 300, &c->metrics_addr);
	if (!strcmp(key, "frequency")) {
		err = ycfg_u64(y, v, p, 1, 10000, &u);
		c->frequency = (long)u;
		return err;
	}
	if (!strcmp(key, "interval"))
		return want_ms(y, v, p, 1000000, &c->interval_ms);
	if (!strcmp(key, "duration"))
		return want_ms(y, v, p, 0, &c->duration_ms);
	if (!strcmp(key, "push_backlog")) {
		err = ycfg_size(y, v, p, (uint64_t)1 << 16, (uint64_t)1 << 40, &u);
		c->push_backlog = (long)u;
		return err;
	}
	if (!strcmp(key, "kernel_stacks")) {
		err = ycfg_bool(y, v, p, &b);
		c->kernel_stacks = b;
		return err;
	}
	if (!strcmp(key, "off_cpu")) {
		err = ycfg_bool(y, v, p, &b);
		c->off_cpu = b;
		return err;
	}
	if (!strcmp(key, "push_batch")) {
		err = ycfg_bool(y, v, p, &b);
		c->push_batch = b;
		return err;
	}
	if (!strcmp(key, "off_cpu_every")) {
		err = ycfg_u64(y, v, p, 1, 1000000, &u);
		c->off_cpu_every = (long)u;
		return err;
	}
	if (!strcmp(key, "unwind")) {
		const char *s = NULL;
		if ((err = ycfg_scalar(y, v, p, &s)))
			return err;
		if (strcmp(s, "kernel") && strcmp(s, "user"))
			return ycfg_err(y, v, p, "'%.40s' is not kernel or user", s);
		c->user_unwind = !strcmp(s, "user");
		return 0;
	}
	if (!strcmp(key, "include") || !strcmp(key, "exclude"))
		return ycfg_each_item(y, v, p, AGENT_RELABEL_MAX, sel_item,
				      !strcmp(key, "exclude") ? (void *)1 : NULL);
	if (!strcmp(key, "relabel_configs"))
		return ycfg_each_item(y, v, p, AGENT_RELABEL_MAX, rule_item, NULL);
	return ycfg_unknown_key(y, p, top_keys);
}

void agent_config_free(struct agent_config *c)
{
	if (!c)
		return;
	agent_relabel_free(c->relabel);
	arena_free(c->arena);
	mem_free(c);
}

static int parse(struct ycfg *y, struct agent_config **out)
{
	struct cfg_ctx x = {0};
	struct agent_config *c = mem_calloc(MEM_AGENT, 1, sizeof(*c));
	int err;

	c->arena = arena_new(MEM_AGENT, 4096);
	c->kernel_stacks = -1;
	c->user_unwind = -1;
	c->off_cpu = -1;
	c->push_batch = -1;
	c->relabel = agent_relabel_new();
	x.c = c;
	ycfg_set_user(y, &x);
	err = c->relabel ? ycfg_each_pair(y, ycfg_root(y), "", top_pair, NULL) : -ENOMEM;
	if (err) {
		agent_config_free(c);
		return err;
	}
	if (!agent_relabel_n_rules(c->relabel)) {
		agent_relabel_free(c->relabel);
		c->relabel = NULL;
	}
	*out = c;
	return 0;
}

int agent_config_parse(const char *text, size_t len, const char *origin, struct agent_config **out,
		       struct ember_diag *d)
{
	struct ycfg *y = NULL;
	int err;

	*out = NULL;
	if ((err = ycfg_load(text, len, origin, &y, d)))
		return err;
	err = parse(y, out);
	ycfg_free(y);
	return err;
}

int agent_config_load(const char *path, struct agent_config **out, struct ember_diag *d)
{
	struct ycfg *y = NULL;
	int err;

	*out = NULL;
	if ((err = ycfg_load_file(path, &y, d)))
		return err;
	err = parse(y, out);
	ycfg_free(y);
	return err;
}

/*
 * relabel.h — which processes the agent profiles and under which labels: include/exclude
 * selectors and Prometheus-style relabel rules applied to a process's discovered labels
 * (service_name, hostname, pid, comm, executable, build_id, cgroup, container_id, pod_uid,
 * systemd_unit). Processes that end with the same label set form one group and ship as one
 * profile.
 *
 * Semantics follow Prometheus' relabel_config: regexes are anchored at both ends; the source
 * value is the source labels' values joined by the separator (";"), an absent label being
 * ""; replacement expands $1, ${1}, ${name} and $$ (a "$name" runs to the end of
 * [A-Za-z0-9_], so write ${1}x, not $1x); a replace that yields "" deletes the target label.
 * Actions: replace (default), keep, drop, keepequal, dropequal, lowercase, uppercase,
 * labelmap, labeldrop, labelkeep. Labels whose names start with "__" are removed after the
 * last rule, so rules may use them as scratch space.
 */
#ifndef EMBER_AGENT_RELABEL_H
#define EMBER_AGENT_RELABEL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define AGENT_LABELS_MAX      32
#define AGENT_LABEL_NAME_MAX  128
#define AGENT_LABEL_VALUE_MAX 1024
#define AGENT_RELABEL_MAX     256 /* rules and selectors, each */

/* A bounded label set; names unique; values never empty. Values longer than
 * AGENT_LABEL_VALUE_MAX - 1 bytes are cut. */
struct agent_labels {
	size_t n;
	struct agent_label {
		char name[AGENT_LABEL_NAME_MAX];
		char value[AGENT_LABEL_VALUE_MAX];
	} l[AGENT_LABELS_MAX];
};

/* Sets name to value; an empty or NULL value deletes it. -EMBER_ELIMIT when the set is full
 * or the name too long. */
int agent_labels_set(struct agent_labels *ls, const char *name, const char *value);
/* The value, or "" when absent. */
const char *agent_labels_get(const struct agent_labels *ls, const char *name);
/* Sorts by name (a canonical order for grouping and display). */
void agent_labels_sort(struct agent_labels *ls);
/* [A-Za-z_][A-Za-z0-9_.]* of at most AGENT_LABEL_NAME_MAX - 1 bytes. */
bool agent_label_name_ok(const char *s);

struct agent_relabel_spec {
	const char *action; /* NULL = "replace" */
	const char *const *source_labels;
	size_t n_source;
	const char *separator;	  /* NULL = ";" */
	const char *regex;	  /* NULL = "(.*)" */
	const char *target_label; /* may hold $1-style references (replace only) */
	const char *replacement;  /* NULL = "$1" */
};

struct agent_relabel;

struct agent_relabel *agent_relabel_new(void);
void agent_relabel_free(struct agent_relabel *r);
/* Adds a rule after the others; a bad action, regex or missing target_label fails with a
 * message in d that names the field. */
int agent_relabel_add(struct agent_relabel *r, const struct agent_relabel_spec *s,
		      struct ember_diag *d);
/* Adds an include (exclude = false) or exclude selector: n (label name, anchored regex)
 * pairs, all of which must match. A process is kept when it matches some include selector
 * (or there is none) and no exclude selector; selectors see the labels before the rules. */
int agent_relabel_select(struct agent_relabel *r, bool exclude, const char *const *names,
			 const char *const *regexes, size_t n, struct ember_diag *d);
size_t agent_relabel_n_rules(const struct agent_relabel *r);

/* Applies the selectors then the rules to ls in place; false when the process is dropped
 * (by a selector or by keep/drop/keepequal/dropequal). Not thread-safe (one match buffer). */
bool agent_relabel_apply(struct agent_relabel *r, struct agent_labels *ls);

#endif

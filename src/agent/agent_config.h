/*
 * agent_config.h — the YAML file of `ember agent --config FILE`: every option of the command
 * line (flags given on the command line win) plus what has no flag: include/exclude selectors
 * and relabel_configs (agent/relabel.h). The format is in docs/cli.md ("ember agent").
 */
#ifndef EMBER_AGENT_AGENT_CONFIG_H
#define EMBER_AGENT_AGENT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "agent/relabel.h"
#include "base/err.h"

struct agent_config {
	struct arena *arena;
	const char *server, *output, *metrics_addr; /* NULL = not set */
	long frequency;				    /* 0 = not set */
	long interval_ms, duration_ms;		    /* 0 = not set */
	long push_backlog;			    /* 0 = not set */
	int kernel_stacks;			    /* -1 = not set, else 0/1 */
	int user_unwind;			    /* -1 = not set, else 0/1 */
	int off_cpu;				    /* -1 = not set, else 0/1 */
	long off_cpu_every;			    /* 0 = not set */
	int push_batch;				    /* -1 = not set, else 0/1 */
	struct agent_relabel *relabel; /* NULL when there are no selectors and no rules */
};

/* Reads and checks the file; errors name the file, line and key path in d. */
int agent_config_load(const char *path, struct agent_config **out, struct ember_diag *d);
int agent_config_parse(const char *text, size_t len, const char *origin, struct agent_config **out,
		       struct ember_diag *d);
void agent_config_free(struct agent_config *c);

#endif

/*
 * flush.h — the agent's interval flush: one profile per process from the collector, the
 * process's labels (service_name = the executable's base name, hostname, pid, comm,
 * executable, build_id, cgroup, container_id, pod_uid, systemd_unit), the include/exclude
 * selectors and relabel rules applied, and processes that end with the same label set merged
 * into one profile per group, written to a directory and/or queued for the shipper. Without
 * rules every process is its own group (its pid is one of its labels).
 */
#ifndef EMBER_AGENT_FLUSH_H
#define EMBER_AGENT_FLUSH_H

#include <stdint.h>

#include <stdbool.h>

#include "agent/agent.h"
#include "agent/push.h"
#include "agent/relabel.h"

struct agent_flush_opts {
	const char *dir;	       /* DIR/<comm>-<pid>-<unix seconds>.pb.gz, or NULL */
	struct agent_push *push;       /* or NULL */
	const char *host;	       /* the hostname label */
	long interval_ms;	       /* the profiles' duration, ending now */
	struct agent_relabel *relabel; /* or NULL */
	bool batch; /* push one profile for all groups, their labels as sample labels */
};

struct agent_flush_stats {
	uint64_t frames;	/* frames flushed */
	uint64_t unnamed;	/* of which without a name (symbolization misses) */
	uint64_t profiles;	/* profiles written or queued */
	uint64_t procs_dropped; /* processes left out by a selector or a keep/drop rule */
	uint64_t procs_merged;	/* processes merged into another process's group */
};

/* Flushes what coll holds and resets it; returns the profiles written or queued. Counters
 * accumulate into st. The file of a group is named after its busiest process. */
int agent_flush(struct agent_procs *procs, struct agent_collector *coll,
		const struct agent_flush_opts *o, struct agent_flush_stats *st);

#endif

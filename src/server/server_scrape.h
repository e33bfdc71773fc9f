/*
 * server_scrape.h — what the scraper's files share (server_scrape.c: the scrape loop, state,
 * /api/v1/targets and /metrics; server_scrape_config.c: the `scrape_configs` YAML;
 * server_scrape_delta.c: deltas of cumulative profiles). Nothing outside src/server/server_scrape*.c and the scrape tests
 * includes it.
 */
#ifndef EMBER_SERVER_SERVER_SCRAPE_H
#define EMBER_SERVER_SERVER_SCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hmap.h"
#include "profile/profile.h"
#include "store/store.h"

/* Bounds of a scrape configuration. */
#define SCRAPE_MAX_JOBS		 256
#define SCRAPE_MAX_TARGETS	 4096 /* over all jobs */
#define SCRAPE_MAX_LABELS	 24   /* static labels of one target group */
#define SCRAPE_MAX_NAME_LEN	 128  /* job name, tenant, label name */
#define SCRAPE_MAX_VALUE_LEN	 1024 /* label value */
#define SCRAPE_MAX_PATH_LEN	 256
#define SCRAPE_MAX_TARGET_LEN	 255
#define SCRAPE_MIN_INTERVAL_NS	 ((int64_t)1000000000)
#define SCRAPE_MAX_INTERVAL_NS	 ((int64_t)86400 * 1000000000)
#define SCRAPE_MIN_TIMEOUT_NS	 ((int64_t)100000000)
#define SCRAPE_DEFAULT_INTERVAL	 ((int64_t)15 * 1000000000)
#define SCRAPE_MAX_BODY_BYTES	 ((size_t)64 << 20)
#define SCRAPE_MAX_DECODED_BYTES ((size_t)64 << 20)

/* The profile kinds a job can scrape (profiling_config.pprof_config keys). */
enum scrape_kind {
	SCRAPE_CPU,
	SCRAPE_MEMORY,
	SCRAPE_GOROUTINE,
	SCRAPE_MUTEX,
	SCRAPE_BLOCK,
	SCRAPE_ALLOCS,
	SCRAPE_N_KINDS
};

struct scrape_kind_info {
	const char *key;	  /* config key and the `type` in metrics/targets */
	const char *name;	  /* the stored profile name (__name__) */
	const char *path;	  /* Go's default path */
	bool enabled;		  /* by default */
	bool delta;		  /* by default */
	bool cumulative_possible; /* has counters that delta applies to */
};

const struct scrape_kind_info *server_scrape_kind(enum scrape_kind k);

struct scrape_profile_cfg {
	bool enabled;
	bool delta;	  /* process_cpu: ?seconds=N; cumulative kinds: per-stack deltas */
	const char *path; /* absolute path (may carry a query string) */
	int64_t seconds;  /* process_cpu: the profile duration; 0 = derived from the timeout */
};

struct scrape_target_cfg {
	const char *instance; /* host:port */
	size_t n_labels;
	const struct store_label *labels; /* the group's static labels */
};

struct scrape_job {
	const char *name;
	const char *tenant; /* "anonymous" unless set */
	const char *scheme; /* "http" or "https" */
	const char *path_prefix;
	int64_t interval_ns, timeout_ns;
	struct scrape_profile_cfg prof[SCRAPE_N_KINDS];
	size_t n_targets;
	const struct scrape_target_cfg *targets;
	int line; /* of the job in the file */
};

struct scrape_config {
	size_t n_jobs;
	const struct scrape_job *jobs;
	size_t n_targets;    /* over all jobs */
	struct arena *arena; /* owns everything above */
};

/* Parses the top-level `scrape_configs` of a YAML document (other top-level keys are ignored).
 * origin names the input in messages ("ember.yaml:12: scrape_configs[0].scrape_interval: ...").
 * A document without scrape_configs gives a config with no jobs. -EMBER_EUSAGE (or
 * -EMBER_ELIMIT) with a message naming the key and line on any error; nothing is returned then. */
int server_scrape_config_parse(const char *text, size_t len, const char *origin,
			       struct scrape_config **out, struct ember_diag *d);
/* Reads path (at most YCFG_MAX_TEXT, 1 MiB) and parses it. */
int server_scrape_config_load(const char *path, struct scrape_config **out, struct ember_diag *d);
void server_scrape_config_free(struct scrape_config *c);
/* The CPU profile length in seconds for a job: prof[SCRAPE_CPU].seconds, else
 * min(interval, timeout) - 1 s, at least 1. */
int64_t server_scrape_cpu_seconds(const struct scrape_job *j);

/* The baseline of one cumulative profile stream (one target and kind): the counters of the
 * previous scrape per stack (hash of its frames and labels). */
struct scrape_delta {
	struct hmap idx; /* stack key -> slot */
	int64_t *vals;	 /* slot * n_cols + column */
	size_t n_slots, cap_slots;
	size_t n_cols;	/* sample types of the profile */
	uint64_t shape; /* hash of the sample types and the cumulative mask */
	bool primed;
	int64_t time_ns; /* when the baseline was scraped */
};

void server_scrape_delta_init(struct scrape_delta *st);
void server_scrape_delta_fini(struct scrape_delta *st);
/* Which sample types of p are cumulative counters for kind k (bit i = sample type i; at most
 * 64 types): memory/allocs alloc_*, mutex and block all; others none. */
uint64_t server_scrape_cumulative_mask(const struct prof *p, enum scrape_kind k);
/* Turns the cumulative columns (mask) of p into deltas against the baseline, in place, and makes
 * p the new baseline (stacks absent from p are forgotten). A counter below its baseline (a
 * restart) counts from zero: the delta is the new value. The first profile, or one whose sample
 * types differ from the baseline's, only primes: *out is NULL. Otherwise *out is a new profile
 * with the samples whose values are not all zero (possibly none), *window_start_ns the time of
 * the baseline it was computed against. */
int server_scrape_delta_apply(struct scrape_delta *st, struct prof *p, uint64_t mask,
			      int64_t now_ns, struct prof **out, int64_t *window_start_ns,
			      struct ember_diag *d);

#endif

/*
 * fuzz_scrape_config.c — libFuzzer target for the server's scrape_configs reader (libyaml's
 * loader plus Ember's key-by-key checks). Any input either fails with a message that names the
 * input and returns no config, or gives a config whose every job keeps the documented
 * invariants (a name, 1s <= interval <= 24h, 100ms <= timeout <= interval, CPU seconds below the
 * timeout, valid paths and bounded targets and labels). Any other outcome aborts; everything is
 * freed, so leaks show up under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server_scrape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why)
{
	fprintf(stderr, "fuzz_scrape_config: %s\n", why);
	abort();
}

static void check_job(const struct scrape_job *j)
{
	if (!j->name || !*j->name || strlen(j->name) > SCRAPE_MAX_NAME_LEN)
		die("job without a valid name");
	if (j->interval_ns < SCRAPE_MIN_INTERVAL_NS || j->interval_ns > SCRAPE_MAX_INTERVAL_NS)
		die("interval out of range");
	if (j->timeout_ns < SCRAPE_MIN_TIMEOUT_NS || j->timeout_ns > j->interval_ns)
		die("timeout out of range");
	if (strcmp(j->scheme, "http") && strcmp(j->scheme, "https"))
		die("bad scheme");
	if (!j->tenant || !*j->tenant || strlen(j->tenant) > 64)
		die("bad tenant");
	if (j->prof[SCRAPE_MEMORY].enabled && j->prof[SCRAPE_ALLOCS].enabled)
		die("memory and allocs both enabled");
	if (j->prof[SCRAPE_CPU].enabled &&
	    server_scrape_cpu_seconds(j) * 1000000000 >= j->timeout_ns)
		die("CPU seconds not below the timeout");
	for (size_t k = 0; k < SCRAPE_N_KINDS; k++)
		if (!j->prof[k].path || j->prof[k].path[0] != '/' ||
		    strlen(j->prof[k].path) > SCRAPE_MAX_PATH_LEN)
			die("bad path");
	for (size_t t = 0; t < j->n_targets; t++) {
		const struct scrape_target_cfg *tg = &j->targets[t];

		if (!tg->instance || !strchr(tg->instance, ':') ||
		    strlen(tg->instance) > SCRAPE_MAX_TARGET_LEN)
			die("bad target");
		if (tg->n_labels > SCRAPE_MAX_LABELS)
			die("too many labels");
		for (size_t l = 0; l < tg->n_labels; l++)
			if (!tg->labels[l].name[0] || !tg->labels[l].value[0] ||
			    !strncmp(tg->labels[l].name, "__", 2))
				die("bad label");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scrape_config *c = NULL;
	struct ember_diag d = {{0}};
	size_t n_targets = 0;

	if (server_scrape_config_parse((const char *)data, size, "fuzz.yaml", &c, &d) != 0) {
		if (c || strncmp(d.msg, "fuzz.yaml", 9) != 0)
			die("failure with a config or without a message naming the input");
		return 0;
	}
	if (!c)
		die("success without a config");
	if (c->n_jobs > SCRAPE_MAX_JOBS)
		die("too many jobs");
	for (size_t i = 0; i < c->n_jobs; i++) {
		check_job(&c->jobs[i]);
		n_targets += c->jobs[i].n_targets;
	}
	if (n_targets != c->n_targets || n_targets > SCRAPE_MAX_TARGETS)
		die("target count");
	server_scrape_config_free(c);
	return 0;
}

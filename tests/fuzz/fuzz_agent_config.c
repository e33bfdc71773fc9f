/*
 * fuzz_agent_config.c — libFuzzer target for the YAML file of `ember agent --config`
 * (agent_config_parse) and the relabel rules it compiles: any input either parses into a
 * config or fails with a message that starts with the origin and returns nothing. A parsed
 * config's rules are applied to a process's labels (values taken from the input too), and
 * the result must stay a valid label set: names valid and unique, no "__" names, no empty
 * values. Everything is freed, so leaks show up under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_labels(const struct agent_labels *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (!agent_label_name_ok(ls->l[i].name) || !ls->l[i].value[0] ||
		    (ls->l[i].name[0] == '_' && ls->l[i].name[1] == '_')) {
			fprintf(stderr, "fuzz_agent_config: bad label '%s'\n", ls->l[i].name);
			abort();
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(ls->l[i].name, ls->l[k].name)) {
				fprintf(stderr, "fuzz_agent_config: label '%s' twice\n",
					ls->l[i].name);
				abort();
			}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent_labels ls;
	struct agent_config *c = NULL;
	struct ember_diag d = {{0}};
	char comm[17] = {0};

	if (agent_config_parse((const char *)data, size, "fuzz.yaml", &c, &d) != 0) {
		if (c || strncmp(d.msg, "fuzz.yaml", 9) != 0) {
			fprintf(stderr, "fuzz_agent_config: failure without message or with a "
					"config\n");
			abort();
		}
		return 0;
	}
	if (!c) {
		fprintf(stderr, "fuzz_agent_config: success without a config\n");
		abort();
	}
	if (c->relabel) {
		for (size_t i = 0; i < size && i < sizeof(comm) - 1; i++)
			comm[i] = data[i] ? (char)data[i] : '_';
		memset(&ls, 0, sizeof(ls));
		agent_labels_set(&ls, "service_name", "python3");
		agent_labels_set(&ls, "pid", "42");
		agent_labels_set(&ls, "comm", comm);
		agent_labels_set(&ls, "cgroup", "/system.slice/a.service");
		if (agent_relabel_apply(c->relabel, &ls))
			check_labels(&ls);
	}
	agent_config_free(c);
	return 0;
}

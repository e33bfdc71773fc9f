/*
 * fuzz_cgroup.c — libFuzzer target for the agent's cgroup path parser (src/agent/cgroup.c):
 * whatever the bytes, parsing must not crash or read out of bounds, and what it returns must
 * have the promised shapes: a container id of 64 lowercase hex digits, a pod uid in 8-4-4-4-12
 * form, a unit ending in ".service" or ".scope". Any other outcome aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_cgroup: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_cgroup_info ci;
	size_t n;

	agent_cgroup_parse((const char *)data, size, &ci);
	n = strlen(ci.container_id);
	check(n == 0 || (n == 64 && strspn(ci.container_id, "0123456789abcdef") == 64),
	      "bad container id");
	n = strlen(ci.pod_uid);
	check(n == 0 || (n == 36 && ci.pod_uid[8] == '-' && ci.pod_uid[13] == '-' &&
			 ci.pod_uid[18] == '-' && ci.pod_uid[23] == '-' &&
			 strspn(ci.pod_uid, "0123456789abcdef-") == 36),
	      "bad pod uid");
	n = strlen(ci.unit);
	check(n == 0 || (n > 8 && !strcmp(ci.unit + n - 8, ".service")) ||
		      (n > 6 && !strcmp(ci.unit + n - 6, ".scope")),
	      "bad unit");
	check(!memchr(ci.unit, '/', n), "unit with a slash");
	return 0;
}

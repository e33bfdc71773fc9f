/*
 * fuzz_config.c — libFuzzer target for the YAML configuration loader of `ember server`
 * (server_config_parse). Any input either parses into a config (whose arrays are consistent
 * and tokens meet their rules) or fails with a message that starts with the origin; nothing
 * is returned on failure. Everything is freed, so leaks show up under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_config *c = NULL;
	struct ember_diag d = {{0}};

	if (server_config_parse((const char *)data, size, "fuzz.yaml", &c, &d) != 0) {
		if (c || strncmp(d.msg, "fuzz.yaml", 9) != 0) {
			fprintf(stderr, "fuzz_config: failure without message or with a config\n");
			abort();
		}
		return 0;
	}
	if (!c || (c->opts.n_tokens && !c->opts.tokens) ||
	    (c->opts.n_tenant_limits && !c->opts.tenant_limits) || c->opts.store != &c->store) {
		fprintf(stderr, "fuzz_config: inconsistent config\n");
		abort();
	}
	for (size_t i = 0; i < c->opts.n_tokens; i++) {
		size_t n = strlen(c->opts.tokens[i].token);
		if (n < SERVER_TOKEN_MIN_LEN || n > SERVER_TOKEN_MAX_LEN ||
		    !c->opts.tokens[i].scopes || !c->opts.tokens[i].tenant) {
			fprintf(stderr, "fuzz_config: a token breaks its rules\n");
			abort();
		}
	}
	server_config_free(c);
	return 0;
}

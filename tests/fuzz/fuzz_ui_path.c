/*
 * fuzz_ui_path.c — libFuzzer target for what the web UI's handler does with untrusted request
 * data: the path (which embedded file, index.html for app paths, 404 for API paths and unknown
 * assets) and the If-None-Match header. The input is "path\nheader". An answer for an /assets/
 * path must be that very file, any other answer index.html; anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server_assets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[4096];
	const char *why = NULL, *inm = NULL;
	const struct server_asset *a;
	char *nl;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = 0;
	nl = strchr(buf, '\n');
	if (nl) {
		*nl = 0;
		inm = nl + 1;
	}
	a = server_ui_resolve(buf, &why);
	if (!a) {
		if (!why || !*why)
			abort();
		return 0;
	}
	if (!strncmp(buf, "/assets/", 8) ? strcmp(a->path, buf) : strcmp(a->path, "/index.html")) {
		fprintf(stderr, "fuzz_ui_path: %s answered with %s\n", buf, a->path);
		abort();
	}
	if (server_ui_etag_matches(a->etag, a->etag) != 1)
		abort();
	(void)server_ui_etag_matches(inm, a->etag);
	return 0;
}

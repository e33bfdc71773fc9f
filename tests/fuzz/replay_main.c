/*
 * replay_main.c — runs a libFuzzer target over every file of a corpus directory without
 * libFuzzer, so `make test` replays the corpora with the normal compiler (and under ASan with
 * `make asan`). Prints one PASS line for the corpus or crashes loudly.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		printf("FAIL fuzz-replay/%s: cannot open corpus\n", dir);
		return 1;
	}
	while ((e = readdir(d))) {
		char path[4096];
		struct buf b;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		buf_init(&b, MEM_TEST, 64u << 20);
		if (buf_read_file(&b, path) != 0) {
			printf("FAIL fuzz-replay/%s: cannot read %s\n", dir, path);
			buf_fini(&b);
			closedir(d);
			return 1;
		}
		LLVMFuzzerTestOneInput(b.data, b.len);
		buf_fini(&b);
		n++;
	}
	closedir(d);
	if (n == 0) {
		printf("FAIL fuzz-replay/%s: empty corpus\n", dir);
		return 1;
	}
	printf("PASS fuzz-replay/%s (%zu inputs)\n",
	       strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir, n);
	return 0;
}

/*
 * fuzz_ch_result.c — libFuzzer target for the ClickHouse backend's TabSeparated result reader
 * (src/store/clickhouse/ch_result.c): the bytes are a result body, read row by row with 1 to 4
 * fields the way the queries read them, numbers parsed from every field. Nothing may crash or
 * read out of bounds; fields must stay inside the body and be NUL-terminated at their length.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "store/clickhouse/ch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = mem_alloc(MEM_TEST, size + 1);
	char *f[4];
	size_t len[4], max = size ? (size_t)data[0] % 4 + 1 : 1;
	struct ch_tsv t = {body, body + size};
	int k;

	memcpy(body, data, size);
	body[size] = 0;
	while ((k = ch_tsv_row(&t, f, len, max)) > 0) {
		for (int i = 0; i < k; i++) {
			uint64_t u;
			int64_t v;

			if (f[i] < body || f[i] + len[i] > body + size || f[i][len[i]] != 0)
				abort();
			(void)ch_parse_u64(f[i], &u);
			(void)ch_parse_i64(f[i], &v);
		}
	}
	mem_free(body);
	return 0;
}

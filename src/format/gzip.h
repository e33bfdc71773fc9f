/*
 * gzip.h — gzip (and zlib) wrapping with bomb protection: inflation stops with -EMBER_ELIMIT
 * past max_out bytes or past max_ratio × the compressed size, whichever is smaller.
 */
#ifndef EMBER_FORMAT_GZIP_H
#define EMBER_FORMAT_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct gzip_limits {
	size_t max_out;	    /* 0 = default 512 MiB */
	uint32_t max_ratio; /* 0 = default 1000 */
};

bool gzip_is(const void *data, size_t len);
/* Appends the inflated bytes to out. Concatenated gzip members are accepted. */
int gzip_inflate(const void *data, size_t len, const struct gzip_limits *lim, struct buf *out,
		 struct ember_diag *d);
/* level 1..9 (1 = fastest, what Go's runtime uses). */
int gzip_deflate(const void *data, size_t len, int level, struct buf *out);

#endif

/*
 * pprof_int.h — private to src/format/pprof_*.c: the field numbers of perftools.profiles
 * (profile.proto) shared by the decoder and the encoder, and the decoder's fast varint path.
 * Field numbers are fixed by the proto and must never be renumbered; see docs/internals/format.md.
 */
#ifndef EMBER_FORMAT_PPROF_INT_H
#define EMBER_FORMAT_PPROF_INT_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#include "base/wire.h"

enum pprof_profile_field {
	PPROF_SAMPLE_TYPE = 1,
	PPROF_SAMPLE = 2,
	PPROF_MAPPING = 3,
	PPROF_LOCATION = 4,
	PPROF_FUNCTION = 5,
	PPROF_STRING_TABLE = 6,
	PPROF_DROP_FRAMES = 7,
	PPROF_KEEP_FRAMES = 8,
	PPROF_TIME_NANOS = 9,
	PPROF_DURATION_NANOS = 10,
	PPROF_PERIOD_TYPE = 11,
	PPROF_PERIOD = 12,
	PPROF_COMMENT = 13,
	PPROF_DEFAULT_SAMPLE_TYPE = 14,
	PPROF_DOC_URL = 15,
};

enum pprof_value_type_field {
	PPROF_VT_TYPE = 1,
	PPROF_VT_UNIT = 2,
};

enum pprof_sample_field {
	PPROF_S_LOCATION_ID = 1,
	PPROF_S_VALUE = 2,
	PPROF_S_LABEL = 3,
};

enum pprof_label_field {
	PPROF_LB_KEY = 1,
	PPROF_LB_STR = 2,
	PPROF_LB_NUM = 3,
	PPROF_LB_NUM_UNIT = 4,
};

enum pprof_mapping_field {
	PPROF_M_ID = 1,
	PPROF_M_MEMORY_START = 2,
	PPROF_M_MEMORY_LIMIT = 3,
	PPROF_M_FILE_OFFSET = 4,
	PPROF_M_FILENAME = 5,
	PPROF_M_BUILD_ID = 6,
	PPROF_M_HAS_FUNCTIONS = 7,
	PPROF_M_HAS_FILENAMES = 8,
	PPROF_M_HAS_LINE_NUMBERS = 9,
	PPROF_M_HAS_INLINE_FRAMES = 10,
};

enum pprof_location_field {
	PPROF_L_ID = 1,
	PPROF_L_MAPPING_ID = 2,
	PPROF_L_ADDRESS = 3,
	PPROF_L_LINE = 4,
	PPROF_L_IS_FOLDED = 5,
};

enum pprof_line_field {
	PPROF_LN_FUNCTION_ID = 1,
	PPROF_LN_LINE = 2,
	PPROF_LN_COLUMN = 3,
};

enum pprof_function_field {
	PPROF_FN_ID = 1,
	PPROF_FN_NAME = 2,
	PPROF_FN_SYSTEM_NAME = 3,
	PPROF_FN_FILENAME = 4,
	PPROF_FN_START_LINE = 5,
};

/* wire_read_varint with the common cases inline: up to five bytes (35 bits: ids, values,
 * lines, most addresses) inside the reader's range. Longer, truncated or overlong varints go to
 * wire_read_varint, which gives the same results and errors. The decoder's hot path. */
static inline int pprof_varint(struct wire_reader *r, uint64_t *v)
{
	const uint8_t *p = r->p;
	size_t n = (size_t)(r->end - p);
	uint64_t x;

	if (n >= 1 && p[0] < 0x80) {
		*v = p[0];
		r->p = p + 1;
		return 0;
	}
	if (n >= 2) {
		x = (uint64_t)(p[0] & 0x7f) | (uint64_t)(p[1] & 0x7f) << 7;
		if (p[1] < 0x80) {
			*v = x;
			r->p = p + 2;
			return 0;
		}
		if (n >= 3) {
			x |= (uint64_t)(p[2] & 0x7f) << 14;
			if (p[2] < 0x80) {
				*v = x;
				r->p = p + 3;
				return 0;
			}
			if (n >= 5) {
				x |= (uint64_t)(p[3] & 0x7f) << 21;
				if (p[3] < 0x80) {
					*v = x;
					r->p = p + 4;
					return 0;
				}
				x |= (uint64_t)(p[4] & 0x7f) << 28;
				if (p[4] < 0x80) {
					*v = x;
					r->p = p + 5;
					return 0;
				}
			}
		}
	}
	return wire_read_varint(r, v);
}

/* The 9- and 10-byte varints of pprof_varint_nocheck (values of 56 bits and more). */
static inline const uint8_t *pprof_varint_nocheck_long(const uint8_t *p, uint64_t *v)
{
	uint64_t x = 0, b;

	for (unsigned i = 0; i < 9; i++) {
		b = p[i];
		x |= (b & 0x7f) << (7 * i);
		if (b < 0x80) {
			*v = x;
			return p + i + 1;
		}
	}
	if (p[9] > 1)
		return NULL;
	*v = x | (uint64_t)p[9] << 63;
	return p + 10;
}

/* A varint at p when at least 10 bytes from p are readable (the caller compared p with the end
 * of the input less a margin, not with the end of its field, so the varint may run past that):
 * its end, or NULL for one of more than 10 bytes or past 64 bits (the checked readers then
 * report it). The caller compares the end with its field's end. Values as wire_read_varint.
 * One or two bytes (ids, indices, lines) are the inline cases; three to eight (addresses,
 * values) are read at once from one 64-bit load, without a branch per byte. */
static inline const uint8_t *pprof_varint_nocheck(const uint8_t *p, uint64_t *v)
{
	uint64_t w, stop, x;

	if (p[0] < 0x80) {
		*v = p[0];
		return p + 1;
	}
	if (p[1] < 0x80) {
		*v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		return p + 2;
	}
	memcpy(&w, p, sizeof(w));
	w = le64toh(w);
	stop = ~w & 0x8080808080808080ULL; /* the high bit of each byte that ends the varint */
	if (!stop)
		return pprof_varint_nocheck_long(p, v);
	x = w & (stop ^ (stop - 1)); /* its bytes, through the first ending one */
	/* seven payload bits per byte, gathered: pairs of bytes, then of pairs, then of quads */
	x = (x & 0x007f007f007f007fULL) | (x & 0x7f007f007f007f00ULL) >> 1;
	x = (x & 0x00003fff00003fffULL) | (x & 0x3fff00003fff0000ULL) >> 2;
	x = (x & 0x000000000fffffffULL) | (x & 0x0fffffff00000000ULL) >> 4;
	*v = x;
	return p + (__builtin_ctzll(stop) >> 3) + 1;
}

#endif

/*
 * wire.h — the protobuf wire format: a zero-copy reader over a byte range and a writer that
 * appends to a struct buf. No schema: callers dispatch on field numbers.
 *
 * Reader functions return 0, or -EMBER_EFORMAT on truncated/overlong varints, bad wire types or
 * lengths past the end; wire_offset() then gives the byte offset of the failure relative to the
 * start of the outermost buffer (base).
 */
#ifndef EMBER_BASE_WIRE_H
#define EMBER_BASE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum wire_type {
	WIRE_VARINT = 0,
	WIRE_I64 = 1,
	WIRE_LEN = 2,
	WIRE_SGROUP = 3,
	WIRE_EGROUP = 4,
	WIRE_I32 = 5,
};

struct wire_reader {
	const uint8_t *p;    /* next byte */
	const uint8_t *end;  /* one past the last byte of this (sub)message */
	const uint8_t *base; /* start of the outermost buffer, for offsets */
};

void wire_reader_init(struct wire_reader *r, const void *data, size_t len);
/* A reader over a nested message [p, p+n) that keeps the outer base for offsets. */
struct wire_reader wire_sub(const struct wire_reader *outer, const uint8_t *p, size_t n);
static inline int wire_eof(const struct wire_reader *r)
{
	return r->p >= r->end;
}
static inline size_t wire_offset(const struct wire_reader *r)
{
	return (size_t)(r->p - r->base);
}

int wire_read_varint(struct wire_reader *r, uint64_t *v);
/* Reads a key; rejects field number 0 and wire types 3, 4, 6, 7. */
int wire_read_tag(struct wire_reader *r, uint32_t *field, enum wire_type *wt);
int wire_read_fixed64(struct wire_reader *r, uint64_t *v);
int wire_read_fixed32(struct wire_reader *r, uint32_t *v);
/* Length-delimited payload: *p points into the input (zero-copy). */
int wire_read_len(struct wire_reader *r, const uint8_t **p, size_t *n);
int wire_skip(struct wire_reader *r, enum wire_type wt);

/* Writer: all return 0 or the buf error (-EMBER_ELIMIT / -ENOMEM). */
int wire_put_varint(struct buf *b, uint64_t v);
int wire_put_tag(struct buf *b, uint32_t field, enum wire_type wt);
int wire_put_uint(struct buf *b, uint32_t field, uint64_t v); /* tag + varint */
int wire_put_int(struct buf *b, uint32_t field, int64_t v);   /* int64 as varint */
int wire_put_fixed64(struct buf *b, uint32_t field, uint64_t v);
int wire_put_bytes(struct buf *b, uint32_t field, const void *p, size_t n);
/* Nested message: mark = wire_begin(b); ...write fields...; wire_end(b, field, mark) inserts the
 * tag and length before the body. */
size_t wire_begin(const struct buf *b);
int wire_end(struct buf *b, uint32_t field, size_t mark);
size_t wire_varint_len(uint64_t v);

#endif

/*
 * wire.c — protobuf wire format reader (zero-copy, bounds-checked) and writer (appends to a buf).
 * The reader never reads past r->end; every failure returns -EMBER_EFORMAT with r->p left at
 * the offending byte so wire_offset() can report where.
 */
#include "base/wire.h"

#include <string.h>

#include "base/err.h"

void wire_reader_init(struct wire_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->base = r->p;
}

struct wire_reader wire_sub(const struct wire_reader *outer, const uint8_t *p, size_t n)
{
	struct wire_reader r = {.p = p, .end = p + n, .base = outer->base};

	return r;
}

int wire_read_varint(struct wire_reader *r, uint64_t *v)
{
	const uint8_t *p = r->p;
	uint64_t x = 0;

	/* fast path: one byte */
	if (p < r->end && *p < 0x80) {
		*v = *p;
		r->p = p + 1;
		return 0;
	}
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p >= r->end)
			return -EMBER_EFORMAT; /* truncated; r->p at the varint start */
		uint8_t byte = *p++;

		if (shift == 63 && byte > 1)
			return -EMBER_EFORMAT; /* overflows 64 bits */
		x |= (uint64_t)(byte & 0x7f) << shift;
		if (byte < 0x80) {
			*v = x;
			r->p = p;
			return 0;
		}
	}
	return -EMBER_EFORMAT; /* more than 10 bytes */
}

int wire_read_tag(struct wire_reader *r, uint32_t *field, enum wire_type *wt)
{
	const uint8_t *start = r->p;
	uint64_t key;
	int err = wire_read_varint(r, &key);

	if (err)
		return err;
	if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
		r->p = start;
		return -EMBER_EFORMAT;
	}
	switch (key & 7) {
	case WIRE_VARINT:
	case WIRE_I64:
	case WIRE_LEN:
	case WIRE_I32:
		break;
	default:
		r->p = start;
		return -EMBER_EFORMAT;
	}
	*field = (uint32_t)(key >> 3);
	*wt = (enum wire_type)(key & 7);
	return 0;
}

int wire_read_fixed64(struct wire_reader *r, uint64_t *v)
{
	if (r->end - r->p < 8)
		return -EMBER_EFORMAT;
	memcpy(v, r->p, 8); /* protobuf is little-endian, as is every target we build for */
	r->p += 8;
	return 0;
}

int wire_read_fixed32(struct wire_reader *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return -EMBER_EFORMAT;
	memcpy(v, r->p, 4);
	r->p += 4;
	return 0;
}

int wire_read_len(struct wire_reader *r, const uint8_t **p, size_t *n)
{
	const uint8_t *start = r->p;
	uint64_t len;
	int err = wire_read_varint(r, &len);

	if (err)
		return err;
	if (len > (uint64_t)(r->end - r->p)) {
		r->p = start;
		return -EMBER_EFORMAT;
	}
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return 0;
}

int wire_skip(struct wire_reader *r, enum wire_type wt)
{
	uint64_t v;
	uint32_t v32;
	const uint8_t *p;
	size_t n;

	switch (wt) {
	case WIRE_VARINT:
		return wire_read_varint(r, &v);
	case WIRE_I64:
		return wire_read_fixed64(r, &v);
	case WIRE_LEN:
		return wire_read_len(r, &p, &n);
	case WIRE_I32:
		return wire_read_fixed32(r, &v32);
	default:
		return -EMBER_EFORMAT;
	}
}

size_t wire_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int wire_put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	return buf_append(b, tmp, n);
}

int wire_put_tag(struct buf *b, uint32_t field, enum wire_type wt)
{
	return wire_put_varint(b, ((uint64_t)field << 3) | (uint64_t)wt);
}

int wire_put_uint(struct buf *b, uint32_t field, uint64_t v)
{
	int err = wire_put_tag(b, field, WIRE_VARINT);

	return err ? err : wire_put_varint(b, v);
}

int wire_put_int(struct buf *b, uint32_t field, int64_t v)
{
	return wire_put_uint(b, field, (uint64_t)v);
}

int wire_put_fixed64(struct buf *b, uint32_t field, uint64_t v)
{
	int err = wire_put_tag(b, field, WIRE_I64);

	return err ? err : buf_append(b, &v, 8);
}

int wire_put_bytes(struct buf *b, uint32_t field, const void *p, size_t n)
{
	int err = wire_put_tag(b, field, WIRE_LEN);

	if (!err)
		err = wire_put_varint(b, n);
	return err ? err : buf_append(b, p, n);
}

size_t wire_begin(const struct buf *b)
{
	return b->len;
}

int wire_end(struct buf *b, uint32_t field, size_t mark)
{
	uint8_t hdr[15];
	size_t body = b->len - mark, n = 0;
	uint64_t v = ((uint64_t)field << 3) | WIRE_LEN;
	int err;

	while (v >= 0x80) {
		hdr[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	hdr[n++] = (uint8_t)v;
	v = body;
	while (v >= 0x80) {
		hdr[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	hdr[n++] = (uint8_t)v;
	err = buf_reserve(b, n);
	if (err)
		return err;
	memmove(b->data + mark + n, b->data + mark, body);
	memcpy(b->data + mark, hdr, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

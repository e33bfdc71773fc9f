/*
 * buf.h — a bounded growable byte buffer. The bound (max_bytes) exists because most buffers
 * hold something sized by input: exceeding it returns -EMBER_ELIMIT instead of growing.
 * A plain value struct: embed it, buf_init, use, buf_fini.
 */
#ifndef EMBER_BASE_BUF_H
#define EMBER_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/mem.h"

struct buf {
	uint8_t *data; /* owned; NUL-terminated past len when len < cap */
	size_t len;
	size_t cap;
	size_t max; /* hard bound on len; SIZE_MAX for none */
	enum mem_sub sub;
};

void buf_init(struct buf *b, enum mem_sub sub, size_t max_bytes);
void buf_fini(struct buf *b);
void buf_reset(struct buf *b);
/* Make room for n more bytes. 0, -EMBER_ELIMIT past max, -ENOMEM. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, int c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Take ownership of the data (NUL-terminated); the buf is left empty. */
uint8_t *buf_steal(struct buf *b, size_t *len);

/* Whole-file helpers. path "-" means stdin/stdout. Reads are bounded by max_bytes. */
int buf_read_file(struct buf *b, const char *path);
int buf_read_fd(struct buf *b, int fd);
/* Writes to path via a temporary file + rename (nothing half-written), or stdout for "-". */
int buf_write_file(const struct buf *b, const char *path);

#endif

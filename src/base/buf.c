/*
 * buf.c — bounded growable byte buffers and whole-file read/write helpers. Growth uses
 * mem_try_realloc (sizes here usually come from input), so failures return -ENOMEM instead of
 * aborting. File writes go to a temporary file in the same directory, are fsynced and renamed
 * into place: a reader never sees a half-written file.
 */
#include "base/buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

void buf_init(struct buf *b, enum mem_sub sub, size_t max_bytes)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max_bytes;
	b->sub = sub;
}

void buf_fini(struct buf *b)
{
	mem_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n > b->max || b->len > b->max - n)
		return -EMBER_ELIMIT;
	need = b->len + n + 1; /* room for a terminating NUL */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->max != SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;
	p = mem_try_realloc(b->sub, b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int err = buf_reserve(b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int buf_putc(struct buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return buf_append(b, &ch, 1);
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	char small[256];
	int n, err;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	err = buf_reserve(b, (size_t)n);
	if (err)
		return err;
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

uint8_t *buf_steal(struct buf *b, size_t *len)
{
	uint8_t *p;

	if (buf_reserve(b, 0) != 0 && !b->data)
		return NULL;
	p = b->data;
	if (p)
		p[b->len] = 0;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

int buf_read_fd(struct buf *b, int fd)
{
	for (;;) {
		ssize_t n;
		size_t room;
		int err;

		if (b->len >= b->max) {
			char probe;

			n = read(fd, &probe, 1);
			if (n < 0 && errno == EINTR)
				continue;
			return n == 0 ? 0 : n < 0 ? -errno : -EMBER_ELIMIT;
		}
		room = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
		if (room < 4096) {
			size_t want = EMBER_MIN(EMBER_MAX(b->cap, (size_t)65536), b->max - b->len);

			err = buf_reserve(b, want);
			if (err)
				return err;
			room = b->cap - b->len - 1;
		}
		n = read(fd, b->data + b->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->data[b->len] = 0;
	}
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd, err;

	if (strcmp(path, "-") == 0)
		return buf_read_fd(b, STDIN_FILENO);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = buf_read_fd(b, fd);
	close(fd);
	return err;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int buf_write_file(const struct buf *b, const char *path)
{
	char tmp[4096];
	int fd, err;

	if (strcmp(path, "-") == 0)
		return write_all(STDOUT_FILENO, b->data, b->len);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = write_all(fd, b->data, b->len);
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/*
 * json.h — a streaming JSON writer into a struct buf: correct string escaping (control chars,
 * quotes, invalid UTF-8 replaced), commas placed automatically, bounded nesting.
 */
#ifndef EMBER_FORMAT_JSON_H
#define EMBER_FORMAT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define JSON_MAX_DEPTH 64

struct json_writer {
	struct buf *out;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
	int err; /* first error from the buffer; sticky */
};

void json_init(struct json_writer *w, struct buf *out);
void json_obj_begin(struct json_writer *w);
void json_obj_end(struct json_writer *w);
void json_arr_begin(struct json_writer *w);
void json_arr_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_str(struct json_writer *w, const char *s);
void json_strn(struct json_writer *w, const char *s, size_t n);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_double(struct json_writer *w, double v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* 0 or the first error. */
int json_finish(struct json_writer *w);

#endif

/*
 * otlp_int.h — what the OTLP decoder's files share: the request's ProfilesDictionary as
 * decoded and validated tables (otlp_dict.c), an iterator over repeated varint fields (packed
 * or not), and attribute values. Only src/format/otlp*.c include it.
 */
#ifndef EMBER_FORMAT_OTLP_INT_H
#define EMBER_FORMAT_OTLP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/wire.h"

/* A byte range of the request (a nested message or a string). */
struct otlp_span {
	const uint8_t *p;
	size_t n;
};

struct otlp_func {
	uint32_t name, system_name, filename; /* string indices */
	int64_t start_line;
};

struct otlp_mapping {
	uint64_t start, limit, offset;
	uint32_t filename;
	struct otlp_span msg; /* for attribute_indices (5) */
};

struct otlp_location {
	uint32_t mapping;
	uint64_t address;
	uint32_t n_lines;
	struct otlp_span msg; /* for lines (3) */
};

struct otlp_attr {
	uint32_t key, unit;	/* string indices */
	struct otlp_span value; /* AnyValue; p NULL when absent */
};

struct otlp_link {
	struct otlp_span trace_id, span_id;
};

struct otlp_dict {
	size_t n_strings, n_functions, n_mappings, n_locations, n_stacks, n_attrs, n_links;
	struct otlp_span *strings;
	struct otlp_func *functions;
	struct otlp_mapping *mappings;
	struct otlp_location *locations;
	struct otlp_span *stacks; /* Stack messages */
	uint32_t *stack_len;	  /* locations per stack */
	struct otlp_attr *attrs;
	struct otlp_link *links;
};

#define OTLP_MAX_DICT_CHUNKS 16

/* Decodes and cross-checks the dictionary given as the concatenation of chunks (the field may
 * repeat; repeated fields then concatenate). On error d names the entry and field. */
int otlp_dict_decode(struct otlp_dict *dict, const struct otlp_span *chunks, size_t n_chunks,
		     size_t max_table, struct ember_diag *d);
void otlp_dict_fini(struct otlp_dict *dict);

/* The varints of field `field` in a message, packed or one per tag, in order. */
struct otlp_ints {
	struct wire_reader r;
	uint32_t field;
	struct wire_reader packed; /* inside a packed run when p < end */
};

void otlp_ints_init(struct otlp_ints *it, struct otlp_span msg, uint32_t field);
/* 1 with *v set, 0 at the end, -EMBER_EFORMAT on malformed input. */
int otlp_ints_next(struct otlp_ints *it, uint64_t *v);

/* Checks an index field: 0 or < n. The error names path and table. */
int otlp_check_index(uint64_t v, size_t n, const char *table, struct ember_diag *d,
		     const char *path_fmt, ...) __attribute__((format(printf, 5, 6)));

enum otlp_value_kind {
	OTLP_VALUE_NONE, /* absent, or a kind that has no scalar text (array, kvlist, bytes) */
	OTLP_VALUE_STR,
	OTLP_VALUE_INT,
	OTLP_VALUE_BOOL,
	OTLP_VALUE_DOUBLE,
};

struct otlp_value {
	enum otlp_value_kind kind;
	struct otlp_span str;
	int64_t i;
	double f;
};

/* Reads an AnyValue (string_value_strindex resolved through the dictionary). */
int otlp_any_value(const struct otlp_dict *dict, struct otlp_span msg, struct otlp_value *out,
		   struct ember_diag *d, const char *path);
/* The value as text into out (cap bytes, NUL-terminated); returns its length. */
size_t otlp_value_text(const struct otlp_value *v, char *out, size_t cap);

int otlp_malformed(struct ember_diag *d, const char *path);

#endif

/*
 * strtab.h — interning of byte strings (any bytes, not only text) to dense uint32_t ids.
 * Id 0 is always the empty string. Stored bytes are NUL-terminated and never move, so the
 * pointers strtab_get returns stay valid until strtab_free. Used for string tables and, with
 * binary keys, for deduplicating composite records (locations, label sets).
 */
#ifndef EMBER_BASE_STRTAB_H
#define EMBER_BASE_STRTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/mem.h"

struct strtab;

struct strtab *strtab_new(enum mem_sub sub);
void strtab_free(struct strtab *st);
/* Id of s[0..len), adding it when new. Aborts if the table passes UINT32_MAX entries. */
uint32_t strtab_intern(struct strtab *st, const void *s, size_t len);
/* Interns string `id` of src into st, reusing the hash src keeps (tables share the seed). */
uint32_t strtab_intern_from(struct strtab *st, const struct strtab *src, uint32_t id);
uint32_t strtab_intern_cstr(struct strtab *st, const char *s);
/* Id when present. */
bool strtab_find(const struct strtab *st, const void *s, size_t len, uint32_t *id);
/* Bytes of id (len optional). id must be < strtab_count. */
const char *strtab_get(const struct strtab *st, uint32_t id, size_t *len);
uint32_t strtab_count(const struct strtab *st);
size_t strtab_bytes(const struct strtab *st);

#endif

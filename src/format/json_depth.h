/*
 * json_depth.h — checks the nesting depth of a JSON text before a JSON parser sees it.
 */
#ifndef EMBER_FORMAT_JSON_DEPTH_H
#define EMBER_FORMAT_JSON_DEPTH_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the objects/arrays of s[0..n) nest at most max deep (strings skipped), else 0. */
int json_depth_ok(const uint8_t *s, size_t n, int max);

#endif

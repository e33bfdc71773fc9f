/*
 * utf8.h — UTF-8 decoding for the text writers (JSON, XML/SVG): one code point at a time,
 * strict (no overlongs, no surrogates, nothing past U+10FFFF). Invalid input is reported as
 * UTF8_BAD over its maximal valid prefix, so callers replace it with one U+FFFD per error the
 * way browsers do. Pure functions; no allocation.
 */
#ifndef EMBER_FORMAT_UTF8_H
#define EMBER_FORMAT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_BAD 0xFFFFFFFFu

/* Decodes the sequence at s[0..n), n >= 1. Returns the bytes consumed (1..4) and sets *cp to
 * the code point, or to UTF8_BAD for an invalid sequence (then the return value covers its
 * maximal valid prefix, at least 1 byte). */
size_t utf8_next(const uint8_t *s, size_t n, uint32_t *cp);

/* Encodes cp (<= U+10FFFF, not a surrogate) into out; returns the length 1..4. */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif

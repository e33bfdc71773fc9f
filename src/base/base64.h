/*
 * base64.h — decoding base64 (RFC 4648), standard and URL-safe alphabets alike, padding
 * optional. Used for HTTP Basic credentials and Connect JSON `bytes` fields.
 */
#ifndef EMBER_BASE_BASE64_H
#define EMBER_BASE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* The decoded size of n base64 characters, at most (for sizing `out`). */
#define BASE64_DECODED_MAX(n) (((n) / 4 + 1) * 3)

/* Decodes s[0..n) into out (at most cap bytes). Trailing '=' are ignored; any other character
 * outside the two alphabets, a length that cannot be base64 (n % 4 == 1 after the padding) or
 * an output longer than cap gives -1. Returns the number of bytes written. */
long base64_decode(const char *s, size_t n, uint8_t *out, size_t cap);

#endif

/*
 * hash.c — a fast 64-bit hash over byte strings (multiply-mix over 8-byte words, in the spirit of
 * wyhash/murmur finalizers). Not cryptographic.
 */
#include "base/hash.h"

#include <string.h>

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t hash_bytes(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
	uint64_t h = seed ^ mix(seed ^ k0, n ^ k1);

	while (n >= 16) {
		h = mix(load64(p) ^ k1, load64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	if (n >= 8) {
		h = mix(load64(p) ^ k1, h ^ k0);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t t = 0;

		memcpy(&t, p, n);
		h = mix(t ^ k1, h ^ (n << 56) ^ k0);
	}
	return mix(h ^ k0, h ^ k1);
}

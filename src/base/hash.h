/*
 * hash.h — fast non-cryptographic 64-bit hashing for hash tables (not for untrusted-key DoS
 * resistance beyond the per-table seed).
 */
#ifndef EMBER_BASE_HASH_H
#define EMBER_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

static inline uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Combines two 64-bit words into one well-mixed word with one 64x64->128 multiply (the
 * wyhash mix), cheap enough to chain over a record's fields; finish with hash_u64 when the low
 * bits index a table. The trailing ^ a ^ b keeps it from collapsing when one factor is zero. */
static inline uint64_t hash_mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)(a ^ 0xa0761d6478bd642fULL) * (b ^ 0xe7037ed1a0b428dbULL);

	return ((uint64_t)r ^ (uint64_t)(r >> 64)) ^ a ^ b;
}

#endif

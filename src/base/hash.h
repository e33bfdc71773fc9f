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

#endif

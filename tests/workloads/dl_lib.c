/*
 * dl_lib.c — the shared library dl_main.c loads with dlopen after it has started, for the
 * mapping-refresh tests. Built with -O2 -fomit-frame-pointer -shared -fPIC.
 */
#include <stdint.h>

uint64_t dl_burn(uint64_t n);

__attribute__((noinline)) static uint64_t dl_inner(uint64_t n)
{
	uint64_t x = n;
	for (uint64_t i = 0; i < n; i++)
		x = x * 2862933555777941757ull + 3037000493ull;
	return x;
}

uint64_t dl_burn(uint64_t n)
{
	return dl_inner(n) + 1;
}

/*
 * syscalls.c — a syscall-heavy workload for the kernel-stack tests: a loop that reads
 * /dev/zero and writes /dev/null in 64 KiB blocks, so most of its CPU time is in the kernel
 * under user frames main -> copy_loop -> read/write. Built with -O2 -fomit-frame-pointer.
 * Usage: syscalls SECONDS
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char block[65536];

__attribute__((noinline)) static long copy_loop(int in, int out, double seconds)
{
	struct timespec t0, t;
	long n = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 64; i++) {
			if (read(in, block, sizeof(block)) <= 0 ||
			    write(out, block, sizeof(block)) <= 0)
				return -1;
			n++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return n;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 2;
	int in = open("/dev/zero", O_RDONLY), out = open("/dev/null", O_WRONLY);
	if (in < 0 || out < 0)
		return 1;
	return copy_loop(in, out, seconds) < 0;
}

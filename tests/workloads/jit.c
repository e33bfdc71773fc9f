/*
 * jit.c — JIT-like code for the perf-map tests: copies a tiny spin loop (with a frame-pointer
 * prologue, as JITs emit) into anonymous executable memory, names it in /tmp/perf-PID.map, and
 * calls it from frame-pointer-less C code for SECONDS of CPU time; half the time goes to a C
 * leaf for comparison. Removes the map file at exit. x86-64 only.
 * Usage: jit SECONDS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* push rbp; mov rbp,rsp; mov rcx,rdi; 1: dec rcx; jnz 1b; pop rbp; ret */
static const uint8_t spin_code[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf9,
				    0x48, 0xff, 0xc9, 0x75, 0xfb, 0x5d, 0xc3};

static volatile uint64_t sink;

__attribute__((noinline)) static void c_spin(uint64_t n)
{
	uint64_t x = sink;
	for (uint64_t i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1;
	sink = x;
}

__attribute__((noinline)) static void run_jit(void (*fn)(uint64_t), uint64_t n)
{
	fn(n);
	sink++;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 2;
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem + 64, spin_code, sizeof(spin_code));
	char path[64];
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	FILE *f = fopen(path, "w");
	if (!f)
		return 1;
	fprintf(f, "%lx %zx jit_spin\n", (unsigned long)(uintptr_t)(mem + 64), sizeof(spin_code));
	fclose(f);
	void (*fn)(uint64_t) = (void (*)(uint64_t))(uintptr_t)(mem + 64);
	double end = cpu_s() + seconds;
	while (cpu_s() < end) {
		run_jit(fn, 2000000);
		c_spin(1000000);
	}
	unlink(path);
	return 0;
}

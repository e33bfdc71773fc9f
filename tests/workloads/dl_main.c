/*
 * dl_main.c — runs for a while, then dlopens LIB (argv[2]) and spends its CPU time in the
 * library's dl_burn: samples land in a mapping that did not exist when the profiler first read
 * the process's maps. Usage: dl_main SECONDS LIB
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint64_t sink;

__attribute__((noinline)) static void before(double until)
{
	while (cpu_s() < until)
		sink = sink * 6364136223846793005ull + 1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	double seconds = strtod(argv[1], NULL);
	before(0.2);
	void *h = dlopen(argv[2], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	uint64_t (*burn)(uint64_t) = (uint64_t(*)(uint64_t))dlsym(h, "dl_burn");
	if (!burn)
		return 1;
	while (cpu_s() < seconds)
		sink += burn(1000000);
	dlclose(h);
	return 0;
}

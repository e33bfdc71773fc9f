/*
 * sleeper.c — an off-CPU workload whose true distribution is known, for the agent's
 * --off-cpu test. Built with -O2 -fomit-frame-pointer. Each round, wait_long blocks in
 * nanosleep for 30 ms and wait_short for 10 ms, both reached through DEPTH recursive frames,
 * so 75% of the time blocked is under wait_long and 25% under wait_short; the CPU used is
 * negligible. Usage: sleeper SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DEPTH 20

static void nap(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

__attribute__((noinline)) static int descend(int depth, long ms)
{
	if (depth == 0) {
		nap(ms);
		return 0;
	}
	return descend(depth - 1, ms) + 1; /* not a tail call */
}

/* "+ 1": not tail calls, so that these frames stay on the stack. */
__attribute__((noinline)) int wait_long(void)
{
	return descend(DEPTH, 30) + 1;
}

__attribute__((noinline)) int wait_short(void)
{
	return descend(DEPTH, 10) + 1;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3;
	long rounds = (long)(seconds * 1000 / 40);
	int sum = 0;

	for (long i = 0; i < rounds; i++)
		sum += wait_long() + wait_short();
	printf("%d\n", sum);
	return 0;
}

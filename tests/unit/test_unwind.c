/*
 * test_unwind.c — unwind tables and the walker on real code: tables built from this test
 * binary's and libc's .eh_frame (row shapes at function entry, the PLT, _start's outermost
 * row), and a walk of this very thread's stack, captured with inline assembly and copied,
 * through frames compiled without frame pointers and through libc's qsort calling back into
 * our comparator, which must reach the outermost frame (_start or clone). Also the walker's
 * bounds on a hostile (garbage) stack copy.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/unwind.h"
#include "base/err.h"
#include "symb/symb.h"
#include "test.h"

/* The exact file mapped at x: /proc/self/map_files, not x->path, which a concurrent rebuild of
 * this test binary may have replaced. */
static const char *mapped_file(const struct symb_map *x, char *buf, size_t n)
{
	snprintf(buf, n, "/proc/self/map_files/%llx-%llx", (unsigned long long)x->start,
		 (unsigned long long)x->end);
	return buf;
}

static const struct unwind_table *g_tables[64];
static uint64_t g_table_start[64], g_table_end[64], g_table_bias[64];
static size_t g_n_tables;

/* Builds tables for every executable file mapping of this process (once per test). */
static int load_self(struct symb_maps *m)
{
	char mf[128];
	symb_maps_init(m);
	int rc = symb_maps_read(m, getpid());
	if (rc != 0)
		return rc;
	g_n_tables = 0;
	for (size_t i = 0; i < m->len && g_n_tables < 64; i++) {
		const struct symb_map *x = &m->maps[i];
		if (!(x->perms & SYMB_MAP_X) || x->path[0] != '/')
			continue;
		struct unwind_table *t = NULL;
		struct symb_elf *e = NULL;
		uint64_t vaddr;
		if (unwind_table_build(mapped_file(x, mf, sizeof(mf)), &t) != 0)
			continue;
		if (symb_elf_open(mapped_file(x, mf, sizeof(mf)), NULL, &e) != 0 ||
		    symb_elf_offset_to_vaddr(e, x->offset, &vaddr) != 0) {
			symb_elf_free(e);
			unwind_table_free(t);
			continue;
		}
		symb_elf_free(e);
		g_tables[g_n_tables] = t;
		g_table_start[g_n_tables] = x->start;
		g_table_end[g_n_tables] = x->end;
		g_table_bias[g_n_tables] = x->start - vaddr;
		g_n_tables++;
	}
	return 0;
}

static void free_self(struct symb_maps *m)
{
	for (size_t i = 0; i < g_n_tables; i++)
		unwind_table_free((struct unwind_table *)g_tables[i]);
	g_n_tables = 0;
	symb_maps_fini(m);
}

static bool lookup(void *ctx, uint64_t pc, const struct unwind_table **table, uint64_t *bias)
{
	const struct symb_maps *m = ctx;
	for (size_t i = 0; i < g_n_tables; i++) {
		if (pc >= g_table_start[i] && pc < g_table_end[i]) {
			*table = g_tables[i];
			*bias = g_table_bias[i];
			return true;
		}
	}
	const struct symb_map *x = symb_maps_find(m, pc);
	*table = NULL;
	*bias = 0;
	return x && (x->perms & SYMB_MAP_X);
}

TEST(unwind_table_self)
{
	char mf[128];
	struct unwind_table *t = NULL;
	CHECK_OK(unwind_table_build("/proc/self/exe", &t));
	CHECK(unwind_table_n_rows(t) > 100);
	const struct ember_unwind_row *rows = unwind_table_rows(t);
	for (size_t i = 1; i < unwind_table_n_rows(t); i++)
		CHECK(rows[i].pc > rows[i - 1].pc);
	/* The first instruction of a function: CFA = rsp + 8, the return address on top. */
	struct symb_maps m;
	symb_maps_init(&m);
	CHECK_OK(symb_maps_read(&m, getpid()));
	uint64_t pc = (uint64_t)(uintptr_t)&unwind_table_build;
	const struct symb_map *x = symb_maps_find(&m, pc);
	CHECK(x != NULL);
	struct symb_elf *e = NULL;
	CHECK_OK(symb_elf_open(mapped_file(x, mf, sizeof(mf)), NULL, &e));
	uint64_t vaddr;
	CHECK_OK(symb_elf_offset_to_vaddr(e, pc - x->start + x->offset, &vaddr));
	const struct ember_unwind_row *r = unwind_table_find(t, vaddr);
	CHECK(r != NULL);
	CHECK_EQ_INT(r->cfa_type, EMBER_CFA_RSP);
	CHECK_EQ_INT(r->cfa_offset, 8);
	CHECK_EQ_INT(r->rbp_type, EMBER_RBP_SAME);
	symb_elf_free(e);
	symb_maps_fini(&m);
	CHECK(unwind_table_find(t, 0) == NULL);
	unwind_table_free(t);
	CHECK_EQ_INT(unwind_table_build("/nonexistent", &t), -ENOENT);
	CHECK(unwind_table_build("/proc/self/status", &t) < 0);
}

TEST(unwind_table_libc)
{
	char mf[128];
	struct symb_maps m;
	symb_maps_init(&m);
	CHECK_OK(symb_maps_read(&m, getpid()));
	const struct symb_map *x = NULL;
	for (size_t i = 0; i < m.len && !x; i++)
		if ((m.maps[i].perms & SYMB_MAP_X) && strstr(m.maps[i].path, "/libc.so"))
			x = &m.maps[i];
	CHECK(x != NULL);
	struct unwind_table *t = NULL;
	CHECK_OK(unwind_table_build(mapped_file(x, mf, sizeof(mf)), &t));
	size_t n = unwind_table_n_rows(t), by_type[8] = {0};
	CHECK(n > 1000);
	for (size_t i = 0; i < n; i++)
		by_type[unwind_table_rows(t)[i].cfa_type & 7]++;
	/* Almost every row is a plain rsp/rbp rule; clone/start_thread have outermost rows. */
	CHECK(by_type[EMBER_CFA_RSP] + by_type[EMBER_CFA_RBP] > n * 8 / 10);
	CHECK(by_type[EMBER_CFA_OUTERMOST] >= 1);
	unwind_table_free(t);
	symb_maps_fini(&m);
}

/* The stack capture: registers of this frame and a copy of the stack above them. */
static uint8_t g_stack[65536];
static volatile size_t g_stack_len;
static struct unwind_regs g_regs;
static uint64_t g_stack_end;

/* Not instrumented: it copies stack memory that ASan keeps poisoned as redzones. */
__attribute__((noinline, no_sanitize_address)) static void capture(void)
{
	uint64_t ip, sp, bp;
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
			 : "=r"(ip), "=r"(sp), "=r"(bp));
	g_regs.ip = ip;
	g_regs.sp = sp;
	g_regs.bp = bp;
	size_t n = sizeof(g_stack);
	if (g_stack_end > sp && g_stack_end - sp < n)
		n = (size_t)(g_stack_end - sp);
	const volatile uint8_t *src = (const volatile uint8_t *)(uintptr_t)sp;
	for (size_t i = 0; i < n; i++)
		g_stack[i] = src[i];
	g_stack_len = n;
}

static volatile int g_sink;

__attribute__((noinline)) static int cmp_capture(const void *a, const void *b)
{
	if (g_stack_len == 0)
		capture();
	return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static int deep(int n)
{
	if (n == 0) {
		int v[8] = {5, 3, 7, 1, 9, 2, 8, 4};
		qsort(v, 8, sizeof(v[0]), cmp_capture);
		return v[0];
	}
	int r = deep(n - 1);
	g_sink += r;
	return r + 1;
}

TEST(unwind_walk_self_through_qsort)
{
	char mf[128];
	struct symb_maps m;
	CHECK_OK(load_self(&m));
	/* The end of this thread's stack mapping bounds the copy. */
	uint64_t here = (uint64_t)(uintptr_t)&m;
	struct symb_maps all;
	symb_maps_init(&all);
	CHECK_OK(symb_maps_read(&all, getpid()));
	const struct symb_map *st = symb_maps_find(&all, here);
	CHECK(st != NULL);
	g_stack_end = st->end;
	symb_maps_fini(&all);

	g_stack_len = 0;
	CHECK(deep(70) > 0);
	CHECK(g_stack_len > 0);
	uint64_t pcs[UNWIND_MAX_FRAMES];
	struct unwind_result res;
	unwind_walk(&g_regs, g_stack, g_stack_len, lookup, &m, pcs, UNWIND_MAX_FRAMES, &res);
	if (res.stop != UNWIND_STOP_OUTERMOST)
		test_fail(__FILE__, __LINE__, "walk ended with %s after %zu frames",
			  unwind_stop_name(res.stop), res.n);
	CHECK(res.stop == UNWIND_STOP_OUTERMOST);
	CHECK(res.n > 75);
	/* Name the frames: cmp_capture, then qsort's internals, then 71 x deep, ..., main. */
	size_t n_deep = 0;
	bool saw_qsort_caller = false, saw_main = false;
	for (size_t i = 0; i < res.n; i++) {
		struct symb_elf *e = NULL;
		const struct symb_map *x = symb_maps_find(&m, pcs[i] - (i > 0));
		uint64_t vaddr;
		if (!x || symb_elf_open(mapped_file(x, mf, sizeof(mf)), NULL, &e) != 0)
			continue;
		const char *name = NULL;
		if (symb_elf_offset_to_vaddr(e, pcs[i] - (i > 0) - x->start + x->offset, &vaddr) ==
		    0)
			name = symb_elf_lookup(e, vaddr, NULL);
		if (name && strcmp(name, "deep") == 0)
			n_deep++;
		if (name && strcmp(name, "deep") == 0 && n_deep == 1 && i > 2)
			saw_qsort_caller = true;
		if (name && strcmp(name, "main") == 0)
			saw_main = true;
		symb_elf_free(e);
	}
	free_self(&m);
	CHECK(n_deep >= 60);
	CHECK(saw_qsort_caller);
	CHECK(saw_main);
}

static void on_usr1(int sig)
{
	(void)sig;
	if (g_stack_len == 0)
		capture();
}

__attribute__((noinline)) static int deep_signal(int n)
{
	if (n == 0) {
		raise(SIGUSR1);
		return 1;
	}
	int r = deep_signal(n - 1);
	g_sink += r;
	return r + 1;
}

/* Through the kernel's signal frame: handler -> __restore_rt -> the interrupted frames. */
TEST(unwind_walk_signal_frame)
{
	struct symb_maps m;
	CHECK_OK(load_self(&m));
	struct symb_maps all;
	symb_maps_init(&all);
	CHECK_OK(symb_maps_read(&all, getpid()));
	const struct symb_map *st = symb_maps_find(&all, (uint64_t)(uintptr_t)&m);
	CHECK(st != NULL);
	g_stack_end = st->end;
	symb_maps_fini(&all);

	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	CHECK_OK(sigaction(SIGUSR1, &sa, &old));
	g_stack_len = 0;
	deep_signal(20);
	sigaction(SIGUSR1, &old, NULL);
	CHECK(g_stack_len > 0);
	uint64_t pcs[UNWIND_MAX_FRAMES];
	struct unwind_result res;
	unwind_walk(&g_regs, g_stack, g_stack_len, lookup, &m, pcs, UNWIND_MAX_FRAMES, &res);
	free_self(&m);
	if (res.stop != UNWIND_STOP_OUTERMOST)
		test_fail(__FILE__, __LINE__, "walk ended with %s after %zu frames",
			  unwind_stop_name(res.stop), res.n);
	CHECK(res.stop == UNWIND_STOP_OUTERMOST);
	CHECK(res.n > 25);
}

TEST(unwind_walk_garbage_is_bounded)
{
	struct symb_maps m;
	CHECK_OK(load_self(&m));
	uint8_t junk[4096];
	uint64_t pcs[UNWIND_MAX_FRAMES];
	struct unwind_result res;
	uint64_t seed = 0x1234;
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			junk[i] = (uint8_t)(seed >> 56);
		}
		/* Plant plausible return addresses so walks go somewhere. */
		uint64_t ra = (uint64_t)(uintptr_t)&deep + (seed & 63);
		memcpy(junk + (seed >> 20) % 4000, &ra, 8);
		struct unwind_regs r = {.ip = (uint64_t)(uintptr_t)&capture + (seed & 31),
					.sp = 0x7ffd00000000,
					.bp = 0x7ffd00000000 + (seed >> 40) % 5000};
		unwind_walk(&r, junk, sizeof(junk), lookup, &m, pcs, UNWIND_MAX_FRAMES, &res);
		CHECK(res.n >= 1 && res.n <= UNWIND_MAX_FRAMES);
		CHECK(res.stop < UNWIND_STOP_N);
	}
	struct unwind_regs r = {.ip = 1, .sp = 0, .bp = 0};
	unwind_walk(&r, junk, 0, lookup, &m, pcs, UNWIND_MAX_FRAMES, &res);
	CHECK_EQ_INT(res.stop, UNWIND_STOP_NO_MAPPING);
	CHECK_EQ_INT(res.n, 1);
	free_self(&m);
	CHECK_EQ_STR(unwind_stop_name(UNWIND_STOP_OUTERMOST), "complete");
}

/*
 * test_symb.c — symbolization: /proc/PID/maps parsing (pseudo paths, deleted files, bad lines,
 * unsorted input), kallsyms parsing and lookup (modules, non-text symbols, kptr_restrict),
 * perf maps (overlaps: last wins), demangling, and ELF symbol lookup on this test binary and
 * on libc through their live mappings (PIE/ASLR bias via PT_LOAD); the bounded xz decoder and
 * MiniDebugInfo (a program built and stripped here the way Fedora does it); DWARF lines and
 * inline frames of this test binary (and what a lookup costs), of a stripped program through
 * its debug file found by build id, and through the agent and collector into a profile.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/err.h"
#include "base/mem.h"
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

TEST(symb_maps_parse)
{
	static const char text[] =
		"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234   /usr/bin/prog\n"
		"55d0c0a02000-55d0c0a05000 r-xp 00002000 08:01 1234   /usr/bin/prog\n"
		"this line is garbage\n"
		"7f0000000000-7f0000001000 rwxp 00000000 00:00 0 \n"
		"7f0000001000-7f0000002000 r-xp 00001000 fd:02 99 /tmp/lib with space.so "
		"(deleted)\n"
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]\n"
		"7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0      [vdso]\n"
		"10-5 r-xp 0 0:0 0 /bad/range\n"
		"1000-2000 r-xp 0 0:0 0\n";
	struct symb_maps m;
	symb_maps_init(&m);
	CHECK_OK(symb_maps_parse(&m, text, sizeof(text) - 1));
	CHECK_EQ_INT(m.len, 7);
	const struct symb_map *x = symb_maps_find(&m, 0x55d0c0a03000);
	CHECK(x != NULL);
	CHECK_EQ_STR(x->path, "/usr/bin/prog");
	CHECK_EQ_INT(x->offset, 0x2000);
	CHECK_EQ_INT(x->perms, SYMB_MAP_R | SYMB_MAP_X | SYMB_MAP_P);
	CHECK_EQ_INT(x->inode, 1234);
	CHECK_EQ_INT(x->dev_major, 8);
	x = symb_maps_find(&m, 0x7f0000001800);
	CHECK(x != NULL && x->deleted);
	CHECK_EQ_STR(x->path, "/tmp/lib with space.so");
	CHECK_EQ_INT(x->dev_major, 0xfd);
	x = symb_maps_find(&m, 0x7ffd00100010);
	CHECK(x != NULL);
	CHECK_EQ_STR(x->path, "[vdso]");
	CHECK(symb_maps_find(&m, 0x1500) != NULL); /* sorted although written last */
	CHECK_EQ_STR(symb_maps_find(&m, 0x1500)->path, "");
	CHECK(symb_maps_find(&m, 0x2000) == NULL);
	CHECK(symb_maps_find(&m, 0x55d0c0a05000) == NULL);
	symb_maps_fini(&m);
}

TEST(symb_maps_read_self)
{
	struct symb_maps m;
	symb_maps_init(&m);
	CHECK_OK(symb_maps_read(&m, getpid()));
	const struct symb_map *x = symb_maps_find(&m, (uint64_t)(uintptr_t)&symb_maps_parse);
	CHECK(x != NULL);
	CHECK(x->perms & SYMB_MAP_X);
	CHECK(strstr(x->path, "unit") != NULL);
	symb_maps_fini(&m);
	symb_maps_init(&m);
	CHECK_EQ_INT(symb_maps_read(&m, 0x3fffffff), -ENOENT);
	symb_maps_fini(&m);
}

TEST(symb_kallsyms_parse)
{
	static const char text[] = "ffffffff81000000 T _stext\n"
				   "ffffffff81000100 t helper\n"
				   "ffffffff81000100 T helper_alias\n"
				   "ffffffff81000200 D some_data\n"
				   "ffffffff81000300 T do_syscall_64\n"
				   "garbage\n"
				   "ffffffffc0000000 t mod_fn\t[nf_tables]\n"
				   "ffffffffc0000100 W weak_fn [kvm]\n";
	struct symb_kallsyms *k = NULL;
	CHECK_OK(symb_kallsyms_parse(text, sizeof(text) - 1, &k));
	CHECK_EQ_INT(symb_kallsyms_count(k), 6);
	const char *mod = "x";
	uint64_t off = 0;
	const char *name = symb_kallsyms_lookup(k, 0xffffffff81000150, &mod, &off);
	CHECK(name != NULL);
	CHECK_EQ_STR(name, "helper");
	CHECK(mod == NULL);
	CHECK_EQ_INT(off, 0x50);
	/* Data symbols are not text: the previous text symbol covers the address. */
	CHECK_EQ_STR(symb_kallsyms_lookup(k, 0xffffffff81000250, NULL, NULL), "helper");
	name = symb_kallsyms_lookup(k, 0xffffffffc0000010, &mod, NULL);
	CHECK_EQ_STR(name, "mod_fn");
	CHECK(mod != NULL);
	CHECK_EQ_STR(mod, "nf_tables");
	CHECK_EQ_STR(symb_kallsyms_lookup(k, 0xffffffffc0000100, &mod, NULL), "weak_fn");
	CHECK_EQ_STR(mod, "kvm");
	CHECK(symb_kallsyms_lookup(k, 0xffffffff80000000, NULL, NULL) == NULL);
	CHECK(symb_kallsyms_lookup(k, 0xffffffffd0000000, NULL, NULL) == NULL);
	symb_kallsyms_free(k);

	static const char hidden[] = "0000000000000000 T _stext\n0000000000000000 T x\n";
	k = NULL;
	CHECK_EQ_INT(symb_kallsyms_parse(hidden, sizeof(hidden) - 1, &k), -EMBER_ENOTFOUND);
	CHECK(k == NULL);
}

TEST(symb_kallsyms_live)
{
	struct symb_kallsyms *k = NULL;
	int rc = symb_kallsyms_load(NULL, &k);
	if (rc == -EMBER_ENOTFOUND)
		SKIP("kallsyms addresses are hidden (kptr_restrict, not root)");
	CHECK_OK(rc);
	CHECK(symb_kallsyms_count(k) > 1000);
	symb_kallsyms_free(k);
}

TEST(symb_perfmap)
{
	static const char text[] = "7f0000001000 100 LazyCompile:~foo /app.js:1\n"
				   "not a line\n"
				   "7f0000002000 0 zero_size\n"
				   "7f0000001000 100 LazyCompile:*foo /app.js:1\n"
				   "7f0000001080 40 py::bar:/x.py\n";
	struct symb_perfmap *pm = NULL;
	CHECK_OK(symb_perfmap_parse(text, sizeof(text) - 1, &pm));
	CHECK_EQ_INT(symb_perfmap_count(pm), 3);
	CHECK_EQ_STR(symb_perfmap_lookup(pm, 0x7f0000001010), "LazyCompile:*foo /app.js:1");
	CHECK_EQ_STR(symb_perfmap_lookup(pm, 0x7f0000001090), "py::bar:/x.py");
	CHECK_EQ_STR(symb_perfmap_lookup(pm, 0x7f00000010c0), "LazyCompile:*foo /app.js:1");
	CHECK(symb_perfmap_lookup(pm, 0x7f0000001100) == NULL);
	CHECK(symb_perfmap_lookup(pm, 0x7f0000000fff) == NULL);
	symb_perfmap_free(pm);
}

TEST(symb_demangle)
{
	char out[256];
	CHECK(symb_demangle("_ZN3foo3barEv", out, sizeof(out)));
	CHECK_EQ_STR(out, "foo::bar()");
	CHECK(symb_demangle("_ZN4core3fmt5write17h0123456789abcdefE", out, sizeof(out)));
	CHECK_EQ_STR(out, "core::fmt::write");
	CHECK(symb_demangle("_RNvCs1234_7mycrate3foo", out, sizeof(out)));
	CHECK_EQ_STR(out, "mycrate::foo");
	CHECK(!symb_demangle("main", out, sizeof(out)));
	CHECK(!symb_demangle("_Zgarbage", out, sizeof(out)));
	char small[8];
	CHECK(symb_demangle("_ZN3foo3barEv", small, sizeof(small)));
	CHECK_EQ_INT(strlen(small), 7);
}

/* Looks up the symbol of a live code address through /proc/self/maps, as the agent does. */
static const char *name_of(void *fn, struct symb_elf **out_elf)
{
	char mf[128];
	struct symb_maps m;
	symb_maps_init(&m);
	const char *name = NULL;
	*out_elf = NULL;
	if (symb_maps_read(&m, getpid()) == 0) {
		uint64_t pc = (uint64_t)(uintptr_t)fn;
		const struct symb_map *x = symb_maps_find(&m, pc);
		uint64_t vaddr;
		if (x && symb_elf_open(mapped_file(x, mf, sizeof(mf)), NULL, out_elf) == 0 &&
		    symb_elf_offset_to_vaddr(*out_elf, pc - x->start + x->offset, &vaddr) == 0)
			name = symb_elf_lookup(*out_elf, vaddr, NULL);
	}
	symb_maps_fini(&m);
	return name;
}

TEST(symb_elf_self_and_libc)
{
	struct symb_elf *e;
	const char *name = name_of((void *)&symb_kallsyms_parse, &e);
	CHECK(e != NULL);
	CHECK(name != NULL);
	CHECK_EQ_STR(name, "symb_kallsyms_parse");
	CHECK(symb_elf_has_symtab(e));
	CHECK_EQ_INT(symb_elf_type(e), ET_DYN);
	char hex[2 * SYMB_BUILD_ID_MAX + 1];
	symb_elf_build_id_hex(e, hex, sizeof(hex));
	CHECK(strlen(hex) >= 16);
	symb_elf_free(e);

	/* libc's own qsort (under ASan, &qsort is the sanitizer's interceptor). */
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	CHECK(libc != NULL);
	void *fn = dlsym(libc, "qsort");
	dlclose(libc);
	CHECK(fn != NULL);
	name = name_of(fn, &e);
	CHECK(e != NULL);
	CHECK(name != NULL);
	CHECK_EQ_STR(name, "qsort");
	CHECK(symb_elf_n_symbols(e) > 1000);
	symb_elf_free(e);

	CHECK(symb_elf_open("/nonexistent/file", NULL, &e) == -ENOENT);
	CHECK(symb_elf_open("/proc/self/status", NULL, &e) == -EMBER_EFORMAT);
}

/* ---- MiniDebugInfo ------------------------------------------------------------------------ */

TEST(symb_xz_decode_bounds)
{
	/* Small valid streams made by xz(1) would need the tool; liblzma encodes them here. */
	static const char text[] = "MiniDebugInfo is an xz-compressed ELF with a .symtab.";
	uint8_t enc[4096];
	size_t n = 0;
	CHECK(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)text,
				      sizeof(text), enc, &n, sizeof(enc)) == LZMA_OK);
	void *out;
	size_t len;
	CHECK_OK(symb_xz_decode(enc, n, &out, &len));
	CHECK_EQ_INT(len, sizeof(text));
	CHECK(memcmp(out, text, len) == 0);
	mem_free(out);
	/* Truncated, and not xz at all. */
	CHECK_EQ_INT(symb_xz_decode(enc, n - 5, &out, &len), -EMBER_EFORMAT);
	CHECK(out == NULL);
	CHECK_EQ_INT(symb_xz_decode(text, sizeof(text), &out, &len), -EMBER_EFORMAT);
	/* A bomb: 16 MiB of zeros compress ~1000x, past the ratio bound. */
	size_t big = (size_t)16 << 20;
	uint8_t *zeros = mem_calloc(MEM_SYMB, 1, big);
	size_t cap = 1 << 20;
	uint8_t *bomb = mem_alloc(MEM_SYMB, cap);
	n = 0;
	CHECK(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, zeros, big, bomb, &n, cap) ==
	      LZMA_OK);
	mem_free(zeros);
	CHECK(n * SYMB_XZ_MAX_RATIO + 65536 < big);
	int rc = symb_xz_decode(bomb, n, &out, &len);
	mem_free(bomb);
	CHECK_EQ_INT(rc, -EMBER_ELIMIT);
	CHECK_EQ_INT(symb_xz_out_bound(SYMB_XZ_MAX_IN + 1), 0);
	CHECK_EQ_INT(symb_xz_out_bound(SYMB_XZ_MAX_IN), SYMB_XZ_MAX_OUT);
}

/* Builds the MiniDebugInfo test program in dir the way Fedora's find-debuginfo does: a local
 * function only .symtab names; the .symtab entries of the functions .dynsym lacks are kept in
 * an ELF compressed with xz into .gnu_debugdata of the stripped binary. Writes the local
 * function's address to dir/addr. Returns the shell's status: 0, 77 when a tool is missing. */
static int build_minidebug(const char *dir)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "for t in cc objcopy xz nm strip comm; do command -v $t || exit 77; done\n"
		 "set -e; cd '%s'\n"
		 "printf '%%s\\n' '#include <stdlib.h>' "
		 "'__attribute__((noinline)) static int hidden_local_fn(int x) "
		 "{ return x * 7 + rand(); }' "
		 "'int main(int argc, char **argv) { (void)argv; return hidden_local_fn(argc); }' "
		 "> prog.c\n"
		 "cc -O2 -o prog prog.c\n"
		 "nm prog | awk '$3 == \"hidden_local_fn\" { print $1 }' > addr; test -s addr\n"
		 "nm -D --format=posix --defined-only prog | awk '{ print $1 }' | sort > dynsyms\n"
		 "nm --format=posix --defined-only prog | awk '$2 ~ /^[Tt]$/ { print $1 }' | sort "
		 "> funcsyms\ncomm -13 dynsyms funcsyms > keep\n"
		 "objcopy --only-keep-debug prog mini.full\n"
		 "objcopy -S --remove-section .gdb_index --remove-section .comment "
		 "--keep-symbols=keep mini.full mini\n"
		 "xz -f mini; strip --strip-all -o prog.stripped prog\n"
		 "objcopy --add-section .gnu_debugdata=mini.xz prog.stripped prog.mini\n",
		 dir);
	FILE *f = popen("sh -s >/dev/null 2>&1", "w");
	if (!f)
		return -1;
	fputs(cmd, f);
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool read_file_bytes(const char *path, void **data, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t cap = 1 << 20;
	*data = mem_alloc(MEM_SYMB, cap);
	*n = fread(*data, 1, cap, f);
	fclose(f);
	return *n > 0 && *n < cap;
}

TEST(symb_elf_minidebuginfo)
{
	const char *dir = test_tmpdir();
	int st = build_minidebug(dir);
	if (st == 77)
		SKIP("cc, objcopy, xz, nm, strip or comm missing");
	CHECK_EQ_INT(st, 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/addr", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	unsigned long long addr = 0;
	int got = fscanf(f, "%llx", &addr);
	fclose(f);
	CHECK(got == 1 && addr != 0);

	/* Stripped without MiniDebugInfo: the local function has no name. */
	struct symb_elf *e;
	snprintf(path, sizeof(path), "%s/prog.stripped", dir);
	CHECK_OK(symb_elf_open(path, NULL, &e));
	const char *name = symb_elf_lookup(e, addr + 1, NULL);
	CHECK(name == NULL || strcmp(name, "hidden_local_fn") != 0);
	CHECK_EQ_INT(symb_elf_sym_source(e), SYMB_SRC_DYNSYM);
	symb_elf_free(e);

	/* With it: named, and .dynsym still there. */
	snprintf(path, sizeof(path), "%s/prog.mini", dir);
	CHECK_OK(symb_elf_open(path, NULL, &e));
	CHECK_EQ_INT(symb_elf_sym_source(e), SYMB_SRC_MINIDEBUG);
	CHECK(symb_elf_has_symtab(e));
	name = symb_elf_lookup(e, addr + 1, NULL);
	CHECK(name != NULL);
	CHECK_EQ_STR(name, "hidden_local_fn");
	symb_elf_free(e);

	/* The same from memory, then with the compressed section damaged: no crash, .dynsym. */
	void *img;
	size_t n;
	CHECK(read_file_bytes(path, &img, &n));
	CHECK_OK(symb_elf_open_mem(img, n, &e));
	CHECK_EQ_STR(symb_elf_lookup(e, addr + 1, NULL), "hidden_local_fn");
	symb_elf_free(e);
	uint8_t *b = img;
	size_t hits = 0;
	for (size_t i = 0; i + 6 <= n; i++)
		if (memcmp(b + i,
			   "\xfd"
			   "7zXZ",
			   6) == 0) {
			for (size_t j = i + 64; j < n && j < i + 200; j++)
				b[j] ^= 0x5a;
			hits++;
		}
	CHECK_EQ_INT(hits, 1);
	CHECK_OK(symb_elf_open_mem(img, n, &e));
	CHECK_EQ_INT(symb_elf_sym_source(e), SYMB_SRC_DYNSYM);
	symb_elf_free(e);
	mem_free(img);
	CHECK(symb_elf_open_mem("\x7f"
				"ELF",
				4, &e) != 0);
}

/* ---- DWARF lines and inline frames ------------------------------------------------------- */

static volatile int symb_sink;
static int symb_leaf_line, symb_call_line;

static inline __attribute__((always_inline)) int symb_inl_leaf(int x)
{
	symb_sink += x * 3;
	symb_leaf_line = __LINE__ - 1; /* the add's line */
	return symb_sink;
}

__attribute__((noinline)) static int symb_inl_outer(int x)
{
	int r = symb_inl_leaf(x);
	symb_call_line = __LINE__ - 1; /* the call's line */
	return r + 1;
}

/* The ELF of this test binary and the vaddr of fn. */
static struct symb_elf *self_elf(void *fn, uint64_t *vaddr)
{
	char mf[128];
	struct symb_maps m;
	struct symb_elf *e = NULL;
	symb_maps_init(&m);
	if (symb_maps_read(&m, getpid()) == 0) {
		uint64_t pc = (uint64_t)(uintptr_t)fn;
		const struct symb_map *x = symb_maps_find(&m, pc);
		if (x && symb_elf_open(mapped_file(x, mf, sizeof(mf)), NULL, &e) == 0 &&
		    symb_elf_offset_to_vaddr(e, pc - x->start + x->offset, vaddr) != 0) {
			symb_elf_free(e);
			e = NULL;
		}
	}
	symb_maps_fini(&m);
	return e;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = s ? strlen(s) : 0, b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

TEST(symb_dwarf_inline_frames)
{
	CHECK(symb_inl_outer(2) > 0);
	CHECK(symb_leaf_line > 0 && symb_call_line > 0);
	uint64_t start;
	struct symb_elf *e = self_elf((void *)&symb_inl_outer, &start);
	CHECK(e != NULL);
	if (!symb_elf_has_dwarf(e)) {
		symb_elf_free(e);
		SKIP("this test binary has no DWARF (built without -g)");
	}
	CHECK(symb_elf_dwarf_bytes(e) > 0);
	size_t bytes0 = symb_elf_bytes(e);
	/* Somewhere in symb_inl_outer: the inlined leaf at its line, inside the outer function
	 * at the call's line. */
	struct symb_srcline sl[SYMB_MAX_INLINE];
	bool inlined = false, plain = false;
	for (uint64_t a = start; a < start + 256; a++) {
		uint64_t off;
		const char *fn = symb_elf_lookup(e, a, &off);
		if (!fn || strcmp(fn, "symb_inl_outer") != 0)
			break;
		size_t n = symb_elf_srclines(e, a, sl, SYMB_MAX_INLINE);
		CHECK(n >= 1);
		CHECK(sl[n - 1].function != NULL);
		CHECK_EQ_STR(sl[n - 1].function, "symb_inl_outer");
		CHECK(ends_with(sl[0].file, "test_symb.c"));
		if (n == 2 && strcmp(sl[0].function, "symb_inl_leaf") == 0 &&
		    sl[0].line == (uint32_t)symb_leaf_line) {
			CHECK_EQ_INT(sl[1].line, symb_call_line);
			CHECK(ends_with(sl[1].file, "test_symb.c"));
			inlined = true;
		}
		if (n == 1)
			plain = true;
	}
	CHECK(inlined);
	(void)plain;
	CHECK(symb_elf_bytes(e) > bytes0); /* the unit read is charged */
	/* max 1: only the outermost. */
	for (uint64_t a = start; a < start + 256; a++)
		if (symb_elf_srclines(e, a, sl, SYMB_MAX_INLINE) == 2) {
			CHECK_EQ_INT(symb_elf_srclines(e, a, sl, 1), 1);
			CHECK_EQ_STR(sl[0].function, "symb_inl_outer");
			break;
		}
	size_t bytes1 = symb_elf_bytes(e);
	symb_elf_dwarf_reset(e);
	CHECK(symb_elf_bytes(e) < bytes1);
	CHECK(symb_elf_bytes(e) <= bytes0 + 4096); /* the unit set keeps its capacity */
	CHECK(symb_elf_srclines(e, start, sl, SYMB_MAX_INLINE) >= 1);
	CHECK_EQ_INT(symb_elf_srclines(e, 0x10, sl, SYMB_MAX_INLINE), 0);

	/* Cost of a lookup: addresses over 64 KiB of this file's code, units read the first time
	 * (cold), then again (warm). */
	for (int pass = 0; pass < 2; pass++) {
		struct timespec t0, t1;
		size_t lookups = 0, found = 0;
		uint64_t base = start & ~(uint64_t)0xffff;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (uint64_t a = base; a < base + 65536; a += 61, lookups++)
			found += symb_elf_srclines(e, a, sl, SYMB_MAX_INLINE) > 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ns =
			(double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
		printf("    symb_elf_srclines %s: %.0f ns per lookup (%zu lookups, %zu with lines, "
		       "%zu KiB charged)\n",
		       pass ? "warm" : "cold", ns / (double)lookups, lookups, found,
		       (symb_elf_bytes(e) - bytes0) >> 10);
		CHECK(found > 0);
	}
	symb_elf_free(e);
}

/* The agent names a PC with its inline frames, and the collector's profile carries them as one
 * location with several lines, innermost first; with a file cache bound too small for any DWARF
 * the reader is reset before each lookup and the answer is the same. */
TEST(symb_agent_inline_location)
{
	CHECK(symb_inl_outer(3) > 0);
	uint64_t start;
	struct symb_elf *e = self_elf((void *)&symb_inl_outer, &start);
	CHECK(e != NULL);
	if (!symb_elf_has_dwarf(e)) {
		symb_elf_free(e);
		SKIP("this test binary has no DWARF (built without -g)");
	}
	struct symb_srcline sl[SYMB_MAX_INLINE];
	uint64_t delta = UINT64_MAX;
	for (uint64_t a = start; a < start + 256 && delta == UINT64_MAX; a++)
		if (symb_elf_srclines(e, a, sl, SYMB_MAX_INLINE) == 2 &&
		    strcmp(sl[0].function, "symb_inl_leaf") == 0)
			delta = a - start;
	symb_elf_free(e);
	CHECK(delta != UINT64_MAX);
	uint64_t pc = (uint64_t)(uintptr_t)&symb_inl_outer + delta;

	for (int bound = 0; bound < 2; bound++) {
		struct agent_procs_opts o = {.no_kernel = true, .max_file_bytes = bound ? 1 : 0};
		struct agent_procs *ps = agent_procs_new(&o);
		struct agent_frame fr;
		/* Two files in turn (this binary and libc): with a 1-byte bound every switch lets
		 * the other one go and opens it again (an evicted entry is reopened on use). */
		for (int round = 0; round < 3; round++) {
			agent_procs_symbolize(ps, getpid(), (uint64_t)(uintptr_t)&qsort, &fr);
			CHECK(fr.name != NULL && strstr(fr.name, "qsort") != NULL);
			CHECK(fr.path != NULL &&
			      strstr(fr.path, ".so") != NULL); /* libc (libasan under ASan) */
			agent_procs_symbolize(ps, getpid(), pc, &fr);
			CHECK(fr.name != NULL && strcmp(fr.name, "symb_inl_outer") == 0);
		}
		for (int twice = 0; twice < 2; twice++) {
			agent_procs_symbolize(ps, getpid(), pc, &fr);
			CHECK(fr.name != NULL);
			CHECK_EQ_STR(fr.name, "symb_inl_outer");
			CHECK_EQ_INT(fr.n_lines, 2);
			CHECK_EQ_STR(fr.lines[0].function, "symb_inl_leaf");
			CHECK_EQ_INT(fr.lines[0].line, symb_leaf_line);
			CHECK(ends_with(fr.lines[0].file, "test_symb.c"));
			CHECK_EQ_STR(fr.lines[1].function, "symb_inl_outer");
			CHECK_EQ_INT(fr.lines[1].line, symb_call_line);
		}

		/* A kernel-unwound trace of one user frame (the leaf) through the collector. */
		struct agent_collector *c = agent_collector_new(ps, 99);
		uint8_t *rec = mem_calloc(MEM_AGENT, 1, sizeof(struct ember_trace) + 64);
		struct ember_trace *t = (struct ember_trace *)rec;
		t->kind = EMBER_REC_TRACE;
		t->pid = (uint32_t)getpid();
		t->flags = EMBER_SAMPLE_USER_REGS;
		t->n_user = 1;
		memcpy(t->comm, "unit", 5);
		memcpy(rec + EMBER_TRACE_HDR_BYTES, &pc, 8);
		agent_collector_add_trace(c, t, EMBER_TRACE_HDR_BYTES + 8);
		mem_free(rec);
		struct prof *p;
		CHECK_OK(agent_collector_build(c, -1, &p));
		CHECK_EQ_INT(prof_n_samples(p), 1);
		struct prof_sample s;
		prof_sample_get(p, 0, &s);
		struct prof_location loc;
		prof_location_get(p, prof_node_location(p, s.node), &loc);
		bool ok = loc.n_lines == 2;
		if (ok) {
			const struct prof_function *f0 =
				prof_function_get(p, loc.lines[0].function);
			const struct prof_function *f1 =
				prof_function_get(p, loc.lines[1].function);
			ok = strcmp(prof_string(p, f0->name), "symb_inl_leaf") == 0 &&
			     loc.lines[0].line == symb_leaf_line &&
			     ends_with(prof_string(p, f0->filename), "test_symb.c") &&
			     strcmp(prof_string(p, f1->name), "symb_inl_outer") == 0 &&
			     loc.lines[1].line == symb_call_line;
		}
		prof_free(p);
		agent_collector_free(c);
		agent_procs_free(ps);
		CHECK(ok);
	}
}

/* DWARF from a separate debug file found by build id under the process's root: the binary is
 * stripped, its symbols and lines come from ROOT/usr/lib/debug/.build-id/xx/yyyy.debug. */
TEST(symb_dwarf_debug_file_by_build_id)
{
	const char *dir = test_tmpdir();
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "for t in cc objcopy strip readelf; do command -v $t || exit 77; done\n"
		 "set -e; cd '%s'\n"
		 "printf '%%s\\n' '#include <stdlib.h>' "
		 "'static inline __attribute__((always_inline)) int leaf_fn(int x) "
		 "{ return x * 7 + rand(); }' "
		 "'__attribute__((noinline, noclone)) static int outer_fn(int x) "
		 "{ return leaf_fn(x) + 1; }' "
		 "'int main(int argc, char **argv) { (void)argv; return outer_fn(argc); }' > p.c\n"
		 "cc -O2 -g -Wl,--build-id -o prog p.c\n"
		 "id=$(readelf -n prog | sed -n 's/.*Build ID: //p')\n"
		 "mkdir -p usr/lib/debug/.build-id/${id%%${id#??}}\n"
		 "objcopy --only-keep-debug prog "
		 "usr/lib/debug/.build-id/${id%%${id#??}}/${id#??}.debug\n"
		 "nm prog | awk '$3 == \"outer_fn\" { print $1 }' > addr\n"
		 "strip --strip-all prog\n",
		 dir);
	FILE *f = popen("sh -s >/dev/null 2>&1", "w");
	CHECK(f != NULL);
	fputs(cmd, f);
	int st = pclose(f);
	st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (st == 77)
		SKIP("cc, objcopy, strip or readelf missing");
	CHECK_EQ_INT(st, 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/addr", dir);
	f = fopen(path, "r");
	CHECK(f != NULL);
	unsigned long long addr = 0;
	int got = fscanf(f, "%llx", &addr);
	fclose(f);
	CHECK(got == 1 && addr != 0);

	struct symb_elf *e;
	CHECK_OK(symb_elf_open("/prog", dir, &e));
	CHECK_EQ_INT(symb_elf_sym_source(e), SYMB_SRC_DEBUGFILE);
	CHECK(symb_elf_has_dwarf(e));
	struct symb_srcline sl[SYMB_MAX_INLINE];
	bool inlined = false;
	for (uint64_t a = addr; a < addr + 64 && !inlined; a++) {
		const char *fn = symb_elf_lookup(e, a, NULL);
		if (!fn || strcmp(fn, "outer_fn") != 0)
			break;
		size_t n = symb_elf_srclines(e, a, sl, SYMB_MAX_INLINE);
		inlined = n == 2 && sl[0].function && strcmp(sl[0].function, "leaf_fn") == 0 &&
			  sl[0].line == 2 && sl[1].line == 3 && ends_with(sl[1].file, "p.c");
	}
	symb_elf_free(e);
	CHECK(inlined);

	/* Without the root, no debug file: .dynsym only, no DWARF. */
	snprintf(path, sizeof(path), "%s/prog", dir);
	CHECK_OK(symb_elf_open(path, NULL, &e));
	CHECK_EQ_INT(symb_elf_sym_source(e), SYMB_SRC_DYNSYM);
	CHECK(!symb_elf_has_dwarf(e));
	symb_elf_free(e);
}

/*
 * test_symb.c — symbolization: /proc/PID/maps parsing (pseudo paths, deleted files, bad lines,
 * unsorted input), kallsyms parsing and lookup (modules, non-text symbols, kptr_restrict),
 * perf maps (overlaps: last wins), demangling, and ELF symbol lookup on this test binary and
 * on libc through their live mappings (PIE/ASLR bias via PT_LOAD).
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

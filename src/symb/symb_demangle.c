/*
 * symb_demangle.c — C++ and Rust demangling through libiberty's callback interfaces, which
 * write into our buffer and never allocate with malloc. Names that are not mangled, or that
 * libiberty rejects, are left to the caller unchanged.
 */
#include <string.h>

#include <libiberty/demangle.h>

#include "symb/symb.h"

struct dm_out {
	char *p;
	size_t n;
	size_t len;
	bool truncated;
};

static void dm_append(const char *s, size_t len, void *opaque)
{
	struct dm_out *o = opaque;
	size_t room = o->n - 1 - o->len;
	if (len > room) {
		len = room;
		o->truncated = true;
	}
	memcpy(o->p + o->len, s, len);
	o->len += len;
	o->p[o->len] = 0;
}

bool symb_demangle(const char *name, char *out, size_t n)
{
	if (!name || n < 2 || name[0] != '_')
		return false;
	struct dm_out o = {.p = out, .n = n};
	out[0] = 0;
	int ok = 0;
	if (name[1] == 'R') {
		ok = rust_demangle_callback(name, DMGL_PARAMS | DMGL_ANSI, dm_append, &o);
	} else if (name[1] == 'Z') {
		/* Rust's legacy scheme is Itanium-compatible; try it first so its hash suffix
		 * is dropped, then C++. */
		ok = rust_demangle_callback(name, DMGL_ANSI, dm_append, &o);
		if (!ok) {
			o.len = 0;
			out[0] = 0;
			ok = cplus_demangle_v3_callback(name, DMGL_PARAMS | DMGL_ANSI, dm_append,
							&o);
		}
	}
	return ok && o.len > 0;
}

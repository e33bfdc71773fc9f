/*
 * otlp.h — OpenTelemetry profiles (opentelemetry-proto v1development, the dictionary layout of
 * v1.10+): an ExportProfilesServiceRequest decoded into one struct prof per Profile, with the
 * series labels taken from the resource, scope and profile attributes and the profile name
 * (__name__) derived from the sample type.
 *
 * The decoder is strict and bounded: every index into the request's ProfilesDictionary is
 * checked, every count is limited, and an error names the field that is wrong
 * ("resource_profiles[0].scope_profiles[0].profiles[1].samples[7].stack_index: 12 out of
 * range (stack_table has 4 entries)"). On error nothing is returned.
 */
#ifndef EMBER_FORMAT_OTLP_H
#define EMBER_FORMAT_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "profile/profile.h"

struct otlp_limits {
	size_t max_profiles;	    /* per request; 0 = 1000 */
	size_t max_table;	    /* entries per dictionary table; 0 = 1 Mi */
	size_t max_samples;	    /* over all profiles; 0 = 4 Mi */
	size_t max_stack_depth;	    /* locations per stack; 0 = 4096 */
	size_t max_labels;	    /* series labels per profile; 0 = 30 */
	size_t max_label_value_len; /* bytes; 0 = 2048 */
};

/* A series label; strings live in the request's arena. */
struct otlp_label {
	const char *name;
	const char *value;
};

struct otlp_profile {
	struct prof *prof; /* owned by the request */
	const char *name;  /* __name__: process_cpu, memory, wall, off_cpu, ... */
	size_t n_labels;   /* service_name first, then the other attributes */
	const struct otlp_label *labels;
};

struct otlp_request {
	struct arena *arena;
	size_t n_profiles;
	struct otlp_profile *profiles;
};

/* Decodes an ExportProfilesServiceRequest (uncompressed protobuf). -EMBER_EFORMAT (malformed,
 * an index out of range) or -EMBER_ELIMIT (a limit) with the field named in d. */
int otlp_decode(const void *data, size_t len, const struct otlp_limits *lim,
		struct otlp_request **out, struct ember_diag *d);
void otlp_request_free(struct otlp_request *r);

/* A label name made of [A-Za-z0-9_.] (other bytes become '_', '_' is prefixed before a
 * leading digit or dot); "service.name" becomes service_name. Written into out (cap >= 2). */
void otlp_label_name(const char *key, size_t len, char *out, size_t cap);

#endif

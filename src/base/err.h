/*
 * err.h — error codes shared by every Ember module, and the diag struct that carries a human
 * message to a boundary (CLI, HTTP, config).
 *
 * Convention: functions return 0 on success or a negative code. Negative errno values pass
 * through unchanged; Ember's own codes are EMBER_E* (>= 4000), returned negated. Only
 * boundaries turn codes into text, with ember_strerror() and struct ember_diag.
 */
#ifndef EMBER_BASE_ERR_H
#define EMBER_BASE_ERR_H

#include <stddef.h>

enum ember_err {
	EMBER_ERR_BASE = 4000,
	EMBER_EFORMAT,	    /* input is not in the expected format */
	EMBER_ELIMIT,	    /* a size or count limit was exceeded */
	EMBER_ECORRUPT,	    /* stored data fails a checksum or an invariant */
	EMBER_EVERSION,	    /* unsupported format version */
	EMBER_ENOTFOUND,    /* the named thing does not exist */
	EMBER_EUNSUPPORTED, /* valid but not supported by this build */
	EMBER_EUSAGE,	    /* bad arguments from the user */
	EMBER_ERR_END
};

/* Text for a (negative) error code: Ember's own or an errno. Never NULL. */
const char *ember_strerror(int err);

/* A human-readable message for the user, filled in where the error is detected. */
struct ember_diag {
	char msg[512];
};

/* printf-style; a NULL diag is allowed and ignored. Returns err so callers can
 * `return ember_diag_set(d, -EMBER_EFORMAT, "...")`. */
int ember_diag_set(struct ember_diag *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The diag's message when one was set, else ember_strerror(err). */
const char *ember_diag_msg(const struct ember_diag *d, int err);

#define EMBER_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define EMBER_MIN(a, b)	    ((a) < (b) ? (a) : (b))
#define EMBER_MAX(a, b)	    ((a) > (b) ? (a) : (b))

#endif

/*
 * err.c — ember_strerror for Ember's own codes and errno values, and the diag helper.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[] = {
	[EMBER_EFORMAT - EMBER_ERR_BASE] = "malformed input",
	[EMBER_ELIMIT - EMBER_ERR_BASE] = "limit exceeded",
	[EMBER_ECORRUPT - EMBER_ERR_BASE] = "corrupt data",
	[EMBER_EVERSION - EMBER_ERR_BASE] = "unsupported version",
	[EMBER_ENOTFOUND - EMBER_ERR_BASE] = "not found",
	[EMBER_EUNSUPPORTED - EMBER_ERR_BASE] = "not supported",
	[EMBER_EUSAGE - EMBER_ERR_BASE] = "invalid usage",
};

const char *ember_strerror(int err)
{
	int e = err < 0 ? -err : err;

	if (e == 0)
		return "success";
	if (e > EMBER_ERR_BASE && e < EMBER_ERR_END && messages[e - EMBER_ERR_BASE])
		return messages[e - EMBER_ERR_BASE];
	if (e < EMBER_ERR_BASE)
		return strerror(e);
	return "unknown error";
}

int ember_diag_set(struct ember_diag *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return err;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return err;
}

const char *ember_diag_msg(const struct ember_diag *d, int err)
{
	return d && d->msg[0] ? d->msg : ember_strerror(err);
}

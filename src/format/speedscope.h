/*
 * speedscope.h — speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile per sample type, frames shared, samples root first.
 */
#ifndef EMBER_FORMAT_SPEEDSCOPE_H
#define EMBER_FORMAT_SPEEDSCOPE_H

#include "base/buf.h"
#include "profile/profile.h"

int speedscope_write(const struct prof *p, const char *name, struct buf *out);

#endif

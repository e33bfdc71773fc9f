/*
 * log.h — the leveled logger. One global level; the LOG_* macros test it before evaluating
 * their arguments. Output goes to stderr: plain text ("ember: error: ...") for the CLI, or
 * key=value lines (log_set_structured) for daemons. base/, profile/ and format/ never log
 * errors: they return codes and the caller logs once.
 */
#ifndef EMBER_BASE_LOG_H
#define EMBER_BASE_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE
};

extern enum log_level log_level_current;

void log_set_level(enum log_level lvl);
/* Parses "error|warn|info|debug|trace"; returns -EMBER_EUSAGE when unknown. */
int log_parse_level(const char *s, enum log_level *out);
void log_set_structured(bool on);
/* With structured output: one JSON object per line ({"ts":...,"level":...,"msg":...}). */
void log_set_json(bool on);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(lvl, ...)                             \
	do {                                         \
		if ((lvl) <= log_level_current)      \
			log_msg((lvl), __VA_ARGS__); \
	} while (0)
#define LOG_ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_WARN(...)  LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_INFO(...)  LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif

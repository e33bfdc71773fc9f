/*
 * json_depth.c — a bound on the nesting depth of a JSON text (see json_depth.h), checked
 * before a recursive JSON parser sees untrusted input.
 */
#include "format/json_depth.h"

int json_depth_ok(const uint8_t *s, size_t n, int max)
{
	int depth = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
		} else if (s[i] == '"') {
			in_str = 1;
		} else if (s[i] == '{' || s[i] == '[') {
			if (++depth > max)
				return 0;
		} else if (s[i] == '}' || s[i] == ']') {
			depth--;
		}
	}
	return 1;
}

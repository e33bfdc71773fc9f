/*
 * cgroup.c — container id, pod uid and systemd unit from a cgroup path (see cgroup.h).
 *
 * The path is cut at '/' into components (none longer than 255 bytes is looked at); the last
 * component holding a run of exactly 64 hex digits gives the container id ("docker-ID.scope",
 * "cri-containerd-ID.scope", "crio-ID.scope", "libpod-ID.scope", a bare "ID", or
 * "cri-containerd:ID"); the last holding "pod" followed by a uid in dashes or underscores
 * ("kubepods-burstable-pod<uid>.slice", "pod<uid>") the pod uid; the last ending in ".service"
 * or ".scope" without a container id the unit.
 */
#include "agent/cgroup.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define COMPONENT_MAX 255

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A run of exactly 64 hex digits in c[0..n) into id; false when none. */
static bool find_container_id(const char *c, size_t n, char id[65])
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && is_hex(c[j]))
			j++;
		if (j - i == 64) {
			for (size_t k = 0; k < 64; k++)
				id[k] = lower(c[i + k]);
			id[64] = 0;
			return true;
		}
		i = j + 1;
	}
	return false;
}

/* A uid (8-4-4-4-12 hex, '-' or '_' as separators) at u[0..n) into out. */
static bool parse_uid(const char *u, size_t n, char out[37])
{
	static const size_t dash[] = {8, 13, 18, 23};

	if (n < 36)
		return false;
	for (size_t i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (u[i] != '-' && u[i] != '_')
				return false;
			out[i] = '-';
			d++;
		} else if (is_hex(u[i])) {
			out[i] = lower(u[i]);
		} else {
			return false;
		}
	}
	if (n > 36 && (is_hex(u[36]) || u[36] == '-' || u[36] == '_'))
		return false;
	out[36] = 0;
	return true;
}

static bool find_pod_uid(const char *c, size_t n, char uid[37])
{
	for (size_t i = 0; i + 3 <= n; i++)
		if (!memcmp(c + i, "pod", 3) && parse_uid(c + i + 3, n - i - 3, uid))
			return true;
	return false;
}

static bool ends_with(const char *c, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && !memcmp(c + n - k, suffix, k);
}

void agent_cgroup_parse(const char *path, size_t len, struct agent_cgroup_info *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (!path)
		return;
	while (i < len) {
		size_t j = i;
		char id[65], uid[37];

		while (j < len && path[j] != '/')
			j++;
		const char *c = path + i;
		size_t n = j - i;

		if (n > 0 && n <= COMPONENT_MAX) {
			bool container = find_container_id(c, n, id);

			if (container)
				memcpy(out->container_id, id, sizeof(id));
			if (find_pod_uid(c, n, uid))
				memcpy(out->pod_uid, uid, sizeof(uid));
			if (!container && n < sizeof(out->unit) &&
			    (ends_with(c, n, ".service") || ends_with(c, n, ".scope"))) {
				memcpy(out->unit, c, n);
				out->unit[n] = 0;
			}
		}
		i = j + 1;
	}
}

/*
 * cgroup.h — what a process's cgroup path says about where it runs: the container id
 * (Docker, containerd, CRI-O, Podman, in the cgroupfs and systemd drivers' spellings), the
 * Kubernetes pod uid (kubepods hierarchies) and the innermost systemd unit (a `.service` or
 * `.scope` that is not a container's). Pure string parsing of hostile input: any bytes, any
 * length; fields that are not found are "".
 */
#ifndef EMBER_AGENT_CGROUP_H
#define EMBER_AGENT_CGROUP_H

#include <stddef.h>

struct agent_cgroup_info {
	char container_id[65]; /* 64 lowercase hex digits */
	char pod_uid[37];      /* 8-4-4-4-12, lowercase */
	char unit[128];	       /* e.g. "nginx.service" */
};

void agent_cgroup_parse(const char *path, size_t len, struct agent_cgroup_info *out);

#endif

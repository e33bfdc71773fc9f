/*
 * test_agent_cgroup.c — container id, pod uid and systemd unit from cgroup paths as Docker,
 * containerd, CRI-O, Podman, Kubernetes and systemd write them (src/agent/cgroup.c).
 */
#include <string.h>

#include "agent/cgroup.h"
#include "test.h"

#define ID  "3f4e5d6c7b8a99887766554433221100aabbccddeeff00112233445566778899"
#define UID "1b2c3d4e-aaaa-bbbb-cccc-0123456789ab"

static void parse(const char *path, struct agent_cgroup_info *ci)
{
	agent_cgroup_parse(path, strlen(path), ci);
}

TEST(agent_cgroup_containers)
{
	struct agent_cgroup_info ci;

	parse("/system.slice/docker-" ID ".scope", &ci);
	CHECK_EQ_STR(ci.container_id, ID);
	CHECK_EQ_STR(ci.unit, "");
	CHECK_EQ_STR(ci.pod_uid, "");
	parse("/docker/" ID, &ci);
	CHECK_EQ_STR(ci.container_id, ID);
	parse("/machine.slice/libpod-" ID ".scope/container", &ci);
	CHECK_EQ_STR(ci.container_id, ID);
	parse("/system.slice/crio-" ID ".scope", &ci);
	CHECK_EQ_STR(ci.container_id, ID);
	/* upper case is folded; 63 or 65 digits are not an id */
	parse("/docker/3F4E5D6C7B8A99887766554433221100AABBCCDDEEFF00112233445566778899", &ci);
	CHECK_EQ_STR(ci.container_id, ID);
	parse("/docker/" ID "0", &ci);
	CHECK_EQ_STR(ci.container_id, "");
}

TEST(agent_cgroup_kubernetes)
{
	struct agent_cgroup_info ci;

	parse("/kubepods.slice/kubepods-burstable.slice/"
	      "kubepods-burstable-pod1b2c3d4e_aaaa_bbbb_cccc_0123456789ab.slice/"
	      "cri-containerd-" ID ".scope",
	      &ci);
	CHECK_EQ_STR(ci.pod_uid, UID);
	CHECK_EQ_STR(ci.container_id, ID);
	CHECK_EQ_STR(ci.unit, "");
	parse("/kubepods/besteffort/pod" UID "/" ID, &ci);
	CHECK_EQ_STR(ci.pod_uid, UID);
	CHECK_EQ_STR(ci.container_id, ID);
	parse("/kubepods/pod1b2c3d4e-aaaa-bbbb-cccc-0123456789abc/x", &ci); /* uid too long */
	CHECK_EQ_STR(ci.pod_uid, "");
}

TEST(agent_cgroup_units)
{
	struct agent_cgroup_info ci;

	parse("/system.slice/nginx.service", &ci);
	CHECK_EQ_STR(ci.unit, "nginx.service");
	CHECK_EQ_STR(ci.container_id, "");
	parse("/user.slice/user-1000.slice/user@1000.service/app.slice/app-term-1.scope", &ci);
	CHECK_EQ_STR(ci.unit, "app-term-1.scope");
	parse("/", &ci);
	CHECK_EQ_STR(ci.unit, "");
	parse(".service", &ci);
	CHECK_EQ_STR(ci.unit, "");
	agent_cgroup_parse(NULL, 0, &ci);
	CHECK_EQ_STR(ci.unit, "");
}

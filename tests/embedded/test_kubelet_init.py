"""Init containers run one by one to a clean exit before the app containers."""

from kubelet_helpers import cstatus, kubelet_cluster, log_lines, pod, status
from waits import until


def init(name, script):
    return {"name": name, "image": "busybox", "command": ["sh", "-c", script]}


def cond(cluster, name, type_):
    return next((c for c in status(cluster, name).get("conditions") or [] if c["type"] == type_), {})


async def test_init_containers_then_app():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("web", image="nginx", initContainers=[
            init("wait", "sleep 20; echo waited"), init("seed", "echo seeded")]))
        await until(lambda: (status(cluster, "web").get("initContainerStatuses") or [{}])[0]
                    .get("state", {}).get("running"), what="first init running")
        assert status(cluster, "web")["phase"] == "Pending"
        assert cstatus(cluster, "web")["state"]["waiting"]["reason"] == "PodInitializing"
        assert cond(cluster, "web", "Initialized")["status"] == "False"
        await until(lambda: cstatus(cluster, "web").get("ready"), what="app ready")
        inits = status(cluster, "web")["initContainerStatuses"]
        assert [i["state"]["terminated"]["reason"] for i in inits] == ["Completed", "Completed"]
        assert all(i["ready"] for i in inits)
        assert cond(cluster, "web", "Initialized")["status"] == "True"
        assert log_lines(cluster, "web", "wait") == ["waited"]


async def test_failing_init_container_with_never_fails_the_pod():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("once", image="nginx", restartPolicy="Never",
                                            initContainers=[init("check", "exit 2")]))
        await until(lambda: status(cluster, "once").get("phase") == "Failed", what="Failed")
        assert "running" not in cstatus(cluster, "once").get("state", {})


async def test_failing_init_container_restarts_with_back_off():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("retry", image="nginx",
                                            initContainers=[init("check", "exit 1")]))
        await until(lambda: (status(cluster, "retry").get("initContainerStatuses") or [{}])[0]
                    .get("restartCount", 0) >= 2, what="init restarts")
        assert status(cluster, "retry")["phase"] == "Pending"

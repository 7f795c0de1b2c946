"""A container's preStop hook, as kubelet's killContainer runs it: before SIGTERM,
within the grace period, the app serving meanwhile (its pod terminating but still
Ready); a hook that fails is a FailedPreStopHook event; the SIGTERM after it gets
what is left of the grace period. Times are the cluster's simulated seconds."""

from kubelet_helpers import cstatus, events, kubelet_cluster, pod
from waits import until


def drain(name, hook, grace=600):
    return pod(name, image="kubelab/http:1", labels={"app": "drain"},
               terminationGracePeriodSeconds=grace,
               container={"ports": [{"containerPort": 8080}], "lifecycle": {"preStop": hook}})


def gone(cluster, name):
    return cluster.registry.get("pods", "default", name) is None


async def test_a_sleep_hook_keeps_the_app_serving_then_sigterm_comes():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", drain("web", {"sleep": {"seconds": 40}}))
        await until(lambda: cstatus(cluster, "web").get("ready"), what="ready")
        app = cluster.kubelet.container("default", "web").app
        start = cluster.clock.elapsed()
        cluster.registry.delete("pods", "default", "web")
        await until(lambda: cluster.clock.elapsed() - start >= 20, what="halfway through the hook")
        # terminating, and still Ready and listening: the hook holds SIGTERM back
        meta = cluster.registry.get("pods", "default", "web")["metadata"]
        assert meta["deletionTimestamp"] and cstatus(cluster, "web")["ready"] and app.listening
        assert ("Killing", "Stopping container app") in events(cluster, "web")
        await until(lambda: gone(cluster, "web"), what="gone after the hook and SIGTERM")
        assert cluster.clock.elapsed() - start >= 40      # not before the hook's 40 s ran out
        assert not app.listening
        assert not any(reason == "FailedPreStopHook" for reason, _ in events(cluster, "web"))


async def test_an_exec_hook_runs_in_the_container_and_its_failure_is_an_event():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", drain("bad", {"exec": {"command": ["sh", "-c", "exit 3"]}}))
        cluster.registry.create("pods", drain("good", {"exec": {"command": ["sh", "-c", "sleep 20"]}}))
        await until(lambda: cstatus(cluster, "bad").get("ready") and cstatus(cluster, "good").get("ready"),
                    what="ready")
        start = cluster.clock.elapsed()
        for name in ("bad", "good"):
            cluster.registry.delete("pods", "default", name)
        await until(lambda: ("FailedPreStopHook", "PreStopHook failed") in events(cluster, "bad"),
                    what="the failed hook's event")
        await until(lambda: gone(cluster, "good"), what="gone after sleep 20 and SIGTERM")
        assert cluster.clock.elapsed() - start >= 20
        assert not any(reason == "FailedPreStopHook" for reason, _ in events(cluster, "good"))


async def test_a_hook_longer_than_the_grace_period_is_cut_short():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", drain("web", {"sleep": {"seconds": 3600}}, grace=10))
        await until(lambda: cstatus(cluster, "web").get("ready"), what="ready")
        start = cluster.clock.elapsed()
        cluster.registry.delete("pods", "default", "web")
        await until(lambda: gone(cluster, "web"), 60, what="gone")
        # 10 s for the hook, then SIGTERM with kubelet's 2 s minimum: nowhere near the hour
        assert 10 <= cluster.clock.elapsed() - start < 600


def probed(name, grace=60, **probes):
    """busybox with /tmp/healthy, and a preStop hook that removes it and takes 40 s."""
    hook = {"exec": {"command": ["sh", "-c", "rm /tmp/healthy; sleep 40"]}}
    return pod(name, image="busybox", terminationGracePeriodSeconds=grace,
               container={"command": ["sh", "-c", "touch /tmp/healthy; sleep 100000"],
                          "lifecycle": {"preStop": hook}, **probes})


def check(period=1, threshold=1, path="/tmp/healthy"):
    return {"exec": {"command": ["cat", path]}, "periodSeconds": period, "failureThreshold": threshold}


def unhealthy(cluster, name, kind):
    return [m for reason, m in events(cluster, name) if reason == "Unhealthy" and m.startswith(kind)]


async def test_liveness_stops_once_the_pod_is_deleted_and_readiness_goes_on():
    """SyncTerminatingPod: StopLivenessAndStartup, then killPod (the preStop hook),
    then RemovePod: the failing liveness probe restarts nothing, the failing
    readiness probe takes the terminating pod out of Ready."""
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", probed("web", livenessProbe=check(), readinessProbe=check()))
        await until(lambda: cstatus(cluster, "web").get("ready"), what="ready")
        cluster.registry.delete("pods", "default", "web")
        await until(lambda: unhealthy(cluster, "web", "Readiness") and not cstatus(cluster, "web")["ready"],
                    what="readiness failing while the hook runs")
        start = cluster.clock.elapsed()
        await until(lambda: cluster.clock.elapsed() - start >= 10, what="10 s of failing probes")
        assert not unhealthy(cluster, "web", "Liveness")
        assert not any("failed liveness probe" in m for _, m in events(cluster, "web"))
        assert cstatus(cluster, "web")["restartCount"] == 0 and "running" in cstatus(cluster, "web")["state"]
        await until(lambda: gone(cluster, "web"), what="gone after the hook")


async def test_a_pod_deleted_before_its_startup_probe_passed_counts_as_started():
    """The stopped startup worker takes its result with it: UpdatePodStatus then
    sees no startup worker (started) and lets readiness decide (here none: ready)."""
    async with kubelet_cluster(speed=50) as cluster:
        never = check(threshold=100000, path="/tmp/never")
        cluster.registry.create("pods", probed("slow", startupProbe=never))
        await until(lambda: unhealthy(cluster, "slow", "Startup"), what="the startup probe failing")
        assert not cstatus(cluster, "slow")["started"] and not cstatus(cluster, "slow")["ready"]
        cluster.registry.delete("pods", "default", "slow")
        await until(lambda: cstatus(cluster, "slow").get("started") and cstatus(cluster, "slow")["ready"],
                    what="started and ready as it terminates")
        before = len(unhealthy(cluster, "slow", "Startup"))
        start = cluster.clock.elapsed()
        await until(lambda: cluster.clock.elapsed() - start >= 5, what="5 s more")
        assert len(unhealthy(cluster, "slow", "Startup")) == before
        await until(lambda: gone(cluster, "slow"), what="gone after the hook")

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

"""Kubelet physics in-process at --speed: pulls, probes, restarts, back-off."""

from kubelet_helpers import cstatus, events, kubelet_cluster, log_lines, pod, status
from waits import until

LIVENESS_EXEC = {
    "args": ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -rf /tmp/healthy; sleep 600"],
    "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]},
                      "initialDelaySeconds": 5, "periodSeconds": 5},
}


def reasons(cluster, name):
    return [r for r, _ in events(cluster, name)]


async def test_image_pull_events_and_cache():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("a", image="nginx:1.17.0"))
        await until(lambda: status(cluster, "a").get("phase") == "Running")
        pulled = [m for r, m in events(cluster, "a") if r == "Pulled"]
        assert pulled[0].startswith('Successfully pulled image "nginx:1.17.0" in ')
        assert "including waiting). Image size: " in pulled[0]
        cs = cstatus(cluster, "a")
        assert cs["image"] == "docker.io/library/nginx:1.17.0"
        assert cs["imageID"].startswith("docker.io/library/nginx@sha256:")
        assert cs["containerID"].startswith("containerd://")
        cluster.registry.create("pods", pod("b", image="nginx:1.17.0"))
        await until(lambda: status(cluster, "b").get("phase") == "Running")
        assert ("Pulled", 'Container image "nginx:1.17.0" already present on machine') \
            in events(cluster, "b")


async def test_liveness_exec_restarts_on_the_script_timeline():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("liveness-exec", image="busybox",
                                            labels={"test": "liveness"}, container=LIVENESS_EXEC))
        await until(lambda: cstatus(cluster, "liveness-exec").get("ready"), what="ready")
        assert cstatus(cluster, "liveness-exec")["restartCount"] == 0
        await until(lambda: cstatus(cluster, "liveness-exec").get("restartCount", 0) >= 1,
                    what="first restart")
        evs = events(cluster, "liveness-exec")
        assert ("Unhealthy", "Liveness probe failed: cat: can't open '/tmp/healthy': "
                "No such file or directory") in evs
        assert ("Killing", "Container app failed liveness probe, will be restarted") in evs
        last = cstatus(cluster, "liveness-exec")["lastState"]["terminated"]
        assert last["exitCode"] == 137 and last["reason"] == "Error"   # sh ignores SIGTERM


async def test_crash_loop_back_off_for_an_exiting_container():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("crash", image="busybox",
                                            container={"command": ["sh", "-c", "echo bye; exit 3"]}))
        await until(lambda: cstatus(cluster, "crash").get("state", {}).get("waiting", {})
                    .get("reason") == "CrashLoopBackOff", what="CrashLoopBackOff")
        cs = cstatus(cluster, "crash")
        assert cs["lastState"]["terminated"]["exitCode"] == 3
        assert cs["lastState"]["terminated"]["reason"] == "Error"
        assert "back-off 10s restarting failed container=app pod=crash_default(" \
            in cs["state"]["waiting"]["message"]
        assert log_lines(cluster, "crash", "app", previous=True) == ["bye"]
        assert status(cluster, "crash")["phase"] == "Running"


async def test_unknown_command_is_exit_127_and_never_a_crash():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("bad", image="busybox", restartPolicy="Never",
                                            container={"command": ["sh", "-c", "foo --bar"]}))
        await until(lambda: status(cluster, "bad").get("phase") == "Failed", what="Failed")
        cs = cstatus(cluster, "bad")
        assert cs["state"]["terminated"]["exitCode"] == 127
        assert log_lines(cluster, "bad") == ["sh: foo: not found"]


async def test_bad_image_goes_to_image_pull_back_off():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("bad", image="nginx:doesnotexist"))
        await until(lambda: cstatus(cluster, "bad").get("state", {}).get("waiting", {})
                    .get("reason") == "ImagePullBackOff", what="ImagePullBackOff")
        assert ("Failed", "Error: ErrImagePull") in events(cluster, "bad")
        assert status(cluster, "bad")["phase"] == "Pending"


async def test_readiness_http_probe_follows_boot_and_health():
    spec = {"readinessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080},
                               "periodSeconds": 2},
            "livenessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080},
                              "initialDelaySeconds": 40, "periodSeconds": 5}}
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("order", image="ghcr.io/acmexii/order-liveness:latest",
                                            container=spec))
        await until(lambda: status(cluster, "order").get("phase") == "Running")
        assert not cstatus(cluster, "order")["ready"]
        await until(lambda: cstatus(cluster, "order").get("ready"), what="booted and ready")
        assert any(m.startswith('Readiness probe failed: Get "http://10.244.1.')
                   and m.endswith(":8080: connect: connection refused")
                   for _, m in events(cluster, "order"))
        app = cluster.kubelet.worker("default", "order").containers[0].app
        app.healthy = False
        await until(lambda: cstatus(cluster, "order").get("restartCount", 0) >= 1, what="restart")
        evs = events(cluster, "order")
        assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503") in evs
        assert cstatus(cluster, "order")["lastState"]["terminated"]["exitCode"] == 143
        await until(lambda: cstatus(cluster, "order").get("ready"), what="healthy again")
        logs = log_lines(cluster, "order")
        assert any("Started OrderApplication in" in line for line in logs)


async def test_missing_entrypoint_is_a_start_error_then_back_off():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("nobin", image="busybox",
                                            container={"command": ["no-such-binary", "--x"]}))
        await until(lambda: cstatus(cluster, "nobin").get("restartCount", 0) >= 2, what="restarts")
        last = cstatus(cluster, "nobin")["lastState"]["terminated"]
        assert last["reason"] == "StartError" and last["exitCode"] == 128
        assert any(r == "Failed" and '"no-such-binary": executable file not found in $PATH' in m
                   for r, m in events(cluster, "nobin"))


async def test_exec_and_cpu_usage_reach_the_container():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("box", image="busybox",
                                            container={"command": ["sh", "-c",
                                                                   "echo hi > /tmp/x; sleep 3600"]}))
        await until(lambda: status(cluster, "box").get("phase") == "Running")
        result = await until(lambda: cluster.kubelet.container("default", "box").app.fs.exists("/tmp/x"))
        assert result
        assert await cluster.kubelet.exec("default", "box", None, ["cat", "/tmp/x"]) == (0, "hi\n")
        code, out = await cluster.kubelet.exec("default", "box", None, ["cat", "/nope"])
        assert code == 1 and out == "cat: can't open '/nope': No such file or directory\n"
        assert set(cluster.kubelet.cpu_usage("default", "box")) == {"app"}
        assert cluster.kubelet.memory_usage("default", "box") == {"app": 2**20}   # busybox: 1 MiB


async def test_new_image_on_a_pod_restarts_the_container_and_fixes_a_bad_pull():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("fixme", image="nginx:doesnotexist"))
        await until(lambda: cstatus(cluster, "fixme").get("state", {}).get("waiting", {})
                    .get("reason") == "ImagePullBackOff", what="ImagePullBackOff")

        def set_image(image):
            def fn(obj):
                obj["spec"]["containers"][0]["image"] = image
            cluster.registry.mutate("pods", "default", "fixme", fn)

        set_image("nginx:1.17.0")
        await until(lambda: cstatus(cluster, "fixme").get("ready"), what="running the fixed image")
        set_image("nginx:1.19.0")
        await until(lambda: cstatus(cluster, "fixme").get("restartCount") == 1
                    and cstatus(cluster, "fixme").get("image") == "docker.io/library/nginx:1.19.0",
                    what="restarted with the new image")
        assert ("Killing", "Container app definition changed, will be restarted") in events(cluster, "fixme")


async def test_malformed_probes_are_reported_never_a_crash():
    spec = {"livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 2},
            "readinessProbe": {"exec": {"command": ["no-such-tool", "x"]}, "periodSeconds": 2}}
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("odd", image="nginx", container=spec))
        await until(lambda: len([r for r, _ in events(cluster, "odd") if r == "Unhealthy"]) >= 2,
                    what="probe events")
        evs = events(cluster, "odd")
        assert ("Unhealthy", "Liveness probe errored: couldn't find port: http in container \"app\"") in evs
        assert any(m.startswith("Readiness probe failed: OCI runtime exec failed") and
                   '"no-such-tool": executable file not found in $PATH' in m for _, m in evs)
        assert cstatus(cluster, "odd")["restartCount"] == 0      # an errored probe kills nothing
        assert cstatus(cluster, "odd")["ready"] is False


async def test_memory_limit_below_the_app_footprint_is_oom_killed():
    limits = {"resources": {"limits": {"memory": "128Mi"}}}
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("jvm", image="jinyoung/order:stable", container=limits))
        cluster.registry.create("pods", pod("small", image="nginx", container=limits))
        await until(lambda: cstatus(cluster, "jvm").get("restartCount", 0) >= 1, what="OOM restart")
        last = cstatus(cluster, "jvm")["lastState"]["terminated"]
        assert last["reason"] == "OOMKilled" and last["exitCode"] == 137
        assert cstatus(cluster, "small")["restartCount"] == 0 and cstatus(cluster, "small")["ready"]


async def test_exec_probe_timeout_and_never_pull_policy():
    spec = {"command": ["sh", "-c", "sleep 3600"],
            "readinessProbe": {"exec": {"command": ["sleep", "5"]}, "timeoutSeconds": 1,
                               "periodSeconds": 2}}
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("slowprobe", image="busybox", container=spec))
        cluster.registry.create("pods", pod("never", image="example/absent:1",
                                            container={"imagePullPolicy": "Never"}))
        await until(lambda: ("Unhealthy", 'Readiness probe failed: command "sleep 5" timed out')
                    in events(cluster, "slowprobe"), what="probe timeout")
        assert cstatus(cluster, "slowprobe")["ready"] is False
        await until(lambda: cstatus(cluster, "never").get("state", {}).get("waiting", {})
                    .get("reason") == "ErrImageNeverPull", what="ErrImageNeverPull")
        assert cstatus(cluster, "never")["state"]["waiting"]["message"] == \
            'Container image "example/absent:1" is not present with pull policy of Never'


async def test_an_overloaded_app_fails_its_probe_by_timeout():
    spec = {"readinessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080},
                               "periodSeconds": 2, "timeoutSeconds": 1}}
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("busy", image="jinyoung/order:stable", container=spec,
                                            annotations={"kubelab.dev/boot-seconds": "1"}))
        await until(lambda: cstatus(cluster, "busy").get("ready"), what="ready")
        app = cluster.kubelet.container("default", "busy").app
        app.inflight = 400            # 400 requests sharing 2 cores: ~2.4 s each
        await until(lambda: not cstatus(cluster, "busy").get("ready"), what="unready under load")
        assert ("Unhealthy", 'Readiness probe failed: Get "http://%s:8080/actuator/health": context '
                "deadline exceeded (Client.Timeout exceeded while awaiting headers)"
                % cluster.kubelet.worker("default", "busy").ip) in events(cluster, "busy")
        app.inflight = 0
        await until(lambda: cstatus(cluster, "busy").get("ready"), what="ready again")


async def test_a_script_that_traps_term_stops_at_once():
    script = "trap 'exit 0' TERM; echo up; sleep 3600 & wait"
    async with kubelet_cluster(speed=5) as cluster:
        cluster.registry.create("pods", pod("trapper", image="busybox",
                                            container={"command": ["sh", "-c", script]}))
        cluster.registry.create("pods", pod("stubborn", image="busybox", terminationGracePeriodSeconds=3600,
                                            container={"command": ["sh", "-c", "sleep 3600"]}))
        await until(lambda: log_lines(cluster, "trapper") == ["up"], what="running")
        await until(lambda: cstatus(cluster, "stubborn").get("ready"))
        cluster.registry.delete("pods", "default", "trapper")
        cluster.registry.delete("pods", "default", "stubborn")
        # the trapping shell ends at SIGTERM; the other waits out its grace period (an hour)
        await until(lambda: cluster.registry.get("pods", "default", "trapper") is None, what="gone")
        assert cluster.registry.get("pods", "default", "stubborn") is not None


async def test_a_second_delete_with_a_shorter_grace_period_kills_sooner():
    async with kubelet_cluster(speed=5) as cluster:
        cluster.registry.create("pods", pod("slowstop", image="busybox", terminationGracePeriodSeconds=3600,
                                            container={"command": ["sh", "-c", "sleep 3600"]}))
        await until(lambda: cstatus(cluster, "slowstop").get("ready"))
        cluster.registry.delete("pods", "default", "slowstop")
        await until(lambda: cluster.registry.get("pods", "default", "slowstop")["metadata"]
                    .get("deletionTimestamp"), what="terminating")
        cluster.registry.delete("pods", "default", "slowstop", grace_seconds=1)
        await until(lambda: cluster.registry.get("pods", "default", "slowstop") is None, what="gone")

"""The mesh acting on real HTTP: host traffic into an injected namespace meets the
stand-in client Envoy; DestinationRule pools overflow with Envoy's exact 503,
outlier detection ejects and returns hosts, VirtualService routes, retries,
timeouts and faults apply, and a rule's change acts on the next request."""

import json

from meshkit import (DR, LAB_DR, OVERFLOW_BODY as OVERFLOW, VS, Raw, all_ready, app_pod, get,
                     host_address, load, mesh_cluster, rule, service)
from waits import until



async def test_host_traffic_into_an_injected_namespace_goes_through_envoy():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1")
        service(cluster, "order")
        await all_ready(cluster, "order-1")
        addr = await host_address(cluster, "order")
        conn = await Raw.open(addr)
        status, hdrs, body = await conn.request("GET", "/orders")
        conn.close()
        names = [k for k, _ in hdrs]
        assert status == 200 and json.loads(body)["pod"] == "order-1"
        assert names == [n.lower() for n in names]            # Envoy's codec: lower case
        h = dict(hdrs)
        assert h["server"] == "envoy" and h["x-envoy-upstream-service-time"].isdigit()
        pod = cluster.registry.get("pods", "default", "order-1")
        assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "istio-proxy"]
        assert [c["ready"] for c in pod["status"]["containerStatuses"]] == [True, True]


async def test_lab_destination_rule_overflows_and_delete_ends_it():
    async with mesh_cluster() as cluster:
        for i in (1, 2):
            app_pod(cluster, f"order-{i}", node=i, latency_ms=20)
        service(cluster, "order")
        await all_ready(cluster, "order-1", "order-2")
        addr = await host_address(cluster, "order")
        codes, _ = await load(addr, users=10, requests=10)
        assert codes == {200: 100}
        rule(cluster, DR, "order", LAB_DR)
        codes, samples = await load(addr, users=20, requests=10)
        assert codes.get(503, 0) > 0 and codes.get(200, 0) > 0, codes
        hdrs, body = samples[503]
        assert body == OVERFLOW
        assert ("x-envoy-overloaded", "true") in hdrs and ("server", "envoy") in hdrs
        assert ("content-type", "text/plain") in hdrs
        cluster.registry.delete(DR, "default", "order")
        codes, _ = await load(addr, users=20, requests=10)
        assert codes == {200: 200}


async def test_a_rule_acts_on_the_next_request_of_an_open_connection():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1")
        service(cluster, "order")
        await all_ready(cluster, "order-1")
        conn = await Raw.open(await host_address(cluster, "order"))
        assert (await conn.request())[0] == 200
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [{
            "fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100}}},
            "route": [{"destination": {"host": "order"}}]}]})
        status, hdrs, body = await conn.request()
        assert (status, body) == (418, b"fault filter abort")
        cluster.registry.delete(VS, "default", "order")
        assert (await conn.request())[0] == 200
        conn.close()


async def test_outlier_detection_ejects_the_failing_pod_for_a_while():
    async with mesh_cluster(speed=20) as cluster:
        app_pod(cluster, "order-1", node=1)
        app_pod(cluster, "order-2", node=2, error_rate=1)     # answers 500 to everything
        service(cluster, "order")
        await all_ready(cluster, "order-1", "order-2")
        addr = await host_address(cluster, "order")
        rule(cluster, DR, "order", {"host": "order", "trafficPolicy": {"outlierDetection": {
            "consecutive5xxErrors": 2, "interval": "1s", "baseEjectionTime": "20s",
            "maxEjectionPercent": 100}}})
        first, _ = await load(addr, users=1, requests=40)
        assert 1 <= first.get(500, 0) <= 4, first             # ejected after two 500s ...
        clock = cluster.clock
        ejected_at = clock.elapsed()
        after, _ = await load(addr, users=4, requests=20)
        if clock.elapsed() - ejected_at < 19:                 # ... and out for 20 s
            assert after == {200: 80}, after
        await until(lambda: clock.elapsed() - ejected_at > 22, timeout=60, what="ejection over")
        back, _ = await load(addr, users=1, requests=40)
        assert back.get(500, 0) >= 1, back                     # it returned (and goes again)


async def test_retries_take_the_request_to_another_pod():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1", node=1)
        app_pod(cluster, "order-2", node=2, error_rate=1)
        service(cluster, "order")
        await all_ready(cluster, "order-1", "order-2")
        addr = await host_address(cluster, "order")
        codes, _ = await load(addr, users=2, requests=30)
        assert codes.get(500, 0) > 0                           # istio's default: no 5xx retry
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [{
            "route": [{"destination": {"host": "order"}}],
            "retries": {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx"}}]})
        # one at a time: with two at once the failing pod, quick to answer, looks the
        # less busy and least-request keeps choosing it, retries or not (as in Envoy)
        codes, _ = await load(addr, users=1, requests=40)
        assert codes == {200: 40}, codes


async def test_timeouts_delays_and_aborts():
    async with mesh_cluster(speed=20) as cluster:
        app_pod(cluster, "order-1", latency_ms=3000)           # 3 s real for every answer
        app_pod(cluster, "fast-1", app="fast")
        service(cluster, "order")
        service(cluster, "fast")
        await all_ready(cluster, "order-1", "fast-1")
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [{
            "route": [{"destination": {"host": "order"}}], "timeout": "1s"}]})
        status, hdrs, body = await get(await host_address(cluster, "order"))
        assert (status, body) == (504, b"upstream request timeout")
        rule(cluster, VS, "fast", {"hosts": ["fast"], "http": [{
            "fault": {"delay": {"fixedDelay": "4s", "percentage": {"value": 100}},
                      "abort": {"httpStatus": 503, "percentage": {"value": 50}}},
            "route": [{"destination": {"host": "fast"}}]}]})
        fast = await host_address(cluster, "fast")
        before = cluster.clock.elapsed()
        status, _, _ = await get(fast, host="fast:8080")
        assert cluster.clock.elapsed() - before >= 4            # the delay, on the cluster clock
        codes, samples = await load(fast, users=10, requests=4)
        assert set(codes) == {200, 503}, codes
        assert samples[503][1] == b"fault filter abort"


async def test_subsets_weights_and_matches():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "v1", labels={"version": "v1"}, node=1)
        app_pod(cluster, "v2", labels={"version": "v2"}, node=2)
        service(cluster, "order")
        await all_ready(cluster, "v1", "v2")
        addr = await host_address(cluster, "order")
        rule(cluster, DR, "order", {"host": "order", "subsets": [
            {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]})
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [
            {"match": [{"headers": {"end-user": {"exact": "jason"}}}, {"uri": {"prefix": "/v2"}}],
             "route": [{"destination": {"host": "order", "subset": "v2"}}]},
            {"match": [{"uri": {"regex": "/split/[0-9]+"}}],
             "route": [{"destination": {"host": "order", "subset": "v1"}, "weight": 50},
                       {"destination": {"host": "order", "subset": "v2"}, "weight": 50}]},
            {"match": [{"uri": {"exact": "/orders"}}],
             "route": [{"destination": {"host": "order", "subset": "v1"}}]}]})

        async def served(path, headers=None, n=20):
            pods = set()
            for _ in range(n):
                status, _, body = await get(addr, path, headers)
                pods.add(json.loads(body)["pod"] if status == 200 else status)
            return pods
        assert await served("/orders") == {"v1"}
        assert await served("/orders", {"end-user": "jason"}) == {"v2"}
        assert await served("/v2/anything") == {"v2"}
        assert await served("/split/7", n=60) == {"v1", "v2"}
        assert await served("/nothing/else", n=1) == {404}       # no route matched, no fallback


async def test_outside_traffic_meets_only_the_servers_sidecar():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1", latency_ms=300)
        cluster.registry.create("services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "order", "namespace": "default"},
            "spec": {"type": "LoadBalancer", "selector": {"app": "order"},
                     "ports": [{"port": 8080, "targetPort": 8080, "protocol": "TCP"}]}})
        await all_ready(cluster, "order-1")

        def external_ip():
            svc = cluster.registry.get("services", "default", "order")
            ing = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            return ing[0]["ip"] if ing else None
        addr = f"{await until(external_ip, what='EXTERNAL-IP')}:8080"
        status, hdrs, _ = await get(addr)
        assert status == 200 and hdrs["server"] == "istio-envoy"   # the inbound sidecar's name
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [{
            "fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100}}},
            "route": [{"destination": {"host": "order"}}]}]})
        assert (await get(addr))[0] == 200                        # no client sidecar: no VS
        rule(cluster, DR, "order", {"host": "order", "trafficPolicy": {"connectionPool": {
            "tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}})
        codes, samples = await load(addr, users=8, requests=2)
        assert codes.get(503, 0) > 0, codes                       # but the inbound pool holds
        assert samples[503][1] == OVERFLOW


async def test_rewritten_probes_reach_the_app_through_the_sidecar():
    async with mesh_cluster() as cluster:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": "order-1", "namespace": "default", "labels": {"app": "order"},
            "annotations": {"kubelab.dev/boot-seconds": "0"}},
            "spec": {"nodeName": "kubelab-node-1", "containers": [{
                "name": "order", "image": "jinyoung/order:stable", "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080},
                                   "periodSeconds": 1, "failureThreshold": 1}}]}}
        cluster.registry.create("pods", body)
        pod = cluster.registry.get("pods", "default", "order-1")
        probe = pod["spec"]["containers"][0]["readinessProbe"]
        assert probe["httpGet"] == {"path": "/app-health/order/readyz", "port": 15020, "scheme": "HTTP"}
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][1]["env"]}
        assert json.loads(env["ISTIO_KUBE_APP_PROBERS"]) == {"/app-health/order/readyz": {
            "httpGet": {"path": "/actuator/health", "port": 8080, "scheme": "HTTP"},
            "timeoutSeconds": 1}}
        service(cluster, "order")
        await all_ready(cluster, "order-1")
        conn = await Raw.open(await host_address(cluster, "order"))
        assert (await conn.request("PUT", "/actuator/down"))[0] == 200
        conn.close()

        def order_ready():
            statuses = cluster.registry.get("pods", "default", "order-1")["status"]["containerStatuses"]
            return {s["name"]: s["ready"] for s in statuses}
        await until(lambda: order_ready() == {"order": False, "istio-proxy": True},
                    what="the app unready through :15020")


async def test_a_rule_for_a_host_that_is_no_service_disturbs_nothing():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1")
        service(cluster, "order")
        await all_ready(cluster, "order-1")
        tight = {"connectionPool": {"tcp": {"maxConnections": 1},
                                    "http": {"http1MaxPendingRequests": 1}}}
        rule(cluster, DR, "ghost", {"host": "nosuch", "trafficPolicy": tight})
        rule(cluster, DR, "elsewhere", {"host": "*.other.svc.cluster.local", "trafficPolicy": tight})
        rule(cluster, VS, "ghost", {"hosts": ["nosuch"], "http": [
            {"route": [{"destination": {"host": "nosuch"}}]}]})
        codes, _ = await load(await host_address(cluster, "order"), users=10, requests=10)
        assert codes == {200: 100}
        # a route to a Service that does not exist answers 503 (no cluster), and only there
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [
            {"match": [{"uri": {"prefix": "/lost"}}], "route": [{"destination": {"host": "nosuch"}}]},
            {"route": [{"destination": {"host": "order"}}]}]})
        addr = await host_address(cluster, "order")
        assert (await get(addr, "/lost"))[0] == 503
        assert (await get(addr, "/orders"))[0] == 200

"""Apps chosen by image and annotations; what each serves."""

import re

import pytest

from console.embedded import apps
from console.embedded.apps import BY_NAME, Context, Request, choose, repository
from console.embedded.apps.quota import Quota
from console.embedded.clock import Clock


@pytest.mark.parametrize("image, kind", [
    ("ghcr.io/acmexii/order-liveness:latest", "order"),
    ("jinyoung/order:canary", "order"),
    ("nginx", "nginx"),
    ("docker.io/library/nginx:1.17.0", "nginx"),
    ("k8s.gcr.io/busybox", "busybox"),
    ("busybox:1.36", "busybox"),
    ("apexacme/siege-nginx", "siege"),
    ("example/whatever:2", "http"),
    ("docker.io/istio/proxyv2:1.22.0", "istio-proxy"),
    ("ssak8acr.azurecr.io/gateway", "gateway"),
    ("ssak8acr.azurecr.io/customer:1.0", "customer"),
    ("ssak8acr.azurecr.io/customerview", "customerview"),
    ("ssak8acr.azurecr.io/kakao", "kakao"),
    ("496278789073.dkr.ecr.ap-northeast-2.amazonaws.com/ecr-skcc-team2-management:v1", "management"),
    ("team2/reservation:v2", "reservation"),
    ("example/preview:1", "http"),
])
def test_app_by_image(image, kind):
    assert choose(image, {}, {}).kind == kind


def test_annotation_and_command_override_the_image():
    assert choose("nginx", {}, {"kubelab.dev/app": "order"}) is BY_NAME["order"]
    assert choose("example/x", {"command": ["sh", "-c", "sleep 1"]}, {}).kind == "busybox"
    assert choose("nginx", {"command": ["sleep", "9"]}, {}).flavor == "gnu"


def test_repository_names():
    assert repository("docker.io/library/nginx:1.17") == "nginx"
    assert repository("localhost:5000/team/app:1") == "team/app"


def ctx(image, annotations=None, log=None):
    return Context(Clock(50), "p", "default", "c", image, "10.244.1.2", {}, annotations or {},
                   log or (lambda line: None))


async def call(app, method, path, body=b"", headers=None):
    resp = app.handle(Request(method, path, headers or {}, body))
    return resp if hasattr(resp, "status") else await resp


async def test_order_service_routes():
    app = apps.start(ctx("jinyoung/order:canary"))
    assert (await call(app, "POST", "/orders", b'{"productId": 3, "qty": 1}')).status == 201
    r = await call(app, "GET", "/orders")
    assert r.status == 200 and b'"canary"' in r.body and b'"productId": 3' in r.body
    assert (await call(app, "PUT", "/actuator/down")).status == 200
    assert (await call(app, "GET", "/actuator/health")).status == 503
    assert (await call(app, "PUT", "/actuator/up")).status == 200
    assert (await call(app, "GET", "/actuator/health")).status == 200
    assert (await call(app, "GET", "/nope")).status == 404
    assert (await call(app, "POST", "/orders", b"[not json")).status == 400
    assert app.cpu.burned == 8 * 12.0 / 1000 * app.clock.speed   # 8 requests, scaled by speed


async def test_annotations_override_the_profile_and_bad_values_are_logged():
    lines = []
    app = apps.start(ctx("jinyoung/order:stable", {"kubelab.dev/boot-seconds": "5",
                                                    "kubelab.dev/error-rate": "100%",
                                                    "kubelab.dev/cpu-per-request": "lots"},
                         log=lines.append))
    assert app.boot_seconds == 5 and app.error_rate == 1.0
    assert app.cpu_per_request == 12.0
    assert any("kubelab.dev/cpu-per-request" in line for line in lines)
    resp = await app.handle(Request("GET", "/orders"))
    assert resp.status == 500


async def test_latency_grows_with_requests_in_flight_over_the_cores():
    app = apps.start(ctx("jinyoung/order:stable", {"kubelab.dev/latency-ms": "10"}))
    assert app.cores == 2.0 and app.latency() == 0.010 + 0.012
    app.inflight = 15                                   # 16 requests share 2 cores
    assert abs(app.latency() - (0.010 + 0.012 * 8)) < 1e-9
    limited = apps.start(Context(Clock(50), "p", "default", "c", "jinyoung/order:stable", "10.244.1.2",
                                 {"resources": {"limits": {"cpu": "500m"}}}, {}, lambda line: None))
    # within its quota a 500m container runs a request at a whole core's speed (CFS)
    assert limited.cores == 0.5 and limited.latency() == 0.008 + 0.012


def test_cpu_quota_throttles_as_cfs_does():
    now = [0.0]
    q = Quota(0.5, now=lambda: now[0])        # limits.cpu 500m: 50 ms of CPU each 100 ms
    assert [q.take(0.012) for _ in range(4)] == pytest.approx([0.0] * 4, abs=1e-12)     # 48 ms: within the quota
    assert q.take(0.012) == pytest.approx(0.010 / 0.5)         # 10 ms owed: 20 ms throttled
    assert q.wait() == pytest.approx(0.020)                    # and whoever comes next waits too
    now[0] += 0.020                                            # the quota refills at 0.5 s/s
    assert q.wait() == pytest.approx(0.0)
    now[0] += 10.0                                             # idle: one period's quota, no more
    assert [q.take(0.010) for _ in range(5)] == pytest.approx([0.0] * 5, abs=1e-12)
    assert q.take(0.010) == pytest.approx(0.020)
    # sustained: the throughput tops out at cores / cpu, as the kernel's limit makes it
    now[0], served = 0.0, 0
    q = Quota(0.5, now=lambda: now[0])
    while now[0] < 10.0:
        now[0] += 0.005 + q.take(0.005) + 0.001   # closed loop: run, throttled, the next one
        served += 1
    assert served / 10.0 == pytest.approx(0.5 / 0.005, rel=0.02)


def test_nginx_welcome_page_and_access_log():
    lines = []
    app = apps.start(ctx("nginx:1.17.0", log=lines.append))
    r = app.handle(Request("GET", "/", {"user-agent": "curl/8"}))
    assert r.status == 200 and b"Welcome to nginx!" in r.body and r.headers["Server"] == "nginx/1.17.0"
    assert lines[-1].endswith('"GET / HTTP/1.1" 200 615 "-" "curl/8" "-"')
    # nginx's $time_local, in UTC: [01/Dec/2026:19:45:02 +0000]
    assert re.search(r" - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] ", lines[-1]), lines[-1]
    assert app.handle(Request("GET", "/x")).status == 404


async def test_hostname_app_logs_as_werkzeug_does():
    lines = []
    app = apps.start(ctx("student/hostname:latest", log=lines.append))
    assert (await app.handle(Request("GET", "/"))).status == 200   # its 1 ms: a coroutine
    assert re.fullmatch(r'\S+ - - \[\d\d/[A-Z][a-z]{2}/\d{4} \d\d:\d\d:\d\d\] "GET / HTTP/1.1" 200 -',
                        lines[-1]), lines[-1]


async def test_cpu_accounting_scales_outside_traffic_but_not_in_cluster_calls():
    app = apps.start(ctx("jinyoung/order:stable", {"kubelab.dev/latency-ms": "0"}))
    await app.call(Request("GET", "/orders"))                 # from a pod: simulated rate
    assert app.cpu.burned == 12.0 / 1000
    await call(app, "GET", "/orders")                         # from the host: real rate
    assert app.cpu.burned == 12.0 / 1000 + 12.0 / 1000 * app.clock.speed
    before = app.cpu.burned
    await app.call(Request("GET", "/actuator/health"), probe=True)
    assert app.cpu.burned == before                           # probes are not traffic

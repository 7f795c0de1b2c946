"""Lab L8 (document 004): customer calls kakao synchronously while it saves, in an
injected namespace, driven as the document drives it (`http` in the siege pod,
kubectl delete/apply -f kakao.yaml); the gateway's routes; how a failed call
reaches the client, as Spring Boot reports it."""

import json
import re

import pytest

from kubelet_helpers import SIEGE_MANIFEST, lab_cluster
from waits import wait_for

pytestmark = pytest.mark.kubectl

NS = "ssak8"
CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {name: ssak8-config, namespace: ssak8}
data:
  api.url.kakao: http://kakao:8080
"""
SERVICE = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: ssak8, labels: {{app: {name}}}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
        - name: {name}
          image: ssak8acr.azurecr.io/{name}:1.0
          ports: [{{containerPort: 8080}}]
{env}          readinessProbe:
            httpGet: {{path: '/actuator/health', port: 8080}}
            initialDelaySeconds: 10
            timeoutSeconds: 2
            periodSeconds: 5
            failureThreshold: 10
---
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: ssak8, labels: {{app: {name}}}}}
spec:
  ports: [{{port: 8080, targetPort: 8080}}]
  selector: {{app: {name}}}
"""
CUSTOMER_ENV = """          env:
            - name: api.url.kakao
              valueFrom: {configMapKeyRef: {name: ssak8-config, key: api.url.kakao}}
"""
KAKAO = SERVICE.format(name="kakao", env="")
REGISTER = ["http", "--print=hb", "POST", "http://customer:8080/customers", "customerName=yeon",
            "customerAddress=incheon", "customerAge=20"]


def ready(lab, app, ns=NS):
    pods = lab.pods(ns, f"app={app}")
    return pods and all(p.status.container_statuses and all(c.ready for c in p.status.container_statuses)
                        for p in pods)


def in_siege(lab, *argv, ns=NS):
    """(status, headers, body) of `http --print=hb ...` run in the siege pod."""
    out = lab.kubectl("exec", "siege", "-n", ns, "--", *argv, check=False).stdout
    head, _, body = out.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/1.1") else None
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return status, {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture(scope="module")
def lab():
    with lab_cluster() as lab:
        lab.kubectl("create", "namespace", NS)
        lab.kubectl("label", "namespace", NS, "istio-injection=enabled")
        lab.kubectl("apply", "-f", "-", input=CONFIG)
        lab.kubectl("apply", "-f", "-", input=SERVICE.format(name="customer", env=CUSTOMER_ENV))
        lab.kubectl("apply", "-f", "-", input=KAKAO)
        for name in ("customerview", "gateway"):
            lab.kubectl("create", "deploy", name, f"--image=ssak8acr.azurecr.io/{name}", "-n", NS)
            lab.kubectl("expose", "deploy", name, "--port=8080", "-n", NS)
        lab.kubectl("apply", "-n", NS, "-f", SIEGE_MANIFEST)
        for app in ("customer", "kakao", "customerview", "gateway"):
            wait_for(lambda: ready(lab, app), timeout=180, what=f"{app} ready")
        wait_for(lambda: lab.kubectl("exec", "siege", "-n", NS, "--", "http", "--check-status",
                                     "http://gateway:8080/customers", check=False).returncode == 0,
                 timeout=120, what="the siege pod reaching the gateway")
        yield lab


def test_l8_a_failed_sync_call_fails_the_save_and_cancelling_goes_on(lab):
    status, headers, body = in_siege(lab, *REGISTER)
    assert status == 201, body
    assert headers["server"] == "envoy" and headers["content-type"] == "application/json;charset=UTF-8"
    doc = json.loads(body)
    first = doc["_links"]["self"]["href"]
    assert re.fullmatch(r"http://customer:8080/customers/\d+", first) and headers["location"] == first
    assert {k: doc[k] for k in ("customerName", "customerAddress", "customerAge")} == {
        "customerName": "yeon", "customerAddress": "incheon", "customerAge": 20}

    lab.kubectl("delete", "-f", "-", input=KAKAO)
    wait_for(lambda: not lab.pods(NS, "app=kakao"), timeout=120, what="kakao gone")
    status, headers, body = in_siege(lab, *REGISTER)
    assert status == 500, body
    err = json.loads(body)
    assert err["error"] == "Internal Server Error" and err["path"] == "/customers"
    assert err["status"] == 500 and err["message"] == (
        "Could not commit JPA transaction; nested exception is javax.persistence.RollbackException: "
        "Error while committing the transaction")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", err["timestamp"])
    logs = lab.kubectl("logs", "deploy/customer", "-c", "customer", "-n", NS).stdout
    assert "feign.RetryableException: kakao: Name or service not known executing POST " \
           "http://kakao:8080/kakaos" in logs
    # cancelling is an event, not a call: it works while kakao is away
    oid = first.rsplit("/", 1)[1]
    status, headers, body = in_siege(lab, "http", "--print=hb", "DELETE",
                                     f"http://customer:8080/customers/{oid}")
    assert status == 204 and body.strip() == ""

    lab.kubectl("apply", "-f", "-", input=KAKAO)
    wait_for(lambda: ready(lab, "kakao"), timeout=180, what="kakao back")
    status, headers, body = in_siege(lab, *REGISTER)
    assert status == 201, body
    later = int(json.loads(body)["_links"]["self"]["href"].rsplit("/", 1)[1])
    assert later == int(oid) + 2           # the rolled-back save had taken an id
    # kakao read the cancel it missed (its consumer group kept the offset)
    status, _, body = in_siege(lab, "http", "--print=hb", "GET", "http://kakao:8080/kakaos")
    kakaos = json.loads(body)["_embedded"]["kakaos"]
    assert status == 200 and len(kakaos) == 2
    assert "##### listener KakaoAlertCancel" in lab.kubectl(
        "logs", "deploy/kakao", "-c", "kakao", "-n", NS).stdout
    status, _, body = in_siege(lab, "http", "--print=hb", "GET",
                               "http://customerView:8080/customerViews")
    views = json.loads(body)["_embedded"]["customerViews"]
    assert status == 200 and views[0]["_links"]["self"]["href"].startswith(
        "http://customerview:8080/customerViews/")


def test_the_gateway_routes_by_path_and_reports_its_failures(lab):
    status, _, body = in_siege(lab, "http", "--print=hb", "GET", "http://gateway:8080/customers")
    assert status == 200 and "customers" in json.loads(body)["_embedded"]
    status, _, body = in_siege(lab, "http", "--print=hb", "GET", "http://gateway:8080/kakaos")
    assert status == 200 and "kakaos" in json.loads(body)["_embedded"]
    status, _, body = in_siege(lab, "http", "--print=hb", "GET", "http://gateway:8080/customerViews")
    assert status == 200 and "customerViews" in json.loads(body)["_embedded"]
    status, _, body = in_siege(lab, "http", "--print=hb", "GET", "http://gateway:8080/nothing")
    assert status == 404 and json.loads(body)["message"] is None
    # /carManagements is routed too, and there is no management Service here
    status, _, body = in_siege(lab, "http", "--print=hb", "GET", "http://gateway:8080/carManagements")
    assert status == 500 and json.loads(body)["message"] == "failed to resolve 'management' after 2 queries "
    # a POST through the gateway saves through customer, which calls kakao
    status, headers, body = in_siege(lab, "http", "--print=hb", "POST", "http://gateway:8080/customers",
                                     "customerName=kim", "customerAge=31")
    assert status == 201 and json.loads(body)["customerName"] == "kim"


def test_routes_and_calls_declared_in_the_manifest_and_failures_without_a_mesh(lab):
    ns = "plain"                       # no sidecars: refusals reach the apps themselves
    lab.kubectl("create", "namespace", ns)
    lab.kubectl("apply", "-n", ns, "-f", SIEGE_MANIFEST)
    lab.kubectl("create", "service", "clusterip", "nobody", "--tcp=8080:8080", "-n", ns)
    lab.kubectl("create", "deploy", "kakao", "--image=ssak8acr.azurecr.io/kakao", "-n", ns)
    lab.kubectl("expose", "deploy", "kakao", "--port=8080", "-n", ns)
    # Spring Cloud Gateway's routes from its environment (relaxed binding of routes[n])
    lab.kubectl("create", "deploy", "edge", "--image=example/edge-gateway:1", "-n", ns)
    lab.kubectl("set", "env", "deploy/edge", "-n", ns,
                "SPRING_CLOUD_GATEWAY_ROUTES_0_URI=http://nobody:8080",
                "SPRING_CLOUD_GATEWAY_ROUTES_0_PREDICATES_0=Path=/down/**",
                "SPRING_CLOUD_GATEWAY_ROUTES_1_URI=http://kakao:8080",
                "SPRING_CLOUD_GATEWAY_ROUTES_1_PREDICATES_0=Path=/kakaos/**")
    lab.kubectl("expose", "deploy", "edge", "--port=8080", "-n", ns)
    # calls declared on any of the REST images: here a callee that answers 404
    lab.kubectl("create", "deploy", "payment", "--image=ssak8acr.azurecr.io/payment", "-n", ns)
    lab.kubectl("patch", "deploy/payment", "-n", ns, "-p",
                '{"spec":{"template":{"metadata":{"annotations":{"kubelab.dev/calls":'
                '"POST /payments -> POST http://edge:8080/nothing"}}}}}')
    lab.kubectl("expose", "deploy", "payment", "--port=8080", "-n", ns)

    def get(*argv):
        status, _, body = in_siege(lab, "http", "--print=hb", *argv, ns=ns)
        return status, body
    wait_for(lambda: get("GET", "http://edge:8080/kakaos")[0] == 200, timeout=180,
             what="edge routing to kakao")
    assert get("GET", "http://edge:8080/customers")[0] == 404       # only its own routes now
    status, body = get("GET", "http://edge:8080/down/x")
    assert status == 500 and json.loads(body)["message"] == "Connection refused: nobody:8080"
    wait_for(lambda: get("GET", "http://payment:8080/payments")[0] == 200, timeout=180,
             what="payment serving")
    status, body = get("POST", "http://payment:8080/payments", "paymtNo=p1")
    assert status == 500 and json.loads(body)["message"].startswith("Could not commit JPA")
    logs = lab.kubectl("logs", "deploy/payment", "-n", ns).stdout
    assert "feign.FeignException$NotFound: [404 Not Found] during [POST] to " \
           "[http://edge:8080/nothing]" in logs
    # the callee gone for good: connection refused (no endpoints), then no such name
    lab.kubectl("scale", "deploy/edge", "--replicas=0", "-n", ns)
    wait_for(lambda: not lab.pods(ns, "app=edge"), timeout=120, what="edge scaled to 0")
    assert get("POST", "http://payment:8080/payments", "paymtNo=p2")[0] == 500
    assert "Connection refused (Connection refused) executing POST http://edge:8080/nothing" in \
        lab.kubectl("logs", "deploy/payment", "-n", ns).stdout
    # a callee slower than Feign's read timeout: the save fails after the timeout
    lab.kubectl("create", "deploy", "slowkakao", "--image=ssak8acr.azurecr.io/kakao", "-n", ns)
    lab.kubectl("patch", "deploy/slowkakao", "-n", ns, "-p",
                '{"spec":{"template":{"metadata":{"annotations":{"kubelab.dev/latency-ms":"3000"}}}}}')
    lab.kubectl("expose", "deploy", "slowkakao", "--port=8080", "-n", ns)
    lab.kubectl("create", "deploy", "customer", "--image=ssak8acr.azurecr.io/customer", "-n", ns)
    lab.kubectl("set", "env", "deploy/customer", "-n", ns, "API_URL_KAKAO=http://slowkakao:8080",
                "FEIGN_CLIENT_CONFIG_DEFAULT_READTIMEOUT=500")
    lab.kubectl("expose", "deploy", "customer", "--port=8080", "-n", ns)
    wait_for(lambda: get("GET", "http://slowkakao:8080/kakaos")[0] == 200, timeout=180,
             what="slowkakao serving")
    wait_for(lambda: ready(lab, "customer", ns) and len(lab.pods(ns, "app=customer")) == 1
             and get("GET", "http://customer:8080/customers")[0] == 200, timeout=180,
             what="customer serving with its new environment")
    status, body = get("POST", "http://customer:8080/customers", "customerName=lee")
    assert status == 500 and json.loads(body)["message"].startswith("Could not commit JPA")
    assert "Read timed out executing POST http://slowkakao:8080/kakaos" in \
        lab.kubectl("logs", "deploy/customer", "-n", ns).stdout


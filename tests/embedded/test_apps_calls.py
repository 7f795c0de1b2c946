"""How manifests declare routes and calls, and how the REST apps and the gateway
read them (no cluster: the parsing, the matching, Spring's properties)."""

import json

import pytest

from console.embedded import apps
from console.embedded.apps import Context, Request
from console.embedded.apps.calls import BadSpec, Call, parse_calls, parse_routes, path_matches
from console.embedded.clock import Clock


def app_for(image, env=None, annotations=None):
    lines = []
    ctx = Context(Clock(50), "p", "ns", "c", image, "10.244.1.2", {}, annotations or {},
                  lines.append, env=env or {})
    return apps.start(ctx), lines


def test_calls_and_routes_syntax():
    assert parse_calls("POST /customers -> POST ${api.url.kakao}/kakaos; /x -> http://y/z") == [
        Call("POST", "/customers", "POST", "${api.url.kakao}/kakaos"),
        Call("*", "/x", "POST", "http://y/z")]
    assert parse_routes("/a/** -> http://a:8080/\n/b -> http://b:80") == [
        ("/a/**", "http://a:8080"), ("/b", "http://b:80")]
    for bad in ("POST /x", "x -> POST http://y", "GET /x -> GET"):
        with pytest.raises(BadSpec):
            parse_calls(bad)
    with pytest.raises(BadSpec):
        parse_routes("/a/** -> management")
    assert path_matches("/customers/**", "/customers") and path_matches("/customers/**", "/customers/4")
    assert not path_matches("/customers/**", "/customersX") and path_matches("/a/*", "/a/b")
    assert Call("POST", "/customers", "POST", "u").matches(Request("POST", "/customers/"))
    assert not Call("POST", "/customers", "POST", "u").matches(Request("GET", "/customers"))


def test_spring_properties_come_from_the_environment_exact_or_relaxed():
    customer, _ = app_for("ssak8acr.azurecr.io/customer", env={"api.url.kakao": "http://k:1"})
    assert customer.resolve(customer.calls[0].url) == "http://k:1/kakaos"
    customer, _ = app_for("ssak8acr.azurecr.io/customer", env={"API_URL_KAKAO": "http://k:2"})
    assert customer.resolve(customer.calls[0].url) == "http://k:2/kakaos"
    customer, _ = app_for("ssak8acr.azurecr.io/customer")
    assert customer.resolve(customer.calls[0].url) == "http://kakao:8080/kakaos"
    customer, lines = app_for("ssak8acr.azurecr.io/customer", annotations={"kubelab.dev/calls": "junk"})
    assert customer.calls and any("ignoring annotation kubelab.dev/calls" in l for l in lines)


def test_gateway_routes_from_env_replace_the_images_and_annotations_come_next():
    gw, _ = app_for("ssak8acr.azurecr.io/gateway")
    assert ("/carManagements/**", "http://management:8080") in gw.routes
    gw, _ = app_for("x/edge-gateway", env={
        "SPRING_CLOUD_GATEWAY_ROUTES_0_URI": "http://m:8080",
        "SPRING_CLOUD_GATEWAY_ROUTES_0_PREDICATES_0": "Path=/a/**,/b/**",
        "SPRING_CLOUD_GATEWAY_HTTPCLIENT_RESPONSE_TIMEOUT": "5s"})
    assert gw.routes == [("/a/**", "http://m:8080"), ("/b/**", "http://m:8080")]
    assert gw.response_timeout == 5.0
    gw, _ = app_for("x/gateway", annotations={"kubelab.dev/routes": "/z/** -> http://z:9"})
    assert gw.routes == [("/z/**", "http://z:9")]


async def test_rest_answers_as_spring_data_rest():
    kakao, _ = app_for("ssak8acr.azurecr.io/kakao")
    r = await kakao.call(Request("POST", "/kakaos", {"host": "kakao:8080", "accept": "application/json"},
                                 json.dumps({"customerName": "yeon", "customerAge": "20"}).encode()))
    doc = json.loads(r.body)
    assert r.status == 201 and r.headers["Location"] == "http://kakao:8080/kakaos/1"
    assert list(doc) == ["customerName", "customerAddress", "customerAge", "_links"]
    assert doc["customerAge"] == 20 and r.content_type == "application/json;charset=UTF-8"
    r = await kakao.call(Request("POST", "/kakaos", {}, b'{"customerAge": "old"}'))
    assert r.status == 400 and "not a valid Integer value" in json.loads(r.body)["message"]
    r = await kakao.call(Request("GET", "/kakaos/9", {}))
    assert r.status == 404 and r.body == b""
    r = await kakao.call(Request("DELETE", "/kakaos/1", {}))
    assert r.status == 204

"""Restricted users (`kubelab cluster --user NAME=ROLE[:NAMESPACE]`): their own
tokens and kubeconfig contexts, RBAC's refusals worded as kube-apiserver words
them, and the review kinds answering truthfully for each token."""

import json

import pytest
from kubehelp import run_kubectl

from console.embedded import authz

pytestmark = pytest.mark.kubectl


@pytest.fixture(scope="module")
def rbac():
    from console.embedded import launch
    c = launch.start(speed=20, users=["viewer=view", "dev=edit:default"])
    yield c
    c.stop()


def k(c, *args, **kw):
    return run_kubectl(c, *args, **kw)


def test_each_user_has_a_context_and_kubectl_sees_who_it_is(rbac):
    contexts = k(rbac, "config", "get-contexts", "-o", "name").stdout.split()
    assert contexts == ["kubelab", "kubelab-dev", "kubelab-viewer"]
    assert "Username    viewer" in k(rbac, "--context", "kubelab-viewer", "auth", "whoami").stdout
    admin = k(rbac, "auth", "whoami").stdout
    assert "Username    kubelab" in admin and "system:masters" in admin


def test_view_reads_but_every_write_is_a_403_naming_verb_resource_and_namespace(rbac):
    assert k(rbac, "create", "deployment", "web", "--image=nginx:1.25").returncode == 0
    v = ("--context", "kubelab-viewer")
    assert "web" in k(rbac, *v, "get", "deploy").stdout
    r = k(rbac, *v, "scale", "deployment", "web", "--replicas=3")
    assert r.returncode == 1
    assert ('Error from server (Forbidden): deployments.apps "web" is forbidden: User "viewer" '
            'cannot patch resource "deployments/scale" in API group "apps" in the namespace '
            '"default"') in r.stderr
    r = k(rbac, *v, "delete", "deployment", "web")
    assert ('deployments.apps "web" is forbidden: User "viewer" cannot delete resource '
            '"deployments" in API group "apps" in the namespace "default"') in r.stderr
    r = k(rbac, *v, "get", "secrets")
    assert ('secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" '
            'in the namespace "default"') in r.stderr
    r = k(rbac, *v, "get", "nodes")
    assert ('nodes is forbidden: User "viewer" cannot list resource "nodes" in API group "" at '
            'the cluster scope') in r.stderr
    r = k(rbac, *v, "get", "--raw", "/metrics")
    assert 'forbidden: User "viewer" cannot get path "/metrics"' in r.stderr
    # the refusal comes before the lookup, as in kube-apiserver: 403, not 404
    r = k(rbac, *v, "delete", "pod", "no-such-pod")
    assert 'pods "no-such-pod" is forbidden' in r.stderr


def test_edit_in_one_namespace_is_refused_everywhere_else(rbac):
    d = ("--context", "kubelab-dev")
    assert k(rbac, *d, "create", "configmap", "mine", "--from-literal=a=b").returncode == 0
    r = k(rbac, *d, "get", "po", "-A")
    assert ('pods is forbidden: User "dev" cannot list resource "pods" in API group "" at the '
            'cluster scope') in r.stderr
    r = k(rbac, *d, "get", "po", "-n", "kube-system")
    assert 'in the namespace "kube-system"' in r.stderr
    assert k(rbac, *d, "get", "ns", "default").returncode == 0   # its own namespace, by name


def test_can_i_answers_truthfully_for_each_token(rbac):
    def can(ctx, *args):
        return k(rbac, "--context", ctx, "auth", "can-i", *args).stdout.strip()
    assert can("kubelab", "delete", "nodes") == "yes"
    assert can("kubelab-viewer", "list", "pods") == "yes"
    assert can("kubelab-viewer", "delete", "pods") == "no"
    assert can("kubelab-viewer", "create", "pods/exec") == "no"
    assert can("kubelab-dev", "create", "pods/portforward") == "yes"
    assert can("kubelab-dev", "delete", "pods", "-n", "kube-system") == "no"
    assert can("kubelab-dev", "patch", "deployments.apps") == "yes"
    listed = k(rbac, "--context", "kubelab-viewer", "auth", "can-i", "--list").stdout
    assert "deployments.apps" in listed and "[get list watch]" in listed
    assert "secrets" not in listed


def test_rules_review_and_access_review_over_the_api(rbac):
    from kubernetes import client, config
    cfg = client.Configuration()
    config.load_kube_config(str(rbac.kubeconfig), context="kubelab-dev", client_configuration=cfg)
    api = client.ApiClient(cfg)
    try:
        auth = client.AuthorizationV1Api(api)
        rules = auth.create_self_subject_rules_review(
            {"spec": {"namespace": "default"}}).status.resource_rules
        assert any("delete" in r.verbs and "pods" in r.resources for r in rules)
        rules = auth.create_self_subject_rules_review(
            {"spec": {"namespace": "kube-system"}}).status.resource_rules
        assert not any("pods" in r.resources for r in rules)
        review = auth.create_self_subject_access_review({"spec": {"resourceAttributes": {
            "namespace": "default", "verb": "delete", "resource": "pods"}}}).status
        assert review.allowed
        assert review.reason == ('RBAC: allowed by RoleBinding "kubelab-dev/default" of '
                                 'ClusterRole "edit" to User "dev"')
        with pytest.raises(client.ApiException) as e:
            client.CoreV1Api(api).list_node()
        assert e.value.status == 403
        body = json.loads(e.value.body)
        assert (body["reason"], body["code"], body["details"]) == ("Forbidden", 403, {"kind": "nodes"})
    finally:
        api.close()


def test_the_admin_hooks_are_the_administrators_only(rbac):
    import urllib.error
    viewer = next(u for u in json.loads(k(rbac, "config", "view", "--raw", "-o", "json").stdout)
                  ["users"] if u["name"] == "viewer")["user"]["token"]
    real = rbac.token
    try:
        rbac.token = viewer
        with pytest.raises(urllib.error.HTTPError) as e:
            rbac.compact()
        assert e.value.code == 403
    finally:
        rbac.token = real
    assert int(rbac.compact()) > 0


def test_user_flags_are_checked():
    assert authz.parse_user("dev=edit:team-a") == ("dev", "edit", "team-a")
    for bad in ("dev", "dev=owner", "=view", "kubelab=view", "a b=view"):
        with pytest.raises(ValueError):
            authz.parse_user(bad)

"""Sidecar injection: what istiod's injection webhook does to a new pod (Istio 1.26,
classic sidecars, no CNI; manifests/.../injection-template.yaml, inject.go).

Who gets one, as the istio-sidecar-injector webhook's selectors and
injectRequired decide:
  namespace istio-injection=enabled   every new pod, unless it says
                                      sidecar.istio.io/inject: "false" (label, or
                                      annotation when there is no label)
  namespace istio.io/rev=<rev>        the same (the revision's webhook)
  namespace without either label      only pods labelled sidecar.istio.io/inject: "true"
  namespace istio-injection=disabled  never
  never: hostNetwork pods, kube-system / kube-public, pods already injected.
Only new pods: relabelling a namespace changes nothing that runs.

What it adds: the istio-init init container (istio-iptables), the istio-proxy
container (docker.io/istio/proxyv2:<VERSION>, port 15090 http-envoy-prom,
startup and readiness probes on :15021/healthz/ready, 100m/128Mi requests), the
volumes, labels (security.istio.io/tlsMode, service.istio.io/canonical-*) and
annotations (sidecar.istio.io/status, kubectl.kubernetes.io/default-container,
prometheus.io/*). The app's httpGet and tcpSocket probes are rewritten to
:15020/app-health/<container>/<kind>z (sidecar.istio.io/rewriteAppHTTPProbers,
on by default), the originals handed to the sidecar in ISTIO_KUBE_APP_PROBERS.
"""

import copy
import json

VERSION = "1.26.3"
IMAGE = f"docker.io/istio/proxyv2:{VERSION}"
ANNOTATION = "sidecar.istio.io/inject"
STATUS = "sidecar.istio.io/status"
IGNORED = ("kube-system", "kube-public")
RESOURCES = {"limits": {"cpu": "2", "memory": "1Gi"},
             "requests": {"cpu": "100m", "memory": "128Mi"}}
VOLUMES = ["workload-socket", "credential-socket", "workload-certs", "istio-envoy", "istio-data",
           "istio-podinfo", "istio-token", "istiod-ca-cert", "istio-ca-crl"]
CA_CONFIGMAP = "istio-ca-root-cert"
PROBE_SUFFIX = {"livenessProbe": "livez", "readinessProbe": "readyz", "startupProbe": "startupz"}


def wanted(pod: dict, namespace: dict | None) -> bool:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    ns = meta.get("namespace") or "default"
    if spec.get("hostNetwork") or ns in IGNORED or STATUS in (meta.get("annotations") or {}):
        return False
    if any(c.get("name") == "istio-proxy" for c in spec.get("containers") or []):
        return False
    ns_labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    labels = meta.get("labels") or {}
    choice = labels.get(ANNOTATION, (meta.get("annotations") or {}).get(ANNOTATION, ""))
    injection = ns_labels.get("istio-injection")
    if injection == "enabled" or (injection is None and "istio.io/rev" in ns_labels):
        return labels.get(ANNOTATION) != "false" and choice != "false"
    if injection is None:
        return labels.get(ANNOTATION) == "true"
    return False


def inject(pod: dict) -> None:
    """Adds the sidecar to pod, in place."""
    meta = pod.setdefault("metadata", {})
    spec = pod.setdefault("spec", {})
    labels = meta.setdefault("labels", {}) or {}
    meta["labels"] = labels
    ann = meta.setdefault("annotations", {}) or {}
    meta["annotations"] = ann
    apps = [c.get("name") for c in spec.get("containers") or []]
    owner = _workload_name(meta)
    labels.setdefault("security.istio.io/tlsMode", "istio")
    labels.setdefault("service.istio.io/canonical-name", (
        labels.get("app.kubernetes.io/name") or labels.get("app") or owner)[:63].strip("-_."))
    labels.setdefault("service.istio.io/canonical-revision", labels.get("app.kubernetes.io/version")
                      or labels.get("version") or "latest")
    ann.setdefault("istio.io/rev", "default")
    if apps:
        ann.setdefault("kubectl.kubernetes.io/default-logs-container", apps[0])
        ann.setdefault("kubectl.kubernetes.io/default-container", apps[0])
    ann.setdefault("prometheus.io/path", "/stats/prometheus")
    ann.setdefault("prometheus.io/port", "15020")
    ann.setdefault("prometheus.io/scrape", "true")
    ann[STATUS] = json.dumps({"initContainers": ["istio-init"], "containers": ["istio-proxy"],
                              "volumes": VOLUMES, "imagePullSecrets": None, "revision": "default"},
                             separators=(",", ":"))
    probers = {}
    if ann.get("sidecar.istio.io/rewriteAppHTTPProbers", "true") != "false":
        for c in spec.get("containers") or []:
            probers.update(_rewrite_probes(c))
    spec["initContainers"] = list(spec.get("initContainers") or []) + [_init_container()]
    spec["containers"] = list(spec.get("containers") or []) + [
        _proxy_container(pod, apps, owner, probers)]
    spec["volumes"] = list(spec.get("volumes") or []) + _volumes()


def _workload_name(meta: dict) -> str:
    """The Deployment's name for a ReplicaSet's pod, as the injector's DeploymentMeta."""
    for ref in meta.get("ownerReferences") or []:
        name = ref.get("name") or ""
        if ref.get("kind") == "ReplicaSet" and "-" in name:
            return name.rsplit("-", 1)[0]
        if name:
            return name
    return meta.get("name") or (meta.get("generateName") or "").rstrip("-")


def _rewrite_probes(c: dict) -> dict:
    out = {}
    for kind, suffix in PROBE_SUFFIX.items():
        probe = c.get(kind)
        if not isinstance(probe, dict) or not ("httpGet" in probe or "tcpSocket" in probe):
            continue
        path = f"/app-health/{c.get('name')}/{suffix}"
        original = {}
        if "httpGet" in probe:
            get = dict(probe["httpGet"] or {})
            get["port"] = _port(get.get("port"), c)
            get.setdefault("scheme", "HTTP")
            original["httpGet"] = get
        else:
            original["tcpSocket"] = {"port": _port((probe["tcpSocket"] or {}).get("port"), c)}
        original["timeoutSeconds"] = probe.get("timeoutSeconds", 1)
        out[path] = original
        new = {k: v for k, v in probe.items() if k not in ("httpGet", "tcpSocket")}
        new["httpGet"] = {"path": path, "port": 15020, "scheme": "HTTP"}
        c[kind] = new
    return out


def _port(port, c: dict):
    if isinstance(port, str) and not port.isdigit():
        return next((p.get("containerPort") for p in c.get("ports") or [] if p.get("name") == port), port)
    return int(port) if isinstance(port, str) else port


def _init_container() -> dict:
    return {
        "name": "istio-init", "image": IMAGE,
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
                 "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020",
                 "--log_output_level=default:info"],
        "resources": copy.deepcopy(RESOURCES),
        "securityContext": {"allowPrivilegeEscalation": False, "privileged": False,
                            "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                            "readOnlyRootFilesystem": False, "runAsGroup": 0,
                            "runAsNonRoot": False, "runAsUser": 0},
    }


def _proxy_container(pod: dict, apps: list, owner: str, probers: dict) -> dict:
    ns_ref = {"fieldRef": {"fieldPath": "metadata.namespace"}}
    ports = [p for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []]
    env = [
        {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
        {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": ns_ref},
        {"name": "INSTANCE_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SERVICE_ACCOUNT", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
        {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "ISTIO_CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                                                                        "divisor": "1"}}},
        {"name": "PROXY_CONFIG", "value": "{}\n"},
        {"name": "ISTIO_META_POD_PORTS", "value": json.dumps(ports, indent=1) if ports else "[\n]"},
        {"name": "ISTIO_META_APP_CONTAINERS", "value": ",".join(apps)},
        {"name": "GOMEMLIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                  "divisor": "1"}}},
        {"name": "ISTIO_META_CLUSTER_ID", "value": "Kubernetes"},
        {"name": "ISTIO_META_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "ISTIO_META_INTERCEPTION_MODE", "value": "REDIRECT"},
        {"name": "ISTIO_META_WORKLOAD_NAME", "value": owner},
        {"name": "ISTIO_META_MESH_ID", "value": "cluster.local"},
        {"name": "TRUST_DOMAIN", "value": "cluster.local"},
    ]
    if probers:
        env.append({"name": "ISTIO_KUBE_APP_PROBERS",
                    "value": json.dumps(probers, separators=(",", ":"))})
    ready = {"httpGet": {"path": "/healthz/ready", "port": 15021}, "initialDelaySeconds": 0,
             "periodSeconds": 15, "timeoutSeconds": 3, "failureThreshold": 4}
    return {
        "name": "istio-proxy", "image": IMAGE,
        "ports": [{"containerPort": 15090, "protocol": "TCP", "name": "http-envoy-prom"}],
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                 "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
                 "--log_output_level=default:info"],
        "env": env,
        "startupProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021},
                         "initialDelaySeconds": 0, "periodSeconds": 1, "timeoutSeconds": 3,
                         "failureThreshold": 600},
        "readinessProbe": ready,
        "resources": copy.deepcopy(RESOURCES),
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "privileged": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": 1337, "runAsGroup": 1337},
        "volumeMounts": [
            {"name": "workload-socket", "mountPath": "/var/run/secrets/workload-spiffe-uds"},
            {"name": "credential-socket", "mountPath": "/var/run/secrets/credential-uds"},
            {"name": "workload-certs", "mountPath": "/var/run/secrets/workload-spiffe-credentials"},
            {"name": "istiod-ca-cert", "mountPath": "/var/run/secrets/istio"},
            {"name": "istio-ca-crl", "mountPath": "/var/run/secrets/istio/crl"},
            {"name": "istio-data", "mountPath": "/var/lib/istio/data"},
            {"name": "istio-envoy", "mountPath": "/etc/istio/proxy"},
            {"name": "istio-token", "mountPath": "/var/run/secrets/tokens"},
            {"name": "istio-podinfo", "mountPath": "/etc/istio/pod"},
        ],
    }


def _volumes() -> list:
    return [
        {"name": "workload-socket", "emptyDir": {}},
        {"name": "credential-socket", "emptyDir": {}},
        {"name": "workload-certs", "emptyDir": {}},
        {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
        {"name": "istio-data", "emptyDir": {}},
        {"name": "istio-podinfo", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}}]}},
        {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {
            "path": "istio-token", "expirationSeconds": 43200, "audience": "istio-ca"}}]}},
        {"name": "istiod-ca-cert", "configMap": {"name": CA_CONFIGMAP}},
        {"name": "istio-ca-crl", "configMap": {"name": "istio-ca-crl", "optional": True}},
    ]


def ca_configmap(namespace: str) -> dict:
    """istio-ca-root-cert, as istiod's namespace controller publishes it."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CA_CONFIGMAP, "namespace": namespace,
                         "labels": {"istio.io/config": "true"}},
            "data": {"root-cert.pem": CA_PEM}}


CA_PEM = """-----BEGIN CERTIFICATE-----
MIIC/DCCAeSgAwIBAgIQKubelabMeshRootCAforLabs0DQYJKoZIhvcNAQELBQAw
GDEWMBQGA1UEChMNY2x1c3Rlci5sb2NhbDAeFw0yNTAxMDEwMDAwMDBaFw0zNTAx
MDEwMDAwMDBaMBgxFjAUBgNVBAoTDWNsdXN0ZXIubG9jYWwwggEiMA0GCSqGSIb3
-----END CERTIFICATE-----
"""

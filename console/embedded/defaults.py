"""Defaulting as the real API server does it (k8s.io/kubernetes pkg/apis/*/v1/defaults.go
plus the admission plugins every cluster runs: DefaultTolerationSeconds,
ServiceAccount), and ClusterIP/NodePort allocation for Services.

The tables at the end are the built-in admission hooks (admission.py).
"""

import ipaddress
import random

from console.embedded.admission import Invalid

PROBE = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORTS = (30000, 32767)


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.split(":", 1)[1] if ":" in name else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _probe(p: dict | None) -> None:
    if not isinstance(p, dict):
        return
    for k, v in PROBE.items():
        p.setdefault(k, v)
    if isinstance(p.get("httpGet"), dict):
        p["httpGet"].setdefault("scheme", "HTTP")
        p["httpGet"].setdefault("path", "/")
    if isinstance(p.get("grpc"), dict):
        p["grpc"].setdefault("service", "")


def _container(c: dict) -> None:
    if not isinstance(c, dict):
        return
    if c.get("image"):
        c.setdefault("imagePullPolicy", _image_pull_policy(c["image"]))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    res = c["resources"]
    if isinstance(res, dict) and res.get("limits") and not res.get("requests"):
        res["requests"] = dict(res["limits"])  # requests default to limits
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
    for e in c.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("fieldRef") if isinstance(e, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")
    for name in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c.get(name))


def pod_spec(spec: dict) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _container(c)


def pod(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    tol = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(isinstance(t, dict) and t.get("key") == key for t in tol):
            tol.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                        "tolerationSeconds": 300})
    if not obj.get("status"):
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


def qos_class(spec: dict) -> str:
    reqs, lims, all_guaranteed, any_set = [], [], True, False
    for c in spec.get("containers") or []:
        r = (c.get("resources") or {})
        req, lim = r.get("requests") or {}, r.get("limits") or {}
        reqs.append(req)
        lims.append(lim)
        if req or lim:
            any_set = True
        if not (lim.get("cpu") and lim.get("memory") and
                all(req.get(k, lim[k]) == lim[k] for k in ("cpu", "memory"))):
            all_guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if all_guaranteed else "Burstable"


def _template(spec: dict) -> None:
    tmpl = spec.get("template")
    if isinstance(tmpl, dict):
        tmpl.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        pod_spec(tmpl.setdefault("spec", {}))


def deployment(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(spec)


def replicaset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    _template(spec)


def daemonset(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(spec)


JOB_UID, JOB_NAME = "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"


def _job_spec(spec: dict) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(spec)


def job(obj: dict) -> None:
    """batch/v1 defaults, and the selector the Job strategy generates at create
    (PrepareForCreate): the Job's uid in its selector and its pods' labels."""
    spec = obj.setdefault("spec", {})
    _job_spec(spec)
    meta = obj.get("metadata") or {}
    uid, name = meta.get("uid"), meta.get("name", "")
    if uid and not spec.get("manualSelector") and not spec.get("selector"):
        spec["selector"] = {"matchLabels": {JOB_UID: uid}}
        labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
        for key, value in ((JOB_UID, uid), (JOB_NAME, name), ("controller-uid", uid),
                           ("job-name", name)):
            labels.setdefault(key, value)


def cronjob(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    tmpl = spec.setdefault("jobTemplate", {})
    tmpl.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    _job_spec(tmpl.setdefault("spec", {}))


def namespace(obj: dict) -> None:
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")
    labels = obj["metadata"].setdefault("labels", {})
    labels.setdefault("kubernetes.io/metadata.name", obj["metadata"].get("name", ""))


def service(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    typ = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for p in spec.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
            if "port" in p:
                p.setdefault("targetPort", p["port"])
    if typ != "ExternalName":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if typ in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if typ == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def hpa(obj: dict) -> None:
    """autoscaling/v2 defaults: minReplicas 1, cpu at 80 % when no metric is
    given; behavior is left out when absent (the controller then applies its
    own defaults) and otherwise filled in, scaleDown's window excepted (nil
    means the controller's --horizontal-pod-autoscaler-downscale-stabilization)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    b = spec.get("behavior")
    if not isinstance(b, dict):
        return
    up = b.get("scaleUp") if isinstance(b.get("scaleUp"), dict) else b.setdefault("scaleUp", {})
    up.setdefault("stabilizationWindowSeconds", 0)
    up.setdefault("selectPolicy", "Max")
    up.setdefault("policies", [{"type": "Pods", "value": 4, "periodSeconds": 15},
                               {"type": "Percent", "value": 100, "periodSeconds": 15}])
    down = (b.get("scaleDown") if isinstance(b.get("scaleDown"), dict)
            else b.setdefault("scaleDown", {}))
    down.setdefault("selectPolicy", "Max")
    down.setdefault("policies", [{"type": "Percent", "value": 100, "periodSeconds": 15}])


def secret(obj: dict) -> None:
    obj.setdefault("type", "Opaque")


def _ports_protocol(obj: dict, key: str) -> None:
    for p in obj.get(key) or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")


def endpoints(obj: dict) -> None:
    for s in obj.get("subsets") or []:
        if isinstance(s, dict):
            _ports_protocol(s, "ports")


def endpointslice(obj: dict) -> None:
    _ports_protocol(obj, "ports")


# -- allocation (needs the store: which IPs and ports are taken) ---------------
def allocate_service(reg, obj: dict, old: dict | None) -> None:
    spec = obj["spec"]
    name = obj["metadata"].get("name", "")
    ospec = (old or {}).get("spec") or {}
    if spec.get("type") == "ExternalName":
        return
    if old is not None and not spec.get("clusterIP") and ospec.get("clusterIP"):
        spec["clusterIP"] = ospec["clusterIP"]  # kept on update, as patchAllocatedValues does
    used_ips, used_ports = set(), set()
    for s in reg.store.scan("services"):
        if old is not None and s["metadata"].get("uid") == old["metadata"].get("uid"):
            continue
        used_ips.add((s.get("spec") or {}).get("clusterIP"))
        used_ports.update(p.get("nodePort") for p in (s.get("spec") or {}).get("ports") or [])
    ip = spec.get("clusterIP")
    if not ip:
        ip = _free_ip(used_ips)
    elif ip != "None":
        try:
            valid = ipaddress.ip_address(ip) in SERVICE_CIDR
        except ValueError:
            valid = False
        if not valid:
            raise Invalid("Service", name, [("spec.clusterIPs", f'Invalid value: ["{ip}"]: '
                          f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the "
                          "valid range. The range of valid IPs is 10.96.0.0/12")])
        if ip in used_ips and ip != ospec.get("clusterIP"):
            raise Invalid("Service", name, [("spec.clusterIPs", f'Invalid value: ["{ip}"]: '
                          f"failed to allocate IP {ip}: provided IP is already allocated")])
    spec["clusterIP"] = ip
    spec["clusterIPs"] = [ip]
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.pop("nodePort", None)
        return
    old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                 for p in ospec.get("ports") or [] if isinstance(p, dict)}
    for i, p in enumerate(spec.get("ports") or []):
        if not isinstance(p, dict):
            continue
        np = p.get("nodePort") or old_ports.get((p.get("port"), p.get("protocol", "TCP")))
        if np:
            if not isinstance(np, int) or not NODE_PORTS[0] <= np <= NODE_PORTS[1]:
                raise Invalid("Service", name, [(f"spec.ports[{i}].nodePort", f"Invalid value: "
                              f"{np}: provided port is not in the valid range. The range of "
                              "valid ports is 30000-32767")])
            if np in used_ports and np not in old_ports.values():
                raise Invalid("Service", name, [(f"spec.ports[{i}].nodePort", f"Invalid value: "
                              f"{np}: provided port is already allocated")])
        else:
            free = [n for n in range(NODE_PORTS[0], NODE_PORTS[1] + 1) if n not in used_ports]
            np = random.choice(free)
        p["nodePort"] = np
        used_ports.add(np)


def _free_ip(used: set) -> str:
    for _ in range(1000):  # from 10.96.0.0/16, as small clusters show them
        ip = str(SERVICE_CIDR.network_address + random.randint(10, 65534))
        if ip not in used:
            return ip
    raise RuntimeError("service IP range exhausted")


DEFAULTERS = {
    "pods": pod, "deployments.apps": deployment, "replicasets.apps": replicaset,
    "namespaces": namespace, "services": service,
    "horizontalpodautoscalers.autoscaling": hpa, "secrets": secret, "endpoints": endpoints,
    "endpointslices.discovery.k8s.io": endpointslice,
    "daemonsets.apps": daemonset, "jobs.batch": job, "cronjobs.batch": cronjob,
}
ALLOCATORS = {"services": allocate_service}

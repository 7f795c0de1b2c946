"""Validation with the real server's field paths and messages
(k8s.io/kubernetes pkg/apis/*/validation). Each validator returns
[(field path, message)]; the registry turns a non-empty list into a 422.

`VALIDATORS` at the end are the built-in admission hooks (admission.py).
"""

import json
import re
import zoneinfo

from console.embedded.cron import CronError, Schedule

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
             "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
               "start with an alphabetic character, and end with an alphanumeric character "
               "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
               "'[a-z]([-a-z0-9]*[a-z0-9])?')")


def _q(v) -> str:
    return json.dumps(v)


def _name(obj: dict, label: bool = False, dns1035: bool = False) -> list:
    name = obj["metadata"].get("name", "")
    if not isinstance(name, str) or not name:
        return [("metadata.name", "Required value: name or generateName is required")]
    if dns1035:
        if not re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", name) or len(name) > 63:
            return [("metadata.name", f"Invalid value: {_q(name)}: {DNS1035_MSG}")]
        return []
    limit = 63 if label else 253
    rx = DNS1123_LABEL if label else DNS1123_SUBDOMAIN
    if len(name) > limit:
        return [("metadata.name", f"Invalid value: {_q(name)}: must be no more than {limit} "
                 "characters")]
    if not rx.match(name):
        return [("metadata.name", f"Invalid value: {_q(name)}: "
                 f"{LABEL_MSG if label else SUBDOMAIN_MSG}")]
    return []


def _labels(labels, path: str) -> list:
    out = []
    if labels is None:
        return out
    if not isinstance(labels, dict):
        return [(path, "Invalid value: must be a map of strings")]
    for k, v in labels.items():
        key = k.rsplit("/", 1)[-1]
        if not LABEL_NAME.match(key) or len(key) > 63:
            out.append((path, f"Invalid value: {_q(k)}: name part must consist of alphanumeric "
                        "characters, '-', '_' or '.', and must start and end with an "
                        "alphanumeric character"))
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
            out.append((path, f"Invalid value: {_q(v)}: a valid label must be an empty string "
                        "or consist of alphanumeric characters, '-', '_' or '.', and must start "
                        "and end with an alphanumeric character"))
    return out


def _meta(obj: dict, label=False, dns1035=False) -> list:
    return (_name(obj, label, dns1035)
            + _labels(obj["metadata"].get("labels"), "metadata.labels"))


def _port(v, path: str) -> list:
    if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 65535:
        return [(path, f"Invalid value: {_q(v)}: must be between 1 and 65535, inclusive")]
    return []


def pod_spec(spec, path: str) -> list:
    if not isinstance(spec, dict):
        return [(path, "Required value")]
    out = []
    containers = spec.get("containers")
    if not containers:
        out.append((f"{path}.containers", "Required value"))
    seen = set()
    for i, c in enumerate(containers or []):
        cp = f"{path}.containers[{i}]"
        if not isinstance(c, dict):
            out.append((cp, "Invalid value: must be an object"))
            continue
        name = c.get("name")
        if not name:
            out.append((f"{cp}.name", "Required value"))
        elif not isinstance(name, str) or not DNS1123_LABEL.match(name):
            out.append((f"{cp}.name", f"Invalid value: {_q(name)}: {LABEL_MSG}"))
        elif name in seen:
            out.append((f"{cp}.name", f"Duplicate value: {_q(name)}"))
        seen.add(name)
        if not c.get("image"):
            out.append((f"{cp}.image", "Required value"))
        for j, p in enumerate(c.get("ports") or []):
            out += _port((p or {}).get("containerPort"), f"{cp}.ports[{j}].containerPort")
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        out.append((f"{path}.restartPolicy", f'Unsupported value: {_q(policy)}: supported '
                    'values: "Always", "OnFailure", "Never"'))
    return out


def pod(obj: dict, old: dict | None) -> list:
    out = _meta(obj) + pod_spec(obj.get("spec"), "spec")
    if old is not None and _pod_view(old.get("spec"), old.get("spec")) != \
            _pod_view(obj.get("spec"), old.get("spec")):
        out.append(("spec", "Forbidden: pod updates may not change fields other than "
                    "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                    "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it "
                    "to be set to 1 if it was previously negative)"))
    return out


def _pod_view(spec, was) -> dict:
    """A pod spec without what may change on update: images, activeDeadlineSeconds,
    terminationGracePeriodSeconds, added tolerations, scheduling gates, and the
    binding to a node (spec.nodeName set once, by the scheduler)."""
    view = json.loads(json.dumps(spec or {}))
    was = was or {}
    for key in ("containers", "initContainers"):
        for c in view.get(key) or []:
            if isinstance(c, dict):
                c.pop("image", None)
    for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds", "schedulingGates"):
        view.pop(key, None)
    old_tol = was.get("tolerations") or []
    tol = view.pop("tolerations", None) or []
    if any(t not in tol for t in old_tol):
        view["tolerations"] = tol  # removing a toleration is a change
    if not was.get("nodeName"):
        view.pop("nodeName", None)
    return view


def _replicas(spec: dict) -> list:
    r = spec.get("replicas")
    if r is not None and (not isinstance(r, int) or isinstance(r, bool) or r < 0):
        return [("spec.replicas", f"Invalid value: {_q(r)}: must be greater than or equal to 0")]
    return []


def _selector_template(spec: dict, old: dict | None) -> list:
    out = []
    sel = spec.get("selector")
    if not sel or not (sel.get("matchLabels") or sel.get("matchExpressions")):
        out.append(("spec.selector", "Required value"))
    tmpl = spec.get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if sel and sel.get("matchLabels") and any(labels.get(k) != v
                                              for k, v in sel["matchLabels"].items()):
        shown = "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
        out.append(("spec.template.metadata.labels",
                    f"Invalid value: {shown}: `selector` does not match template `labels`"))
    out += _labels(labels, "spec.template.metadata.labels")
    out += pod_spec(tmpl.get("spec"), "spec.template.spec")
    if old is not None and (old.get("spec") or {}).get("selector") != sel:
        out.append(("spec.selector", f"Invalid value: {_label_selector(sel)}: field is immutable"))
    return out


def _label_selector(sel) -> str:
    return "v1.LabelSelector{MatchLabels:map[string]string{" + ", ".join(
        f'"{k}":"{v}"' for k, v in sorted(((sel or {}).get("matchLabels") or {}).items())) + "}}"


def deployment(obj: dict, old: dict | None) -> list:
    spec = obj.get("spec") or {}
    out = _meta(obj) + _replicas(spec) + _selector_template(spec, old)
    strategy = spec.get("strategy") or {}
    if strategy.get("type") not in (None, "RollingUpdate", "Recreate"):
        out.append(("spec.strategy.type", f'Unsupported value: {_q(strategy.get("type"))}: '
                    'supported values: "Recreate", "RollingUpdate"'))
    ru = strategy.get("rollingUpdate") or {}
    if ru and strategy.get("type") == "Recreate":
        out.append(("spec.strategy.rollingUpdate", "Forbidden: may not be specified when "
                    "strategy `type` is 'Recreate'"))
    if ru.get("maxSurge") in (0, "0%") and ru.get("maxUnavailable") in (0, "0%"):
        out.append(("spec.strategy.rollingUpdate.maxUnavailable", "Invalid value: 0: may not "
                    "be 0 when `maxSurge` is 0"))
    return out


def replicaset(obj: dict, old: dict | None) -> list:
    spec = obj.get("spec") or {}
    return _meta(obj) + _replicas(spec) + _selector_template(spec, old)


def daemonset(obj: dict, old: dict | None) -> list:
    spec = obj.get("spec") or {}
    out = _meta(obj) + _selector_template(spec, old)
    policy = (((spec.get("template") or {}).get("spec")) or {}).get("restartPolicy")
    if policy not in (None, "Always"):
        out.append(("spec.template.spec.restartPolicy",
                    f'Unsupported value: {_q(policy)}: supported values: "Always"'))
    typ = (spec.get("updateStrategy") or {}).get("type")
    if typ not in (None, "RollingUpdate", "OnDelete"):
        out.append(("spec.updateStrategy.type", f"Unsupported value: {_q(typ)}: supported "
                    'values: "OnDelete", "RollingUpdate"'))
    return out


def _job_spec(spec: dict, path: str, old_spec: dict | None) -> list:
    out = []
    for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds",
                "ttlSecondsAfterFinished"):
        v = spec.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            out.append((f"{path}.{key}", f"Invalid value: {_q(v)}: must be greater than or "
                        "equal to 0"))
    tmpl = spec.get("template") or {}
    out += pod_spec(tmpl.get("spec"), f"{path}.template.spec")
    policy = (tmpl.get("spec") or {}).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        out.append((f"{path}.template.spec.restartPolicy", f"Unsupported value: {_q(policy)}: "
                    'supported values: "OnFailure", "Never"'))
    if old_spec is not None and old_spec.get("selector") != spec.get("selector"):
        out.append((f"{path}.selector", f"Invalid value: {_label_selector(spec.get('selector'))}"
                    ": field is immutable"))
    return out


def job(obj: dict, old: dict | None) -> list:
    spec = obj.get("spec") or {}
    out = _meta(obj) + _job_spec(spec, "spec", None if old is None else old.get("spec") or {})
    sel = spec.get("selector")
    labels = (((spec.get("template") or {}).get("metadata")) or {}).get("labels") or {}
    if not sel:
        out.append(("spec.selector", "Required value"))
    elif any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
        shown = "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
        out.append(("spec.template.metadata.labels",
                    f"Invalid value: {shown}: `selector` does not match template `labels`"))
    return out


def cronjob(obj: dict, old: dict | None) -> list:
    spec = obj.get("spec") or {}
    out = _meta(obj)
    schedule = spec.get("schedule")
    if not schedule:
        out.append(("spec.schedule", "Required value"))
    elif "TZ=" in str(schedule):
        out.append(("spec.schedule", f"Invalid value: {_q(schedule)}: cannot use TZ or CRON_TZ "
                    "in schedule, use timeZone field instead"))
    else:
        try:
            Schedule(str(schedule))
        except CronError as exc:
            out.append(("spec.schedule", f"Invalid value: {_q(schedule)}: {exc}"))
    tz = spec.get("timeZone")
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(tz)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            out.append(("spec.timeZone", f"Invalid value: {_q(tz)}: unknown time zone {tz}"))
    policy = spec.get("concurrencyPolicy")
    if policy not in (None, "Allow", "Forbid", "Replace"):
        out.append(("spec.concurrencyPolicy", f"Unsupported value: {_q(policy)}: supported "
                    'values: "Allow", "Forbid", "Replace"'))
    job_spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return out + _job_spec(job_spec, "spec.jobTemplate.spec", None)


def service(obj: dict, old: dict | None) -> list:
    out = _meta(obj, dns1035=True)
    spec = obj.get("spec") or {}
    typ = spec.get("type", "ClusterIP")
    if typ not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        out.append(("spec.type", f'Unsupported value: {_q(typ)}: supported values: '
                    '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'))
    ports = spec.get("ports") or []
    if not ports and typ != "ExternalName" and spec.get("clusterIP") != "None":
        out.append(("spec.ports", "Required value"))
    names = set()
    for i, p in enumerate(ports):
        if not isinstance(p, dict):
            out.append((f"spec.ports[{i}]", "Invalid value: must be an object"))
            continue
        out += _port(p.get("port"), f"spec.ports[{i}].port")
        if len(ports) > 1 and not p.get("name"):
            out.append((f"spec.ports[{i}].name", "Required value"))
        if p.get("name") in names:
            out.append((f"spec.ports[{i}].name", f"Duplicate value: {_q(p.get('name'))}"))
        names.add(p.get("name"))
        if p.get("protocol") not in (None, "TCP", "UDP", "SCTP"):
            out.append((f"spec.ports[{i}].protocol", f'Unsupported value: {_q(p["protocol"])}: '
                        'supported values: "SCTP", "TCP", "UDP"'))
    if old is not None:
        was = (old.get("spec") or {}).get("clusterIP")
        now = spec.get("clusterIP")
        if was and now and now != was:
            out.append(("spec.clusterIPs[0]", f"Invalid value: {_q(now)}: may not change once set"))
    return out


def namespace(obj: dict, old: dict | None) -> list:
    return _meta(obj, label=True)


def simple(obj: dict, old: dict | None) -> list:
    return _meta(obj)


def hpa(obj: dict, old: dict | None) -> list:
    out = _meta(obj)
    spec = obj.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    if not ref.get("kind"):
        out.append(("spec.scaleTargetRef.kind", "Required value"))
    if not ref.get("name"):
        out.append(("spec.scaleTargetRef.name", "Required value"))
    mn, mx = spec.get("minReplicas", 1), spec.get("maxReplicas")
    if not isinstance(mx, int) or mx < 1:
        out.append(("spec.maxReplicas", f"Invalid value: {_q(mx)}: must be greater than or "
                    "equal to 1"))
    elif isinstance(mn, int) and mn > mx:
        out.append(("spec.maxReplicas", f"Invalid value: {mx}: must be greater than or equal "
                    "to `minReplicas`"))
    if isinstance(mn, int) and mn < 1:
        out.append(("spec.minReplicas", f"Invalid value: {mn}: must be greater than or equal to 1"))
    return out


VALIDATORS = {
    "pods": pod, "deployments.apps": deployment, "replicasets.apps": replicaset,
    "daemonsets.apps": daemonset, "jobs.batch": job, "cronjobs.batch": cronjob,
    "services": service, "namespaces": namespace, "configmaps": simple, "secrets": simple,
    "endpoints": simple, "horizontalpodautoscalers.autoscaling": hpa,
    "controllerrevisions.apps": simple,
    "destinationrules.networking.istio.io": simple, "virtualservices.networking.istio.io": simple,
}

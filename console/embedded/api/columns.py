"""Columns and cells per kind, after kubernetes/pkg/printers/internalversion/printers.go
(and the Istio CRDs' additionalPrinterColumns). Priority 1 columns are `-o wide`."""

import json
from dataclasses import dataclass
from typing import Callable

from console import kubeprint
from console.embedded.api import podstatus
from console.embedded.api.selectors import selector_string
from console.embedded.api.tables import since
from console.embedded.kinds import Kind


@dataclass
class Spec:
    columns: list[tuple[str, str, str, int]]   # name, type, format, priority
    cells: Callable
    # optional split of cells for kinds listed by the thousand: parts(obj) is what
    # does not depend on the time (kept per object version), finish(parts, unix now)
    parts: Callable | None = None
    finish: Callable | None = None


def _c(name, typ="string", fmt="", prio=0):
    return (name, typ, fmt, prio)


NAME, AGE = _c("Name", fmt="name"), _c("Age")


def _age(obj, now):
    return since(obj["metadata"].get("creationTimestamp"), now)


def _sel(sel: dict | None) -> str:
    return selector_string(sel) or "<none>"


def _map_sel(sel: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((sel or {}).items())) or "<none>"


def _containers(tmpl: dict) -> tuple[str, str]:
    cs = ((tmpl or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


# -- pods --------------------------------------------------------------------
POD = Spec([NAME, _c("Ready"), _c("Status"), _c("Restarts", "string"), AGE,
            _c("IP", prio=1), _c("Node", prio=1), _c("Nominated Node", prio=1),
            _c("Readiness Gates", prio=1)], podstatus.pod_row, podstatus.pod_parts,
           podstatus.row_from)


def deployment_cells(d, now):
    spec, st = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(spec.get("template"))
    return [d["metadata"]["name"], f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            st.get("updatedReplicas", 0), st.get("availableReplicas", 0), _age(d, now),
            names, images, _sel(spec.get("selector"))]


DEPLOYMENT = Spec([NAME, _c("Ready"), _c("Up-to-date", "integer"), _c("Available", "integer"),
                   AGE, _c("Containers", prio=1), _c("Images", prio=1), _c("Selector", prio=1)],
                  deployment_cells)


def replicaset_cells(r, now):
    spec, st = r.get("spec") or {}, r.get("status") or {}
    names, images = _containers(spec.get("template"))
    return [r["metadata"]["name"], spec.get("replicas", 1), st.get("replicas", 0),
            st.get("readyReplicas", 0), _age(r, now), names, images, _sel(spec.get("selector"))]


REPLICASET = Spec([NAME, _c("Desired", "integer"), _c("Current", "integer"),
                   _c("Ready", "integer"), AGE, _c("Containers", prio=1), _c("Images", prio=1),
                   _c("Selector", prio=1)], replicaset_cells)


def daemonset_cells(d, now):
    spec, st = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(spec.get("template"))
    selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [d["metadata"]["name"], st.get("desiredNumberScheduled", 0),
            st.get("currentNumberScheduled", 0), st.get("numberReady", 0),
            st.get("updatedNumberScheduled", 0), st.get("numberAvailable", 0),
            _map_sel(selector), _age(d, now), names, images, _sel(spec.get("selector"))]


DAEMONSET = Spec([NAME, _c("Desired", "integer"), _c("Current", "integer"),
                  _c("Ready", "integer"), _c("Up-to-date", "integer"),
                  _c("Available", "integer"), _c("Node Selector"), AGE,
                  _c("Containers", prio=1), _c("Images", prio=1), _c("Selector", prio=1)],
                 daemonset_cells)


def revision_cells(r, now):
    ref = next((o for o in r["metadata"].get("ownerReferences") or [] if o.get("controller")),
               None)
    owner = "<none>"
    if ref:
        group = ref.get("apiVersion", "").rpartition("/")[0]
        owner = f"{ref.get('kind', '').lower()}.{group}/{ref.get('name')}" if group else \
            f"{ref.get('kind', '').lower()}/{ref.get('name')}"
    return [r["metadata"]["name"], owner, r.get("revision", 0), _age(r, now)]


CONTROLLERREVISION = Spec([NAME, _c("Controller"), _c("Revision", "integer"), AGE],
                          revision_cells)


def _job_condition(st: dict, typ: str) -> bool:
    return any(c.get("type") == typ and c.get("status") == "True"
               for c in st.get("conditions") or [])


def job_cells(j, now):
    """printJob: STATUS from the conditions, COMPLETIONS, DURATION (start to
    completion, or to now while it runs)."""
    spec, st = j.get("spec") or {}, j.get("status") or {}
    names, images = _containers(spec.get("template"))
    status = next((label for typ, label in (
        ("Complete", "Complete"), ("Failed", "Failed")) if _job_condition(st, typ)), None)
    if status is None:
        status = ("Terminating" if j["metadata"].get("deletionTimestamp") else next(
            (label for typ, label in (("Suspended", "Suspended"),
                                      ("FailureTarget", "FailureTarget"),
                                      ("SuccessCriteriaMet", "SuccessCriteriaMet"))
             if _job_condition(st, typ)), "Running"))
    done = st.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{done}/{spec['completions']}"
    elif (spec.get("parallelism") or 1) > 1:
        completions = f"{done}/1 of {spec['parallelism']}"
    else:
        completions = f"{done}/1"
    duration = ""
    start = kubeprint.parse_time(st.get("startTime"))
    if start is not None:
        end = kubeprint.parse_time(st.get("completionTime"))
        duration = kubeprint.human_duration((end if end is not None else now.timestamp()) - start)
    return [j["metadata"]["name"], status, completions, duration, _age(j, now), names, images,
            _sel(spec.get("selector"))]


JOB = Spec([NAME, _c("Status"), _c("Completions"), _c("Duration"), AGE,
            _c("Containers", prio=1), _c("Images", prio=1), _c("Selector", prio=1)], job_cells)


def cronjob_cells(c, now):
    spec, st = c.get("spec") or {}, c.get("status") or {}
    job_spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    names, images = _containers(job_spec.get("template"))
    suspend = spec.get("suspend")
    last = st.get("lastScheduleTime")
    return [c["metadata"]["name"], spec.get("schedule", ""), spec.get("timeZone") or "<none>",
            "<unset>" if suspend is None else ("True" if suspend else "False"),
            len(st.get("active") or []), since(last, now) if last else "<none>", _age(c, now),
            names, images, _sel(job_spec.get("selector"))]


CRONJOB = Spec([NAME, _c("Schedule"), _c("Timezone"), _c("Suspend", "boolean"),
                _c("Active", "integer"), _c("Last Schedule"), AGE, _c("Containers", prio=1),
                _c("Images", prio=1), _c("Selector", prio=1)], cronjob_cells)


def _svc_ports(ports) -> str:
    out = []
    for p in ports or []:
        s = f"{p.get('port')}"
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def service_cells(s, now):
    spec = s.get("spec") or {}
    typ = spec.get("type", "ClusterIP")
    ext = list(spec.get("externalIPs") or [])
    if typ == "LoadBalancer":
        ing = ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        ext = [i.get("ip") or i.get("hostname") for i in ing] + ext
        external = ",".join(ext) if ext else "<pending>"
    elif typ == "ExternalName":
        external = spec.get("externalName", "")
    else:
        external = ",".join(ext) if ext else "<none>"
    return [s["metadata"]["name"], typ, spec.get("clusterIP") or "<none>", external,
            _svc_ports(spec.get("ports")), _age(s, now), _map_sel(spec.get("selector"))]


SERVICE = Spec([NAME, _c("Type"), _c("Cluster-IP"), _c("External-IP"), _c("Port(s)"), AGE,
                _c("Selector", prio=1)], service_cells)


def endpoints_cells(e, now):
    addrs = []
    for sub in e.get("subsets") or []:
        ports = sub.get("ports") or []
        for a in sub.get("addresses") or []:
            if ports:
                addrs.extend(f"{a.get('ip')}:{p.get('port')}" for p in ports)
            else:
                addrs.append(a.get("ip"))
    text = ",".join(addrs[:3]) if addrs else "<none>"
    if len(addrs) > 3:
        text += f" + {len(addrs) - 3} more..."
    return [e["metadata"]["name"], text, _age(e, now)]


ENDPOINTS = Spec([NAME, _c("Endpoints"), AGE], endpoints_cells)


def slice_cells(s, now):
    ports = ",".join(str(p.get("port")) for p in s.get("ports") or []) or "<unset>"
    addrs = [a for ep in s.get("endpoints") or [] for a in ep.get("addresses") or []]
    text = ",".join(addrs[:3]) if addrs else "<unset>"
    if len(addrs) > 3:
        text += f" + {len(addrs) - 3} more..."
    return [s["metadata"]["name"], s.get("addressType", ""), ports, text, _age(s, now)]


ENDPOINTSLICE = Spec([NAME, _c("AddressType"), _c("Ports"), _c("Endpoints"), AGE], slice_cells)


def node_cells(n, now):
    st = n.get("status") or {}
    ready = next((c for c in st.get("conditions") or [] if c.get("type") == "Ready"), None)
    status = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = n["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels
                   if k.startswith("node-role.kubernetes.io/") and "/" in k)
    if labels.get("kubernetes.io/role"):
        roles.append(labels["kubernetes.io/role"])
    addr = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [n["metadata"]["name"], status, ",".join(roles) or "<none>", _age(n, now),
            info.get("kubeletVersion", ""), addr.get("InternalIP", "<none>"),
            addr.get("ExternalIP", "<none>"), info.get("osImage", "<unknown>"),
            info.get("kernelVersion", "<unknown>"), info.get("containerRuntimeVersion", "<unknown>")]


NODE = Spec([NAME, _c("Status"), _c("Roles"), AGE, _c("Version"), _c("Internal-IP", prio=1),
             _c("External-IP", prio=1), _c("OS-Image", prio=1), _c("Kernel-Version", prio=1),
             _c("Container-Runtime", prio=1)], node_cells)


def event_cells(e, now):
    io = e.get("involvedObject") or {}
    last = e.get("lastTimestamp") or e.get("eventTime") or e["metadata"].get("creationTimestamp")
    first = e.get("firstTimestamp") or e.get("eventTime") or e["metadata"].get("creationTimestamp")
    count = e.get("count") or 1
    last_seen = since(last, now)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {since(first, now)})"
    src = e.get("source") or {}
    source = src.get("component", "")
    if src.get("host"):
        source += f", {src['host']}"
    return [last_seen, e.get("type", ""), e.get("reason", ""),
            f"{io.get('kind', '').lower()}/{io.get('name', '')}", e.get("message", ""),
            source, io.get("fieldPath", ""), since(first, now), count, e["metadata"]["name"]]


EVENT = Spec([_c("Last Seen"), _c("Type"), _c("Reason"), _c("Object"), _c("Message"),
              _c("Source", prio=1), _c("Subobject", prio=1), _c("First Seen", prio=1),
              _c("Count", "integer", prio=1), _c("Name", prio=1)], event_cells)


def hpa_cells(h, now):
    spec, st = h.get("spec") or {}, h.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    return [h["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}",
            kubeprint.hpa_targets(h),
            spec.get("minReplicas", 1), spec.get("maxReplicas", 0), st.get("currentReplicas", 0),
            _age(h, now)]


HPA = Spec([NAME, _c("Reference"), _c("Targets"), _c("MinPods", "integer"),
            _c("MaxPods", "integer"), _c("Replicas", "integer"), AGE], hpa_cells)

CONFIGMAP = Spec([NAME, _c("Data", "integer"), AGE],
                 lambda c, now: [c["metadata"]["name"], len(c.get("data") or {})
                                 + len(c.get("binaryData") or {}), _age(c, now)])
SECRET = Spec([NAME, _c("Type"), _c("Data", "integer"), AGE],
              lambda s, now: [s["metadata"]["name"], s.get("type", "Opaque"),
                              len(s.get("data") or {}), _age(s, now)])
NAMESPACE = Spec([NAME, _c("Status"), AGE],
                 lambda n, now: [n["metadata"]["name"], (n.get("status") or {}).get("phase", "Active"),
                                 _age(n, now)])


def _json_cell(v):
    return json.dumps(v, separators=(",", ":")) if v is not None else None


DESTINATIONRULE = Spec([NAME, _c("Host"), _c("Age", "date")],
                       lambda d, now: [d["metadata"]["name"], (d.get("spec") or {}).get("host"),
                                       _age(d, now)])
VIRTUALSERVICE = Spec([NAME, _c("Gateways"), _c("Hosts"), _c("Age", "date")],
                      lambda v, now: [v["metadata"]["name"],
                                      _json_cell((v.get("spec") or {}).get("gateways")),
                                      _json_cell((v.get("spec") or {}).get("hosts")), _age(v, now)])
CRD = Spec([NAME, _c("Created At", "date")],
           lambda o, now: [o["metadata"]["name"], o["metadata"].get("creationTimestamp")])
LEASE = Spec([NAME, _c("Holder"), AGE],
             lambda o, now: [o["metadata"]["name"], (o.get("spec") or {}).get("holderIdentity", ""),
                             _age(o, now)])
DEFAULT = Spec([NAME, AGE], lambda o, now: [o["metadata"]["name"], _age(o, now)])


def apiservice_cells(a, now):
    """kube-aggregator's printer: SERVICE ns/name or Local; AVAILABLE True or
    "False (Reason)"."""
    ref = (a.get("spec") or {}).get("service")
    service = f"{ref.get('namespace')}/{ref.get('name')}" if ref else "Local"
    cond = next((c for c in (a.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Available"), None)
    avail = "Unknown" if cond is None else cond.get("status", "Unknown")
    if cond is not None and avail != "True":
        avail = f"{avail} ({cond.get('reason', '')})"
    return [a["metadata"]["name"], service, avail, _age(a, now)]


APISERVICE = Spec([NAME, _c("Service"), _c("Available"), AGE], apiservice_cells)


def _usage(obj) -> tuple[str, str]:
    if "usage" in obj:
        u = obj.get("usage") or {}
        return u.get("cpu", ""), u.get("memory", "")
    from console import quantity
    cpu = sum(quantity.parse((c.get("usage") or {}).get("cpu")) for c in obj.get("containers") or [])
    mem = sum(quantity.parse((c.get("usage") or {}).get("memory"))
              for c in obj.get("containers") or [])
    return quantity.cpu(round(cpu * 1e9)), quantity.memory(int(mem))


# metrics-server's own table (pkg/api/table.go): NAME CPU MEMORY WINDOW
METRICS = Spec([NAME, _c("CPU"), _c("Memory"), _c("Window")],
               lambda m, now: [m["metadata"]["name"], *_usage(m), m.get("window", "")])

# kubectl's printers (pkg/printers/internalversion): SECRETS for service accounts (0 since
# 1.24 made tokens on demand), CREATED AT for cluster roles, the role a binding names
SERVICEACCOUNT = Spec([NAME, _c("Secrets", "integer"), AGE],
                      lambda o, now: [o["metadata"]["name"], len(o.get("secrets") or []), _age(o, now)])
ROLE = Spec([NAME, _c("Created At", "date")],
            lambda o, now: [o["metadata"]["name"], o["metadata"].get("creationTimestamp", "")])


def binding_cells(o, now):
    ref = o.get("roleRef") or {}
    subjects = o.get("subjects") or []

    def names(kind):
        return ", ".join((f"{s.get('namespace')}/" if kind == "ServiceAccount" else "") + s.get("name", "")
                         for s in subjects if s.get("kind") == kind)
    return [o["metadata"]["name"], f"{ref.get('kind', '')}/{ref.get('name', '')}", _age(o, now),
            names("User"), names("Group"), names("ServiceAccount")]


BINDING = Spec([NAME, _c("Role"), AGE, _c("Users", prio=1), _c("Groups", prio=1),
                _c("ServiceAccounts", prio=1)], binding_cells)

BY_KEY = {
    "pods": POD, "deployments.apps": DEPLOYMENT, "replicasets.apps": REPLICASET,
    "daemonsets.apps": DAEMONSET, "jobs.batch": JOB, "cronjobs.batch": CRONJOB,
    "controllerrevisions.apps": CONTROLLERREVISION,
    "services": SERVICE, "endpoints": ENDPOINTS, "endpointslices.discovery.k8s.io": ENDPOINTSLICE,
    "nodes": NODE, "events": EVENT, "horizontalpodautoscalers.autoscaling": HPA,
    "configmaps": CONFIGMAP, "secrets": SECRET, "namespaces": NAMESPACE,
    "destinationrules.networking.istio.io": DESTINATIONRULE,
    "virtualservices.networking.istio.io": VIRTUALSERVICE,
    "leases.coordination.k8s.io": LEASE,
    "customresourcedefinitions.apiextensions.k8s.io": CRD,
    "apiservices.apiregistration.k8s.io": APISERVICE,
    "pods.metrics.k8s.io": METRICS, "nodes.metrics.k8s.io": METRICS,
    "serviceaccounts": SERVICEACCOUNT,
    "clusterroles.rbac.authorization.k8s.io": ROLE, "roles.rbac.authorization.k8s.io": ROLE,
    "clusterrolebindings.rbac.authorization.k8s.io": BINDING,
    "rolebindings.rbac.authorization.k8s.io": BINDING,
}


def for_kind(kind: Kind) -> Spec:
    return BY_KEY.get(kind.key, DEFAULT)


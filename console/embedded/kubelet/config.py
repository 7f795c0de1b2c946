"""What a container is started with: its environment (env, envFrom, service
links, downward API) and the files of its configMap/secret volumes.

Errors are the kubelet's: a missing ConfigMap/Secret key in env is a
CreateContainerConfigError; a missing volume source fails the mount (FailedMount).
"""

import base64
import posixpath
import re


class ConfigError(Exception):
    """The container cannot be configured: CreateContainerConfigError."""


class MountError(Exception):
    """A volume cannot be set up: FailedMount; the pod stays ContainerCreating."""


def _source(registry, kind: str, ns: str, name: str, optional: bool) -> dict | None:
    res = "configmaps" if kind == "ConfigMap" else "secrets"
    obj = registry.get(res, ns, name)
    if obj is None and not optional:
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    if obj is None:
        return None
    data = dict(obj.get("data") or {})
    if kind == "Secret":
        data = {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
        data.update(obj.get("stringData") or {})
    else:
        data.update({k: base64.b64decode(v).decode(errors="replace")
                     for k, v in (obj.get("binaryData") or {}).items()})
    return data


def _field(pod: dict, path: str, node_ip: str, pod_ip: str) -> str:
    meta = pod["metadata"]
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    return str({
        "metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"), "spec.nodeName": (pod.get("spec") or {}).get("nodeName"),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", "default"),
        "status.podIP": pod_ip, "status.hostIP": node_ip, "status.podIPs": pod_ip,
    }.get(path) or "")


def _service_links(registry, ns: str) -> dict:
    """What enableServiceLinks puts in every container: FOO_SERVICE_HOST ..."""
    out = {}
    for svc in registry.store.scan("services", ns):
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP")
        if not ip or ip == "None" or not spec.get("ports"):
            continue
        name = svc["metadata"]["name"].upper().replace("-", "_")
        first = spec["ports"][0]
        out[f"{name}_SERVICE_HOST"] = ip
        out[f"{name}_SERVICE_PORT"] = str(first.get("port"))
        out[f"{name}_PORT"] = f"tcp://{ip}:{first.get('port')}"
        for p in spec["ports"]:
            proto = (p.get("protocol") or "TCP")
            prefix = f"{name}_PORT_{p.get('port')}_{proto}"
            out[prefix] = f"{proto.lower()}://{ip}:{p.get('port')}"
            out[f"{prefix}_PROTO"] = proto.lower()
            out[f"{prefix}_PORT"] = str(p.get("port"))
            out[f"{prefix}_ADDR"] = ip
    return out


def environment(registry, pod: dict, spec: dict, node_ip: str, pod_ip: str) -> dict:
    ns = pod["metadata"].get("namespace") or "default"
    env = {"HOSTNAME": pod["metadata"]["name"]}
    if (pod.get("spec") or {}).get("enableServiceLinks", True):
        env.update(_service_links(registry, "default") if ns != "default" else {})
        env.update(_service_links(registry, ns))
    for src in spec.get("envFrom") or []:
        prefix = src.get("prefix") or ""
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in src:
                ref = src[key] or {}
                data = _source(registry, kind, ns, ref.get("name", ""), bool(ref.get("optional")))
                for k, v in (data or {}).items():
                    env[prefix + k] = v
    for item in spec.get("env") or []:
        name = item.get("name", "")
        if "value" in item:
            # $(VAR) refers to a variable defined earlier; $$ escapes
            env[name] = re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
                               lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
                               str(item["value"]))
            continue
        vf = item.get("valueFrom") or {}
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if key in vf:
                ref = vf[key] or {}
                optional = bool(ref.get("optional"))
                data = _source(registry, kind, ns, ref.get("name", ""), optional)
                if data is None:
                    break
                if ref.get("key") not in data:
                    if optional:
                        break
                    raise ConfigError(f"couldn't find key {ref.get('key')} in {kind} "
                                      f"{ns}/{ref.get('name')}")
                env[name] = data[ref["key"]]
        if "fieldRef" in vf:
            env[name] = _field(pod, (vf["fieldRef"] or {}).get("fieldPath", ""), node_ip, pod_ip)
        if "resourceFieldRef" in vf:
            env[name] = "0"     # no limits accounting yet: what an unset limit resolves to is node capacity
    return env


def files(registry, pod: dict, spec: dict) -> dict[str, bytes]:
    ns = pod["metadata"].get("namespace") or "default"
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    out: dict[str, bytes] = {}
    for mount in spec.get("volumeMounts") or []:
        vol = volumes.get(mount.get("name"))
        if vol is None:
            continue
        for kind, key, ref_name in (("ConfigMap", "configMap", "name"), ("Secret", "secret", "secretName")):
            if key not in vol:
                continue
            src = vol[key] or {}
            try:
                data = _source(registry, kind, ns, src.get(ref_name, ""), bool(src.get("optional")))
            except ConfigError as exc:
                raise MountError(f'MountVolume.SetUp failed for volume "{vol["name"]}" : {exc}')
            data = data or {}
            items = src.get("items")
            chosen = {i["key"]: i.get("path", i["key"]) for i in items} if items else {k: k for k in data}
            base = mount.get("mountPath", "/")
            sub = mount.get("subPath")
            for k, rel in chosen.items():
                if k not in data:
                    continue
                if sub:
                    if rel == sub:
                        out[base] = data[k].encode()
                    continue
                out[posixpath.join(base, rel)] = data[k].encode()
    return out


_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "K": 10**3,
           "M": 10**6, "G": 10**9, "T": 10**12, "m": 10**-3}


def memory_limit(spec: dict) -> float | None:
    """limits.memory in bytes, or None (unset or unreadable: no limit)."""
    raw = str(((spec.get("resources") or {}).get("limits") or {}).get("memory") or "")
    m = re.fullmatch(r"([0-9.]+)(Ki|Mi|Gi|Ti|k|K|M|G|T|m)?", raw.strip())
    if not m:
        return None
    try:
        return float(m.group(1)) * _SUFFIX.get(m.group(2) or "", 1)
    except ValueError:
        return None

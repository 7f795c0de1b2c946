"""Shared helpers for the kubelet/apps/traffic tests: an in-process cluster with
only the kubelet component, pods bound by hand (no scheduler needed)."""

import asyncio
import contextlib

from console.embedded.cluster import Cluster


@contextlib.asynccontextmanager
async def kubelet_cluster(speed: float = 50, nodes: int = 2):
    from console.embedded import kubelet

    cluster = Cluster(speed=speed, nodes=nodes)
    task = cluster.spawn(kubelet.run(cluster), "kubelet")
    await until(lambda: getattr(cluster, "kubelet", None) is not None)
    try:
        yield cluster
    finally:
        task.cancel()
        await cluster.stop()


async def until(cond, timeout: float = 60, what: str = "condition"):
    """Poll a condition (sync callable) until true; generous timeout, no timing asserts."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = cond()
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def pod(name, image="nginx", node="kubelab-node-1", ns="default", **spec):
    container = {"name": spec.pop("cname", "app"), "image": image}
    container.update(spec.pop("container", {}))
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns,
                         "labels": spec.pop("labels", {"app": name}),
                         "annotations": spec.pop("annotations", {})},
            "spec": {"nodeName": node, "containers": [container], "restartPolicy": "Always",
                     "terminationGracePeriodSeconds": 30}}
    body["spec"].update(spec)
    return body


def status(cluster, name, ns="default"):
    obj = cluster.registry.get("pods", ns, name)
    return (obj or {}).get("status") or {}


def cstatus(cluster, name, ns="default", index=0):
    cs = status(cluster, name, ns).get("containerStatuses") or []
    return cs[index] if len(cs) > index else {}


def events(cluster, name, ns="default"):
    return [(e["reason"], e["message"]) for e in cluster.registry.list("events", ns)
            if e["involvedObject"]["name"] == name]


def log_lines(cluster, name, container=None, previous=False, ns="default"):
    """The kubelet's lines without their "<RFC3339Nano> " stamps."""
    lines = cluster.kubelet.logs(ns, name, container, previous)
    return None if lines is None else [line.split(" ", 1)[1] for line in lines]

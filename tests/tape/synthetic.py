"""A tape made without a cluster: pods changing, Events, load samples and step
markers on a fixed clock."""

from console import bus
from console.tape import format
from console.tape.recorder import Recorder

T0 = 1_790_000_000.0


def pod(i, n=0, ready=True):
    return {"metadata": {"uid": f"u{i}", "name": f"order-{i}", "namespace": "lab",
                         "creationTimestamp": "2026-09-21T14:13:20Z", "managedFields": [{"x": 1}]},
            "status": {"phase": "Running", "n": n,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "lastTransitionTime": "2026-09-21T14:13:30Z"}]}}


def events(n=300):
    """Pods changing, Events, load samples and a marker every 50 events, 0.1 s apart."""
    out = []
    for i in range(n):
        t = T0 + i * 0.1
        out.append(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=pod(i % 7, i, ready=i % 3 != 0), ts=t))
        if i % 10 == 0:
            out.append(bus.ObjectChanged(kind="events", obj={
                "metadata": {"uid": f"e{i}", "name": f"e{i}"}, "reason": "Unhealthy", "count": 1,
                "involvedObject": {"kind": "Pod", "name": f"order-{i % 7}"}, "message": f"probe {i}"}, ts=t))
            out.append(bus.LoadSample(run="r1", data={"rps": i, "last_second": {"t": i // 10, "requests": i}}, ts=t))
        if i % 50 == 49:
            out.append(bus.Marker(id=f"step-{i // 50 + 1}", title="a step", ok=i % 100 != 49, ts=t))
    return out


def write(path, evs, **kw):
    b = bus.Bus()
    rec = Recorder(b, path, format.header(width=120, height=36, cluster={"kind": "none"}, start=T0),
                   **kw).start()
    for ev in evs:
        b.publish(ev)
    rec.close({"exit": 0}, t=max(ev.ts for ev in evs) + 1)
    return rec

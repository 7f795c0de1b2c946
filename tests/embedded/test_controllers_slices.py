"""EndpointSlices placed as the real reconciler places them: kept, updated in place,
filled before new ones are made, so one pod's change is one slice's write."""

from controllers_kit import set_ready, start
from test_controllers_endpoints import pod, service, slices
from waits import until

from console.embedded.controllers import slices as sl

SVC = {"metadata": {"name": "svc", "namespace": "default", "uid": "u1", "labels": {"team": "a"}},
       "spec": {"clusterIP": "10.96.0.10"}}
PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]
KEY = sl.port_key(PORTS)


def ep(i: int, ready: bool = True) -> dict:
    return {"addresses": [f"10.0.{i // 200}.{i % 200}"], "targetRef": {"kind": "Pod", "namespace": "default",
                                                                        "name": f"p{i}", "uid": f"u{i}"},
            "conditions": {"ready": ready, "serving": ready, "terminating": False}}


def want(*eps: dict, key=KEY) -> sl.Wanted:
    out = sl.Wanted()
    for e in eps:
        out.add(key, sl.Want(sl.ident_of(e), tuple(e["addresses"]), e))
    return out


def existing(name: str, eps: list[dict], ports=PORTS) -> dict:
    out = {"metadata": {"name": name, "labels": sl.slice_labels(SVC)}, "endpoints": eps}
    if ports is not None:
        out["ports"] = ports
    return out


def names(eps: list[dict]) -> list[str]:
    return [e["targetRef"]["name"] for e in eps]


def test_a_new_endpoint_goes_into_the_slice_it_leaves_closest_to_full():
    a = existing("svc-a", [ep(i) for i in range(60)])
    b = existing("svc-b", [ep(i) for i in range(60, 150)])
    p = sl.plan(SVC, [a, b], want(*a["endpoints"], *b["endpoints"], ep(500)))
    assert not p.create and not p.delete
    ((s, _, eps),) = p.update
    assert s is b and names(eps) == names(b["endpoints"]) + ["p500"]


def test_a_changed_endpoint_is_updated_in_place_and_nothing_else_written():
    a = existing("svc-a", [ep(i) for i in range(5)])
    b = existing("svc-b", [ep(i) for i in range(5, 10)])
    flipped = ep(2, ready=False)
    p = sl.plan(SVC, [a, b], want(*[e for e in a["endpoints"] if e is not a["endpoints"][2]], flipped,
                                   *b["endpoints"]))
    ((s, _, eps),) = p.update
    assert s is a and eps[2] is flipped and names(eps) == names(a["endpoints"])
    assert not p.create and not p.delete


def test_new_endpoints_fill_a_slice_being_updated_first():
    a = existing("svc-a", [ep(i) for i in range(50)])
    b = existing("svc-b", [ep(i) for i in range(50, 100)])
    kept = [e for e in b["endpoints"] if e["targetRef"]["name"] != "p99"]
    p = sl.plan(SVC, [a, b], want(*a["endpoints"], *kept, ep(300), ep(301)))
    ((s, _, eps),) = p.update    # b changed (p99 gone): the new ones go there, a is left alone
    assert s is b and names(eps) == names(kept) + ["p300", "p301"]


def test_more_than_fit_make_new_slices_of_100():
    p = sl.plan(SVC, [], want(*[ep(i) for i in range(250)]))
    assert sorted(len(eps) for _, eps in p.create) == [50, 100, 100] and not p.update
    assert [ports for ports, _ in p.create] == [PORTS] * 3


def test_an_emptied_slice_is_deleted_and_a_new_port_set_reuses_the_old_slices():
    a = existing("svc-a", [ep(0)])
    b = existing("svc-b", [ep(1)])
    p = sl.plan(SVC, [a, b], want(ep(1)))
    assert p.delete == [a] and not p.update and not p.create
    other = [{"name": "http", "port": 9090, "protocol": "TCP"}]
    p = sl.plan(SVC, [b], want(ep(1), key=sl.port_key(other)))     # finalize: a create and a delete are one update
    ((s, ports, eps),) = p.update
    assert s is b and ports == other and names(eps) == ["p1"] and not p.create and not p.delete


def test_the_placeholder_is_kept_and_then_reused():
    placeholder = existing("svc-x", [], ports=None)
    assert sl.plan(SVC, [placeholder], want()) == sl.Plan([], [], [])
    ((s, ports, eps),) = sl.plan(SVC, [placeholder], want(ep(1))).update
    assert s is placeholder and ports == PORTS and names(eps) == ["p1"]
    ((ports, eps),) = sl.plan(SVC, [], want()).create
    assert ports is None and eps == []


def test_a_slice_whose_service_labels_changed_is_relabelled():
    a = existing("svc-a", [ep(0)])
    a["metadata"]["labels"] = {**a["metadata"]["labels"], "team": "b"}
    ((s, _, eps),) = sl.plan(SVC, [a], want(ep(0))).update
    assert s is a and names(eps) == ["p0"]
    assert sl.slice_labels(SVC)["team"] == "a"


async def test_one_pod_added_or_removed_at_scale_writes_one_slice():
    n = 450
    cluster = await start(cpu="100", pods="500")
    try:
        cluster.registry.create("services", service(target=8080))
        for i in range(n):
            cluster.registry.create("pods", pod(f"p{i:03}", {"app": "a"}))

        def settled(count):
            return sum(len(s["endpoints"]) for s in slices(cluster)) == count and cluster.controllers.idle()
        await until(lambda: settled(n), timeout=180, what=f"{n} endpoints")
        assert all(len(s["endpoints"]) <= 100 for s in slices(cluster))
        seen = []
        cluster.store.subscribe(lambda ev: seen.append((ev.type, ev.obj["metadata"]["name"]))
                                if ev.res == sl.SLICES else None)

        def where(name):
            return [s["metadata"]["name"] for s in slices(cluster)
                    if any(e["targetRef"]["name"] == name for e in s["endpoints"])]
        before = {s["metadata"]["name"] for s in slices(cluster)}
        cluster.registry.create("pods", pod("new", {"app": "a"}))
        await until(lambda: settled(n + 1) and where("new"), timeout=60, what="the new pod's endpoint")
        assert len(seen) == 1, seen                   # its IP and Ready arrive in one status write
        seen.clear()

        victim = "p123"
        (home,) = where(victim)
        cluster.registry.delete("pods", "default", victim)
        await until(lambda: settled(n) and not where(victim), timeout=60, what="p123 gone")
        assert {name for _, name in seen} == {home}, seen   # terminating, then gone: that slice alone
        seen.clear()

        set_ready(cluster, "default", "p200", False)
        (home,) = where("p200")
        await until(lambda: cluster.controllers.idle() and not next(
            e for s in slices(cluster) for e in s["endpoints"]
            if e["targetRef"]["name"] == "p200")["conditions"]["ready"], timeout=60, what="p200 not ready")
        assert seen == [("MODIFIED", home)] and where("p200") == [home]
        seen.clear()

        cluster.registry.create("pods", pod("again", {"app": "a"}))   # the room p123 left, or other room
        await until(lambda: settled(n + 1) and where("again"), timeout=60, what="a pod into the room")
        (into,) = where("again")
        assert seen == [("MODIFIED", into)] and into in before
    finally:
        await cluster.stop()


def test_slices_read_back_as_copies_are_compared_not_rewritten():
    import copy
    a = existing("svc-a", [ep(i) for i in range(3)])
    stored = copy.deepcopy(a)               # as a restart or another writer leaves them
    assert sl.plan(SVC, [stored], want(*a["endpoints"])) == sl.Plan([], [], [])
    stored["endpoints"].append(copy.deepcopy(stored["endpoints"][0]))   # a duplicate: dropped
    ((s, _, eps),) = sl.plan(SVC, [stored], want(*a["endpoints"])).update
    assert names(eps) == ["p0", "p1", "p2"] and eps[0] is a["endpoints"][0]

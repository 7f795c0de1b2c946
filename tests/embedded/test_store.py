"""The store's copies and its sorted scans (what the registry, informers, lists
and watches rely on once objects are shared rather than copied)."""

import random

from console.embedded import seal
from console.embedded.clock import Clock
from console.embedded.registry import Registry
from console.embedded.store import Store, clone


def obj(name, ns="default", **extra):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns}, **extra}


def test_clone_copies_dicts_and_lists_and_shares_leaves():
    value = {"a": [1, {"b": "x"}], "c": {"d": None, "e": 2.5, "f": True}}
    copied = clone(value)
    assert copied == value
    assert copied is not value and copied["a"] is not value["a"] and copied["a"][1] is not value["a"][1]
    copied["a"][1]["b"] = "y"
    assert value["a"][1]["b"] == "x"


def test_reads_and_writes_hand_out_copies_the_store_does_not_see_changed():
    store = Store()
    given = obj("one", data={"k": "v"})
    made = store.create("configmaps", given)
    given["data"]["k"] = "changed by the caller"
    made["data"]["k"] = "changed too"
    got = store.get("configmaps", "default", "one")
    assert got["data"] == {"k": "v"}
    got["data"]["k"] = "and again"
    assert store.peek("configmaps", "default", "one")["data"] == {"k": "v"}
    assert store.list("configmaps")[0]["data"] == {"k": "v"}


def test_owned_writes_keep_the_object_given_and_return_the_stored_one():
    store = Store()
    mine = obj("one")
    back = store.create("configmaps", mine, owned=True)
    assert back is mine is store.peek("configmaps", "default", "one")
    new = clone(back)
    new["data"] = {"k": "v"}
    assert store.update("configmaps", new, owned=True) is new
    assert store.peek("configmaps", "default", "one")["metadata"]["resourceVersion"] == "2"


def test_mutate_status_shares_the_rest_and_leaves_the_old_version_as_it_was():
    reg = Registry(Store(), Clock(1))
    reg.create("pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    before = reg.store.peek("pods", "default", "p")
    as_it_was = clone(before)
    seen = []
    reg.store.subscribe(seen.append)
    after = reg.mutate("pods", "default", "p", lambda o: o.__setitem__("status", {"phase": "Running"}),
                       subresource="status")
    assert after is reg.store.peek("pods", "default", "p")
    assert after["status"] == {"phase": "Running"} and before == as_it_was
    assert after["spec"] is before["spec"]
    assert seen[0].old is before and seen[0].obj is after
    assert before["metadata"]["resourceVersion"] != after["metadata"]["resourceVersion"]


def test_scan_is_in_key_order_per_namespace_and_after_a_key_through_creates_and_deletes():
    store = Store()
    names = [f"cm-{i:03d}" for i in range(200)]
    random.Random(7).shuffle(names)
    for ns in ("b", "a", "a-x", "c"):
        for name in names[:50]:
            store.create("configmaps", obj(name, ns))
    list(store.scan("configmaps"))   # the sorted keys exist now: later writes keep them
    for name in names[50:]:
        store.create("configmaps", obj(name, "a"))
    for name in names[:20]:
        store.delete("configmaps", "a", name)
    want_a = sorted(names[20:])
    assert [o["metadata"]["name"] for o in store.scan("configmaps", "a")] == want_a
    assert [o["metadata"]["name"] for o in store.scan("configmaps", "a", after=("a", want_a[99]))] \
        == want_a[100:]
    assert list(store.scan("configmaps", "a", after=("a", want_a[-1]))) == []
    assert list(store.scan("configmaps", "nowhere")) == []
    every = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in store.scan("configmaps")]
    assert every == sorted(every) and len(every) == 180 + 150
    assert [o["metadata"]["name"] for o in store.scan("configmaps", "a-x")] == sorted(names[:50])


def test_a_stored_object_changed_in_place_is_reported(tmp_path, monkeypatch):
    report = tmp_path / "changed.txt"
    monkeypatch.setenv(seal.ENV, str(report))
    store = Store()
    store.create("configmaps", obj("one", data={"k": "v"}))
    store.peek("configmaps", "default", "one")["data"]["k"] = "edited where it lies"
    store.update("configmaps", store.get("configmaps", "default", "one"))
    text = report.read_text()
    assert 'configmaps default/one rv 1 changed in place' in text
    assert '.data.k: "v" -> "edited where it lies"' in text
    store.update("configmaps", store.get("configmaps", "default", "one"))
    assert report.read_text() == text   # the new version was stored as it is

import threading

from console import bus


def test_keyed_events_merge_and_keep_their_place():
    b = bus.Bus()
    sub = b.subscribe()
    pod = {"metadata": {"uid": "u1", "name": "a"}}
    b.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj=pod))
    b.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj={"metadata": {"uid": "u2"}}))
    for i in range(100):
        b.publish(bus.ObjectChanged(kind="pods", type="MODIFIED",
                                    obj={"metadata": {"uid": "u1", "resourceVersion": str(i)}}))
    got = sub.get_batch(timeout=0)
    assert [e.uid for e in got] == ["u1", "u2"]
    assert got[0].obj["metadata"]["resourceVersion"] == "99"
    assert sub.merged == 100


def test_kubernetes_events_never_merge_and_oldest_drop_when_full():
    b = bus.Bus()
    sub = b.subscribe(maxsize=3)
    for i in range(5):
        b.publish(bus.ObjectChanged(kind="events", obj={"metadata": {"uid": "e"}, "n": i}))
    got = sub.get_batch(timeout=0)
    assert [e.obj["n"] for e in got] == [2, 3, 4]
    assert sub.dropped == 2


def test_a_scenarios_progress_never_merges_and_keeps_its_order():
    # StepStarted has a field named key (the console key): it must not make them merge
    b = bus.Bus()
    sub = b.subscribe()
    sent = [bus.StepStarted(run="r", step="one", key="+"), bus.CheckResult(run="r", step="one", ok=True),
            bus.StepFinished(run="r", step="one", status="passed"),
            bus.StepStarted(run="r", step="two", key="+"), bus.StepStarted(run="r", step="three")]
    for ev in sent:
        b.publish(ev)
    assert sub.get_batch(timeout=0) == sent and sub.merged == 0


def test_a_batch_keeps_keyed_and_plain_events_in_the_order_they_were_first_queued():
    # a wait's checks so far merge; its final one does not: it must not be undone by them
    b = bus.Bus()
    sub = b.subscribe()
    waiting = [bus.CheckResult(run="r", step="s", check="pods ready", observed=f"{i}/3", final=False)
               for i in range(3)]
    final = bus.CheckResult(run="r", step="s", check="pods ready", ok=True, observed="3/3")
    for ev in waiting:
        b.publish(ev)
    b.publish(final)
    b.publish(bus.StepFinished(run="r", step="s", status="passed"))
    got = sub.get_batch(timeout=0)
    assert got[:2] == [waiting[-1], final] and isinstance(got[2], bus.StepFinished)
    pod = bus.ObjectChanged(kind="pods", type="ADDED", obj={"metadata": {"uid": "u1"}})
    b.publish(final)
    b.publish(pod)
    assert sub.get_batch(timeout=0) == [final, pod]


def test_an_event_field_may_not_shadow_the_merge_key():
    import dataclasses
    import pytest
    with pytest.raises(TypeError, match="merge_key"):
        @dataclasses.dataclass
        class Bad(bus.Event):
            name = "test.bad"
            merge_key: str = ""


def test_events_round_trip_through_dicts():
    events = [
        bus.ObjectChanged(kind="pods", type="DELETED", obj={"metadata": {"uid": "x"}}),
        bus.WatchState(kind="pods", state="reconnecting", detail="refused"),
        bus.Metrics(available=False, hint="error: Metrics API not available"),
        bus.LoadDone(run="r1", summary="Transactions: 3 hits", data={"availability": 100.0}),
        bus.ActionDone(action="scale", ok=False, message="forbidden"),
    ]
    for ev in events:
        back = bus.from_dict(ev.to_dict())
        assert back == ev and type(back) is type(ev)


def test_get_batch_wakes_on_publish_from_another_thread():
    b = bus.Bus()
    sub = b.subscribe()
    t = threading.Timer(0.05, b.publish, args=(bus.WatchState(kind="pods"),))
    t.start()
    got = sub.get_batch(timeout=30)
    t.join()
    assert len(got) == 1 and got[0].state == "live"


def test_closed_subscription_gets_nothing_more():
    b = bus.Bus()
    sub = b.subscribe()
    sub.close()
    b.publish(bus.WatchState(kind="pods"))
    assert sub.get_batch(timeout=0) == []


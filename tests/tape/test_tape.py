"""The tape format without a cluster: writing, reading back, cut-short tapes,
versions, unknown events, keyframes and seeking, and the recorder's queue."""

import json
import threading
import time

import pytest

from console import bus
from console.cli import main as kubelab
from console.errors import UsageError
from console.tape import format
from console.tape.fold import Fold
from console.tape.player import Player
from console.tape.reader import read_index
from console.tape.recorder import Recorder
from tests.tape.synthetic import T0, events, write

def fold_through(tape, line):
    f = Fold()
    for rec in tape.records():
        if rec.line > line:
            break
        if rec.event is not None:
            f.apply(rec.event)
    return f


def test_a_tape_reads_back_event_for_event(tmp_path):
    evs = events()
    rec = write(tmp_path / "t.tape", evs)
    tape = read_index(tmp_path / "t.tape")
    assert rec.events == len(evs) and tape.end == {"exit": 0} and not tape.truncated
    got = [r.event for r in tape.records() if r.event is not None and not isinstance(r.event, bus.Snapshot)]
    assert [type(e) for e in got] == [type(e) for e in evs]
    assert [round(e.ts, 3) for e in got] == [round(e.ts, 3) for e in evs]   # intervals add up exactly
    assert all("managedFields" not in e.obj["metadata"] for e in got if isinstance(e, bus.ObjectChanged))
    assert [m.id for m in tape.markers] == [f"step-{i}" for i in range(1, 7)]
    assert [m.ok for m in tape.markers] == [False, True] * 3
    assert [r.t for r in tape.records() if r.event][-1] == pytest.approx(29.9, abs=0.002)
    head = json.loads((tmp_path / "t.tape").read_text().splitlines()[0])
    assert head["tape"] == "kubelab" and head["version"] == format.VERSION
    assert head["terminal"] == {"width": 120, "height": 36} and head["kubelab"]


def test_keyframes_let_a_seek_start_near_its_target_and_land_on_the_same_state(tmp_path):
    write(tmp_path / "t.tape", events(), keyframe_bytes=4000, keyframe_seconds=2)
    tape = read_index(tmp_path / "t.tape")
    assert len(tape.keyframes) >= 5
    for m in tape.markers:
        kf = tape.keyframe_before(m.line)
        assert kf is not None and m.line - kf.line < 80     # not from the first line
        b = bus.Bus()
        sub = b.subscribe()
        p = Player(tape, b, speed=float("inf")).start(playing=False)
        p.seek_step(m.index)
        assert p.wait(lambda p: p.line == m.line and p.step is m)
        p.stop()
        snap = sub.get_batch(timeout=5)[-1]
        assert isinstance(snap, bus.Snapshot)
        whole = fold_through(tape, m.line)
        assert snap.cluster == whole.cluster.snapshot()
        assert snap.load == [e.to_dict() for e in whole.load]
        assert p.clock.position == m.t and snap.ts == tape.start + m.t


def test_a_tape_cut_mid_line_plays_to_its_last_whole_line(tmp_path):
    write(tmp_path / "t.tape", events())
    raw = (tmp_path / "t.tape").read_bytes()
    cut = raw[: raw.index(b'"event":"marker"', len(raw) // 2) + 5]     # inside a marker's line
    (tmp_path / "cut.tape").write_bytes(cut)
    tape = read_index(tmp_path / "cut.tape")
    assert tape.truncated and tape.end is None
    assert tape.lines == cut.count(b"\n")
    b = bus.Bus()
    sub = b.subscribe(merge=False)
    p = Player(tape, b, speed=float("inf")).start()
    assert p.wait(lambda p: p.ended)
    p.stop()
    assert len(sub.get_batch(timeout=1, limit=100_000)) == tape.lines - 1 - len(tape.keyframes)
    assert p.line == tape.lines


def test_a_newer_format_version_is_refused_with_exit_2_and_where(tmp_path, capsys):
    path = tmp_path / "future.tape"
    head = format.header(width=80, height=24, cluster={"kind": "none"}, start=T0)
    path.write_text(json.dumps({**head, "version": format.VERSION + 1, "kubelab": "9.0"}) + "\n")
    assert kubelab(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: tape format version {format.VERSION + 1} is newer than this kubelab reads" in err
    assert "upgrade kubelab" in err and "Traceback" not in err


@pytest.mark.parametrize("content, where, message", [
    (b"", "", "empty file: not a kubelab tape"),
    (b"hello\n", ":1", "not a kubelab tape (its first line is not JSON)"),
    (b'{"some": "json"}\n', ":1", 'not a kubelab tape'),
    (b'HEAD\n{"dt": 0.1, "event": "marker"}\nnot json\n{"dt": 1}\n', ":3", "not a JSON object"),
    (b'HEAD\n{"dt": -1, "event": "marker"}\n', ":2", "field 'dt': expected seconds >= 0, got -1"),
    (b'HEAD\n{"dt": 0, "event": "object", "obj": "x"}\n', ":2",
     "object event: field 'obj': expected dict, got str"),
    (b'HEAD\n{"dt": 0, "event": 7}\n', ":2", "field 'event': expected an event name, got 7"),
])
def test_bad_tapes_name_file_line_and_field(tmp_path, content, where, message):
    path = tmp_path / "bad.tape"
    head = json.dumps(format.header(width=80, height=24, cluster={"kind": "none"}, start=T0)).encode()
    path.write_bytes(content.replace(b"HEAD", head))
    with pytest.raises(UsageError) as info:
        read_index(path)
    assert str(info.value).startswith(f"{path}{where}: ") and message in str(info.value)


def test_unknown_events_are_skipped_and_hand_edited_intervals_move_later_lines(tmp_path, capsys):
    write(tmp_path / "t.tape", events(60))
    lines = (tmp_path / "t.tape").read_text().splitlines()
    lines.insert(3, json.dumps({"dt": 0.5, "event": "hologram", "beam": [1, 2]}))
    lines.insert(4, "")                                            # a blank line: fine
    first = json.loads(lines[1])
    first["dt"] = 100.0                                            # a pause made by hand
    lines[1] = json.dumps({**first, "colour": "new field"})        # and a field from the future
    (tmp_path / "e.tape").write_text("\n".join(lines) + "\n")
    tape = read_index(tmp_path / "e.tape")
    assert tape.skipped == {"hologram": 1}
    recs = [r for r in tape.records() if r.event is not None]
    assert recs[0].t >= 100 and recs[-1].t == pytest.approx(100.5 + 5.9 + recs[0].t - 100, abs=0.01)
    assert isinstance(recs[0].event, bus.ObjectChanged)


def test_the_recorder_keeps_every_event_in_order_when_its_queue_is_full(tmp_path):
    """Four producers, a queue of 50: nothing merged, dropped or reordered per producer."""
    b = bus.Bus()
    rec = Recorder(b, tmp_path / "t.tape", format.header(width=80, height=24, cluster={"kind": "none"}))
    rec.sub.close()
    rec.sub = b.subscribe(maxsize=50, merge=False)
    rec.start()

    def produce(k):
        for i in range(2000):
            b.publish(bus.ObjectChanged(kind="pods", obj={"metadata": {"uid": "same"}, "p": k, "i": i}))
    threads = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec.close({})
    assert rec.sub.high <= 50
    got = [r.event.obj for r in read_index(tmp_path / "t.tape").records()
           if isinstance(r.event, bus.ObjectChanged)]
    assert len(got) == 8000
    for k in range(4):
        assert [o["i"] for o in got if o["p"] == k] == list(range(2000))


def test_a_recorder_that_cannot_write_stops_and_publishers_go_on(tmp_path, monkeypatch):
    b = bus.Bus()
    rec = Recorder(b, tmp_path / "t.tape", format.header(width=80, height=24, cluster={"kind": "none"}))
    rec.sub.close()
    rec.sub = b.subscribe(maxsize=10, merge=False)

    def full(*_):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(rec.writer, "flush", full)
    rec.start()
    t0 = time.monotonic()
    for i in range(500):
        b.publish(bus.ObjectChanged(kind="pods", obj={"metadata": {"uid": str(i)}}))
    rec.close({})
    assert rec.error == f"recording stopped: No space left on device ({tmp_path / 't.tape'})"
    assert time.monotonic() - t0 < 30     # nobody waited for a reader that had stopped


def test_with_no_terminal_a_tape_records_a_roomy_console_not_80x24(tmp_path, monkeypatch):
    # a headless `kubelab run` (CI, piped): its replay and --export pictures show the panes
    import os

    from console.tape.recorder import NO_TERMINAL, record

    def no_tty(*_):
        raise OSError(25, "Inappropriate ioctl for device")
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", no_tty)
    rec = record(bus.Bus(), str(tmp_path / "t.tape"))
    rec.close({"exit": 0})
    assert read_index(tmp_path / "t.tape").size == NO_TERMINAL == (160, 48)

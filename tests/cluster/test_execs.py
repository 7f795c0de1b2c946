"""execs.run reads a command's output to its end whatever way the frames bunch up.

The official client's WSClient reads frames in update(), and a channel read of an
empty channel calls update() itself: the last output, the exit status and the close
can come in through any of those calls. These tests drive execs.run with a client
that keeps that contract and delivers its frames at the worst moment; the embedded
cluster's own exec tests (tests/embedded/test_kubectl_exec.py, the siege pod in
tests/scenario) cover the wire.
"""

import json
import threading

import pytest
from kubernetes import client

from console.cluster import execs

SUCCESS = json.dumps({"metadata": {}, "status": "Success"})


class Client:
    """WSClient's reading contract: update() takes the next batch of frames (channel,
    text; None is the close); read_channel() of an empty channel updates first;
    read_all() is stdout and stderr in order and empties every channel."""

    def __init__(self, batches):
        self.batches = list(batches)
        self.channels: dict[int, str] = {}
        self.all = ""
        self.open = True
        self.typed = []

    def update(self, timeout=0):
        if not self.open or not self.batches:
            return
        for frame in self.batches.pop(0):
            if frame is None:
                self.open = False
                return
            channel, text = frame
            if channel in (1, 2):
                self.all += text
            self.channels[channel] = self.channels.get(channel, "") + text

    def is_open(self):
        return self.open

    def read_channel(self, channel, timeout=0):
        if channel not in self.channels:
            self.update(timeout)
        return self.channels.pop(channel, "")

    def read_stdout(self, timeout=None):
        return self.read_channel(1, timeout)

    def read_stderr(self, timeout=None):
        return self.read_channel(2, timeout)

    def peek_channel(self, channel, timeout=0):
        self.update(timeout)
        return self.channels.get(channel, "")

    def read_all(self):
        out, self.all, self.channels = self.all, "", {}
        return out

    def write_stdin(self, data):
        self.typed.append(data)

    def close(self):
        self.open = False


@pytest.fixture
def fake(monkeypatch):
    made = []

    def stream(*args, **kwargs):
        made[0].kwargs = kwargs
        return made[0]
    monkeypatch.setattr("kubernetes.stream.stream", stream)
    conn = type("Conn", (), {"namespace": "default",
                             "api": client.ApiClient(client.Configuration())})()
    return conn, made


SUMMARY = "\nLifting the server siege...\nTransactions:  12 hits\n"


def test_the_last_output_brought_in_by_a_channel_read_is_not_lost(fake):
    conn, made = fake
    # the stdout read of the second round finds its channel full; the stderr read
    # then updates and brings the summary, the status and the close at once
    made.append(Client([[(1, "HTTP/1.1 200 ...\n")], [(1, "HTTP/1.1 200 ...\n")],
                        [(1, SUMMARY), (3, SUCCESS), None]]))
    seen = []
    res = execs.run(conn, "siege", ["siege", "-v", "http://x/"], on_output=seen.append)
    assert res.exit_code == 0
    assert res.stdout.endswith(SUMMARY) and "".join(seen) == res.stdout


def test_on_a_terminal_the_status_survives_reading_everything(fake):
    conn, made = fake
    made.append(Client([[(1, "HTTP/1.1 200 ...\r\n")], [(1, SUMMARY), (3, SUCCESS), None]]))
    stop_typing = threading.Event()
    res = execs.run(conn, "siege", ["siege"], interrupt=stop_typing)
    assert made[0].kwargs["tty"] is True
    assert res.exit_code == 0 and res.stdout.endswith(SUMMARY)
    assert made[0].all == ""        # nothing piles up in the client's copy


def test_on_a_terminal_a_status_that_comes_before_the_close_is_kept(fake):
    conn, made = fake
    # read_all() empties every channel, the status's too: it is taken first
    made.append(Client([[(1, "HTTP/1.1 200 ...\r\n"), (3, SUCCESS)], [(1, SUMMARY)], [None]]))
    res = execs.run(conn, "siege", ["siege"], interrupt=threading.Event())
    assert res.exit_code == 0 and res.stdout.endswith(SUMMARY)


def test_a_stream_closed_without_a_status_says_so(fake):
    conn, made = fake
    made.append(Client([[(1, "a\n"), None]]))
    with pytest.raises(ConnectionError, match="without the command's exit status"):
        execs.run(conn, "p", ["true"], interrupt=threading.Event())


def test_a_non_zero_exit_and_a_typed_interrupt(fake):
    conn, made = fake
    failed = json.dumps({"status": "Failure", "reason": "NonZeroExitCode",
                         "details": {"causes": [{"reason": "ExitCode", "message": "130"}]}})
    made.append(Client([[(1, "running\r\n")], [], [(1, "^C" + SUMMARY), (3, failed), None]]))
    interrupt = threading.Event()
    interrupt.set()
    res = execs.run(conn, "siege", ["siege"], interrupt=interrupt)
    assert made[0].typed == ["\x03"]
    assert res.exit_code == 130 and res.stdout == "running\r\n^C" + SUMMARY


def test_a_command_still_running_at_the_timeout_has_no_exit_code(fake):
    conn, made = fake
    made.append(Client([[(1, "a\n")]] + [[]] * 1000))
    res = execs.run(conn, "p", ["sleep", "9"], timeout=0.3)
    assert res.exit_code is None and res.stdout == "a\n" and not made[0].open

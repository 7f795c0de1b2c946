"""Processes, streams and terminals of simulated containers, without a cluster:
pipes that run together, SIGPIPE, stdin that streams, bytes out, ps/kill and
init's signal rule, the tty line discipline and the interactive shell."""

import asyncio
import gzip

from console.embedded import apps
from console.embedded.apps import Context
from console.embedded.apps.fs import FileSystem
from console.embedded.apps.shell import IO, Shell
from console.embedded.apps.streams import Capture, Stdin
from console.embedded.clock import Clock
from waits import until


async def run(script, stdin=b""):
    async def sleep(seconds):
        await asyncio.sleep(0)
    out = Capture()
    code = await Shell(FileSystem(), sleep).run_script(script, IO(out, out, Stdin(stdin)))
    return code, out.data()


async def test_pipes_run_together_and_a_gone_reader_ends_the_writer():
    assert await asyncio.wait_for(run("while true; do echo y; done | head -2; echo $?"), 30) == (
        0, b"y\ny\n0\n")
    assert await run("seq 1 100000 | head -1") == (0, b"1\n")
    assert await run("seq 1 3 | while read n; do echo got$n; done") == (0, b"got1\ngot2\ngot3\n")
    assert await run("cat | wc -l", b"a\nb\n") == (0, b"2\n")


async def test_bytes_come_out_unchanged():
    code, out = await run("echo hello | gzip")
    assert code == 0 and gzip.decompress(out) == b"hello\n"
    data = bytes(range(256)) * 4
    code, out = await run("gzip -c | gunzip", data)
    assert code == 0 and out == data
    code, out = await run("cat > /tmp/b; md5sum /tmp/b; gzip /tmp/b; ls /tmp; zcat /tmp/b.gz | wc -c",
                          data)
    assert out.decode().split("\n")[1:3] == ["b.gz", "1024"]


def app_for(image, spec=None, annotations=None):
    lines = []
    ctx = Context(Clock(50), "web-1", "default", "c", image, "10.244.1.2", spec or {},
                  annotations or {}, lines.append)
    return apps.start(ctx), lines


async def test_ps_shows_the_container_and_kill_follows_inits_rule():
    app, _ = app_for("ghcr.io/acmexii/order-liveness:latest")
    code, out = await app.exec(["ps", "ax"])
    rows = out.splitlines()
    assert rows[0] == "    PID TTY      STAT   TIME COMMAND"
    assert rows[1].split(None, 4)[0] == "1" and rows[1].endswith("-jar /app.jar --spring.profiles.active=docker")
    assert rows[2].split()[0] != "1" and rows[2].endswith("ps ax")
    # SIGKILL from inside never reaches init; SIGTERM does, and a JVM handles it
    assert await app.exec(["kill", "-9", "1"]) == (0, "")
    assert app.exit_code is None
    assert await app.exec(["kill", "1"]) == (0, "")
    assert app.exit_code == 143
    code, out = await app.exec(["kill", "4242"])
    assert code == 1 and out == "bash: kill: (4242) - No such process\n"


async def test_sh_as_init_ignores_term_unless_it_traps_it_and_its_children_can_be_killed():
    spec = {"command": ["sh", "-c", "sleep 600; echo woke"]}
    app, lines = app_for("busybox", spec)
    main = asyncio.ensure_future(app.main())
    try:
        await until(lambda: any(p.argv == ["sleep", "600"] for p in app.procs.procs.values()))
        code, out = await app.exec(["ps"])
        assert out.splitlines()[0] == "PID   USER     TIME  COMMAND"
        assert "    1 root      0:00 sh -c sleep 600; echo woke" in out
        sleeper = next(p.pid for p in app.procs.procs.values() if p.argv == ["sleep", "600"])
        assert await app.exec(["kill", "1"]) == (0, "") and not main.done()
        assert await app.exec(["kill", str(sleeper)]) == (0, "")
        assert await asyncio.wait_for(main, 30) == 0       # the script went on and ended
        assert "woke" in lines
    finally:
        main.cancel()


async def test_exec_of_a_missing_executable_is_refused_as_runc_refuses_it():
    app, _ = app_for("busybox", {"command": ["sleep", "9"]})
    assert app.exec_error(["ls"]) is None and app.exec_error(["/bin/sh"]) is None
    assert app.exec_error(["bash"]) == ('OCI runtime exec failed: exec failed: unable to start '
                                        'container process: exec: "bash": executable file not '
                                        'found in $PATH: unknown')
    assert "stat /bin/bash: no such file or directory" in app.exec_error(["/bin/bash"])
    assert app.exec_error(["cd"]) is not None          # a shell builtin has no binary
    assert app.exec_error(["siege"]) is not None       # only the siege image has it
    siege, _ = app_for("apexacme/siege-nginx")
    assert siege.exec_error(["siege"]) is None and siege.exec_error(["bash"]) is None


class Term:
    """The client's side of a tty session."""

    def __init__(self, app, argv):
        self.screen = bytearray()
        self.s = app.exec_session(argv, out=self.screen.extend, err=self.screen.extend,
                                  tty=True, stdin=True)
        self.s.start()

    def type(self, text):
        self.s.feed(text.encode())

    async def see(self, text):
        await until(lambda: text.encode() in self.screen, what=repr(text))
        return self.screen.decode()


async def test_an_interactive_bash_prompts_echoes_interrupts_and_exits():
    app, _ = app_for("apexacme/siege-nginx")
    t = Term(app, ["/bin/bash"])
    await t.see("root@web-1:/# ")
    t.type("cd /tmp; echo $((6*7))\r")
    await t.see("cd /tmp; echo $((6*7))\r\n42\r\nroot@web-1:/tmp# ")
    t.type("sleep 600; echo never\r")
    await until(lambda: any(p.argv == ["sleep", "600"] for p in app.procs.procs.values()))
    assert any(p.tty == "pts/0" for p in app.procs.procs.values())
    t.type("\x03")
    await t.see("^C\r\nroot@web-1:/tmp# ")
    assert "\nnever" not in t.screen.decode()
    t.type("for i in 1 2\r")
    await t.see("> ")
    t.type("do echo n$i; done\r")
    await t.see("n1\r\nn2\r\n")
    t.type("half a line\x15exit 3\r")
    assert await asyncio.wait_for(t.s.wait(), 30) == 3
    assert t.screen.decode().endswith("exit\r\n")
    assert app.procs.ttys == set()


async def test_a_direct_command_reads_streaming_stdin_until_it_closes():
    app, _ = app_for("busybox", {"command": ["sleep", "9"]})
    out = Capture()
    s = app.exec_session(["cat"], out=out, err=out, stdin=True)
    s.start()
    s.feed(b"one\n")
    await until(lambda: out.data() == b"one\n")
    assert not s.task.done()
    s.feed(b"two\n")
    s.close_stdin()
    assert await asyncio.wait_for(s.wait(), 30) == 0 and out.data() == b"one\ntwo\n"


async def test_hanging_up_kills_what_the_session_started():
    app, _ = app_for("busybox", {"command": ["sleep", "9"]})
    s = app.exec_session(["sh", "-c", "sleep 600"], out=Capture(), err=Capture())
    s.start()
    await until(lambda: any(p.argv == ["sleep", "600"] for p in app.procs.procs.values()))
    await s.hangup()
    assert s.task.done() and await s.wait() == 129
    assert [p.pid for p in app.procs.procs.values()] == [1]


async def test_ctrl_c_in_a_terminal_interrupts_a_command_run_directly():
    app, _ = app_for("busybox", {"command": ["sleep", "9"]})
    t = Term(app, ["sleep", "600"])
    await until(lambda: any(p.argv == ["sleep", "600"] and p.tty == "pts/0"
                            for p in app.procs.procs.values()))
    t.type("typed ahead")
    await t.see("typed ahead")                 # the terminal echoes while it runs
    t.type("\x03")
    assert await asyncio.wait_for(t.s.wait(), 30) == 130
    assert t.screen.decode().endswith("^C")

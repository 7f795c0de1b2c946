"""The small shell of simulated containers: scripts, exit codes, busybox wording."""

import asyncio

import pytest

from console.embedded.apps.fs import FileSystem
from console.embedded.apps.shell import GNU, IO, Shell
from console.embedded.apps.streams import Capture


async def run(script, flavor="busybox", fs=None):
    async def sleep(seconds):
        await asyncio.sleep(0)
    out = Capture()
    sh = Shell(fs or FileSystem(), sleep, flavor=flavor)
    code = await sh.run_script(script, IO(out, out))
    return code, out.text()


@pytest.mark.parametrize("script, code, output", [
    ("touch /tmp/healthy; cat /tmp/healthy && echo ok", 0, "ok\n"),
    ("rm -rf /tmp/healthy; cat /tmp/healthy",
     1, "cat: can't open '/tmp/healthy': No such file or directory\n"),
    ("cat /tmp/none || echo fallback", 0,
     "cat: can't open '/tmp/none': No such file or directory\nfallback\n"),
    ("foo --bar", 127, "sh: foo: not found\n"),
    ("false; echo $?", 0, "1\n"),
    ("i=0; while [ $i -lt 3 ]; do echo n$i; i=$((i+1)); done", 0, "n0\nn1\nn2\n"),
    ("for x in a b; do echo $x; done | cat", 0, "a\nb\n"),
    ('echo "a  b" > /tmp/f; cat /tmp/f; echo $(cat /tmp/f)', 0, "a  b\na b\n"),
    ("if test -f /tmp/f; then echo yes; else echo no; fi", 0, "no\n"),
    ("[ 1 -eq 1 ] && exit 4; echo never", 4, ""),
    ("rm /tmp/x", 1, "rm: can't remove '/tmp/x': No such file or directory\n"),
    ("while true; do", 2, 'sh: syntax error: unexpected end of file (expecting "done")\n'),
    ("echo 'open", 2, "sh: unterminated quoted string\n"),
    ("sleep abc", 1, "sleep: invalid number 'abc'\n"),
])
async def test_busybox_scripts(script, code, output):
    assert await run(script) == (code, output)


async def test_gnu_wording():
    assert await run("cat /tmp/healthy", flavor=GNU) == (
        1, "cat: /tmp/healthy: No such file or directory\n")
    assert await run("nosuch", flavor=GNU) == (127, "sh: 1: nosuch: not found\n")


async def test_sleep_uses_the_given_clock_and_a_busy_loop_yields():
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    sh = Shell(FileSystem(), sleep)
    out = []
    code = await sh.run_script("sleep 30; sleep 1m; n=0; while [ $n -lt 200 ]; do n=$((n+1)); done; echo $n",
                               IO(out.append, out.append))
    assert code == 0 and slept == [30.0, 60.0] and out == ["200\n"]


@pytest.mark.parametrize("script, code, output", [
    ("for i in $(seq 1 3); do echo $i; done", 0, "1\n2\n3\n"),
    ("seq 3 | wc -l", 0, "3\n"),
    ("printf 'a\\nb\\nc\\n' > /tmp/f; head -n 2 /tmp/f; tail -1 /tmp/f", 0, "a\nb\nc\n"),
    ("echo UP > /tmp/h; grep -q UP /tmp/h && echo found", 0, "found\n"),
    ("grep -c x /tmp/nothing", 2, "grep: /tmp/nothing: No such file or directory\n"),
    ("echo hello | grep -v hello", 1, ""),
    ("sleep 5 & wait; echo after", 0, "after\n"),
    ("basename /a/b/c.txt; dirname /a/b/c.txt", 0, "c.txt\n/a/b\n"),
])
async def test_text_tools(script, code, output):
    assert await run(script) == (code, output)

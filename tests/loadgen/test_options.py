"""siege's command line as the labs type it, and bad input as one clear line."""

import pytest

from console import cli
from console.errors import UsageError
from console.loadgen.options import OPEN_LOOP_INFLIGHT, parse

URL = "http://order:8080/orders"


def test_seed_hpa_load():
    s = parse(["-c20", "-t40S", "-v", URL])
    assert (s.concurrent, s.seconds, s.reps, s.verbose) == (20, 40, None, True)
    assert s.targets[0].url == URL and s.targets[0].method == "GET"
    assert s.keepalive and s.warnings == []


def test_seed_rollout_with_delay_after_url():
    s = parse(["-c1", "-t60S", "-v", URL, "--delay=1S"])
    assert (s.concurrent, s.seconds, s.delay) == (1, 60, 1.0)


def test_seed_reps():
    s = parse(["-r", "2000", "-c", "200", "-v", URL])
    assert (s.reps, s.concurrent, s.seconds) == (2000, 200, None)


def test_seed_post_json_time_wins_over_reps():
    body = '{"carId": 1, "status": "rented"}'
    s = parse(["-v", "-c100", "-t60S", "-r10", "--content-type", "application/json",
               f"http://gateway:8080/carManagements POST {body}"])
    assert (s.concurrent, s.seconds, s.reps) == (100, 60, None)
    assert s.content_type == "application/json"
    t = s.targets[0]
    assert (t.url, t.method, t.body) == ("http://gateway:8080/carManagements", "POST", body.encode())
    assert "CONFIG conflict" in s.warnings[0] and "60 seconds" in s.warnings[0]


def test_put_body_from_file(tmp_path):
    f = tmp_path / "body.json"
    f.write_bytes(b'{"a": 1}\n')
    s = parse(["-c1", "-r1", f"http://localhost:8080/x PUT <{f}"])
    assert s.targets[0].method == "PUT" and s.targets[0].body == b'{"a": 1}\n'


def test_time_units_and_bare_number_is_minutes():
    assert parse(["-t2M", URL]).seconds == 120
    assert parse(["-t1h", URL]).seconds == 3600
    assert parse(["--time=30s", URL]).seconds == 30
    s = parse(["-t", "2", URL])
    assert s.seconds == 120 and "minutes" in s.warnings[0]


def test_defaults_and_extras():
    s = parse([URL])
    assert (s.concurrent, s.reps, s.seconds, s.delay, s.failures, s.timeout) == (25, None, None, 0, 1024, 30)
    s = parse(["-b", "-d", "3", "--no-keepalive", "--failures=10", "--timeout=2", "-j",
               "-H", "X-Trace: abc", "-A", "lab", URL])
    assert s.delay == 0 and not s.keepalive and s.failures == 10 and s.timeout == 2 and s.json
    assert s.headers == {"X-Trace": "abc"} and s.user_agent == "lab"
    s = parse(["--rate", "200", URL])
    assert s.rate == 200 and s.concurrent == OPEN_LOOP_INFLIGHT
    assert parse(["--rate=50", "-c", "4", URL]).concurrent == 4
    assert parse(["--rate=50", "-r", "7", URL]).total == 7
    assert parse(["--rate=50", "-r", "7", "-c", "3", URL]).total == 21


def test_j_is_json_as_in_siege_and_j_n_is_workers():
    # siege 4.0's -j is --json-output; -j followed by a number is the worker count
    assert parse(["-j", URL]).json and parse(["--json-output", URL]).json
    assert parse([URL, "-j"]).json and parse(["-bj", URL]).json
    for argv in (["-j2", URL], ["-j", "2", URL], ["--workers=2", URL], ["--workers", "2", URL]):
        s = parse(argv)
        assert s.workers == 2 and not s.json, argv
    s = parse(["-j", "-j3", URL])
    assert s.json and s.workers == 3
    assert parse([URL]).workers is None  # the cores, decided when the run starts
    with pytest.raises(UsageError, match="-j/--workers 0: must be at least 1"):
        parse(["-j0", URL])
    with pytest.raises(UsageError, match="-j/--workers 'many': expected a whole number"):
        parse(["--workers=many", URL])


def test_urls_file(tmp_path):
    (tmp_path / "b.txt").write_text("x=1")
    f = tmp_path / "urls.txt"
    f.write_text(f"# the lab's URLs\n{URL}\n\nhttp://localhost:1/p POST <b.txt\n")
    s = parse(["-f", str(f)])
    assert [t.method for t in s.targets] == ["GET", "POST"]
    assert s.targets[1].body == b"x=1"  # a relative body file is read beside the list


@pytest.mark.parametrize("argv, words", [
    (["--bogus", URL], "unknown option '--bogus'"),
    (["-c", "0", URL], "-c/--concurrent 0: must be at least 1"),
    (["-c", "many", URL], "-c/--concurrent 'many'"),
    (["-t", "4x", URL], "-t '4x': bad duration"),
    (["-t", "0S", URL], "above zero"),
    (["-r", "-3", URL], "-r/--reps -3"),
    (["ftp://host/file"], "bad URL 'ftp://host/file'"),
    (["http://"], "bad URL 'http://'"),
    (["http://host:99999/x"], "bad URL"),
    ([f"{URL} FETCH"], "'FETCH' after the URL is not a method"),
    ([f"{URL} POST </nonexistent/body.json"], "body file '/nonexistent/body.json'"),
    (["-H", "NoColon", URL], "a header is 'Name: value'"),
    ([], "no URL given"),
    ([URL, URL], "one URL at a time"),
    (["-f", "/nonexistent/urls.txt"], "-f /nonexistent/urls.txt"),
    (["--rate", "0", URL], "--rate 0"),
    (["--rate", "10", "-d", "1", URL], "cannot be used with -d"),
    # header injection: CR/LF would put lines of their own on the wire
    (["-H", "X-A: b\r\nX-Inj: 1", URL], "-H X-A: 'b\\r\\nX-Inj: 1': a carriage return (CR) at column 2"),
    (["-A", "ua\r\nX-Evil: 1", URL], "-A/--user-agent 'ua\\r\\nX-Evil: 1': a carriage return (CR)"),
    (["-T", "text/plain\nX: 1", URL], "-T/--content-type 'text/plain\\nX: 1': a line feed (LF)"),
    (["-H", "X-B: a\x00b", URL], "-H X-B: 'a\\x00b': a NUL byte"),
    (["-H", "X A: b", URL], "'X A' is not a header name"),
    (["-H", "X\r\nY: b", URL], "is not a header name"),
    (["-H", "Content-Length: 5", URL], "Content-Length is set from the request body"),
    (["http://localhost/a\nX-Inj: 1"], "URL: 'http://localhost/a\\nX-Inj:': a line feed (LF) at column 19"),
    ([f"{URL} POST </tmp/a\x00b"], "body file"),
])
def test_bad_input(argv, words, capsys):
    with pytest.raises(UsageError) as e:
        parse(argv)
    assert words in str(e.value)
    # through the real entry point: one line on stderr, exit code 2, no traceback
    assert cli.main(["siege", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_bad_line_in_urls_file_names_file_and_line(tmp_path):
    f = tmp_path / "urls.txt"
    f.write_text("http://localhost/a\nhttp://localhost/b GRAB\n")
    with pytest.raises(UsageError) as e:
        parse(["-f", str(f)])
    assert str(e.value).startswith(f"{f}:2: 'GRAB'")


def test_urls_file_is_read_as_bytes(tmp_path, capsys):
    f = tmp_path / "urls.bin"
    f.write_bytes(b"http://localhost/a\n# ok\nhttp://localhost/\xff\xfe\x00b\n")
    with pytest.raises(UsageError) as e:
        parse(["-f", str(f)])
    assert str(e.value) == (f"{f}:3: not a line of text: byte 0xff at column 18 is not UTF-8 "
                            "(is this a URL file?)")
    assert cli.main(["siege", "-f", str(f)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    # a BOM, CRLF line ends and non-ASCII paths are text
    f.write_bytes("\ufeffhttp://localhost/caf\u00e9\r\nhttp://localhost/b\r\n".encode())
    assert [t.url for t in parse(["-f", str(f)]).targets] == [
        "http://localhost/caf%C3%A9", "http://localhost/b"]
    f.write_bytes(b"http://localhost/a\x0bb\n")  # a control character inside a line
    with pytest.raises(UsageError, match=r":1: URL .*control character 0x0b at column 19"):
        parse(["-f", str(f)])


def test_header_values_go_on_the_wire_as_one_line():
    from console.loadgen.engine import Engine
    e = Engine(parse(["-H", "X-Name: \uae40\tkim", "-A", "lab/1.0 (\u00fc)",
                      "http://u:p%40ss@127.0.0.1:9/x"]))
    e.prepare()
    head = e.prepared[0].raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == b"GET /x HTTP/1.1" and head[1] == b"Host: 127.0.0.1:9"
    assert "X-Name: \uae40\tkim".encode() in head          # UTF-8, as curl sends it
    assert b"Authorization: Basic dTpwQHNz" in head          # the URL's user:p@ss
    assert all(b"\r" not in line and b"\n" not in line for line in head)


def test_help(capsys):
    assert cli.main(["siege", "--help"]) == 0
    assert "--rate" in capsys.readouterr().out


def test_parse_line_for_scenarios():
    from console.loadgen.options import parse_line
    s = parse_line("""siege -c20 -t40S -v --content-type "application/json" 'http://gateway:8080/cars POST {"a": 1}'""")
    assert (s.concurrent, s.seconds, s.content_type) == (20, 40, "application/json")
    assert s.targets[0].body == b'{"a": 1}'
    with pytest.raises(UsageError) as e:
        parse_line("-c2 'http://x/ POST")
    assert "No closing quotation" in str(e.value)


def test_more_users_than_open_files(capsys):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here")
    assert cli.main(["siege", "-c", str(hard + 1), "-j1", "-r1", "--no-log",
                     "http://127.0.0.1:9/"]) == 2
    err = capsys.readouterr().err
    assert f"-c {hard + 1}: needs about" in err and "(ulimit -n; " in err and err.count("\n") == 1
    # over N processes each needs its share: the limit is per process
    assert cli.main(["siege", "-c", str(3 * hard), "-j2", "-r1", "--no-log",
                     "http://127.0.0.1:9/"]) == 2
    assert "and each of 2 processes may open" in capsys.readouterr().err

"""Property-based fuzzing (hypothesis) of `kubelab siege` and `kubelab cluster` input:
argument lists, siege command lines, URL files. No load is sent: what is checked is
that every input is either a run the engine can prepare — whose request heads carry
no injected line — or a UsageError that reaches the user as one line and exit 2.
"""

import string

from hypothesis import event, given, strategies as st

from console import cli
from console.embedded.main import parse_args
from console.errors import UsageError
from console.loadgen.engine import Engine
from console.loadgen.options import parse, parse_line, read_urls_file

NASTY = st.sampled_from(["\r\n", "\n", "\r", "\x00", "\x7f", "\t", " ", ":", "\u2028", "\ufeff",
                         "é", "김", "%", "'", '"', "<", "-", "=", "1e309", "nan", "inf"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=24)
WORD = st.one_of(TEXT, st.lists(st.one_of(TEXT, NASTY), max_size=5).map("".join))
NUMBER = st.one_of(st.integers(-10, 10**6).map(str), st.floats(allow_nan=True).map(str),
                   st.sampled_from(["", "0", "1e400", "99999999999999999999999", "1S", "2M",
                                    "0.001", "-1", "1e-300", "NaN", "1_000"]))
HOSTS = st.sampled_from(["127.0.0.1:9", "localhost:1", "[::1]:9", "127.0.0.1:99999", "h st",
                         "u:p@127.0.0.1:9", "", "127.0.0.1:-1", "127.0.0.1:9\r\nX: 1"])
# most inputs nearly right, so the paths past parsing (prepare, the wire) are reached too
GOOD_URL = st.builds(lambda path: f"http://127.0.0.1:9/{path}",
                     st.text(string.ascii_letters + string.digits + "/?=&%~.é김", max_size=12))
URL = st.one_of(
    GOOD_URL, GOOD_URL,
    st.builds(lambda scheme, host, path: f"{scheme}{host}/{path}",
              st.sampled_from(["http://", "https://", "ftp://", "", "http:/", "HTTP://"]),
              HOSTS, WORD),
    WORD)
GOOD_NUMBER = st.one_of(st.integers(1, 50).map(str), st.sampled_from(["1S", "0.5", "2", "10S"]))
TARGET = st.one_of(URL, st.builds(lambda u, m, b: f"{u} {m} {b}", URL,
                                  st.sampled_from(["POST", "PUT", "get", "FETCH", "PATCH", ""]),
                                  st.one_of(WORD, st.just("</nonexistent"), st.just("<"))))
PRINTABLE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=16)
OPTION = st.one_of(
    st.tuples(st.sampled_from(["-c", "-r", "-t", "-d", "--rate", "--timeout", "--failures"]),
              st.one_of(GOOD_NUMBER, NUMBER)).map(list),
    st.tuples(st.sampled_from(["-H", "-A", "-T", "--header", "--user-agent", "--content-type"]),
              st.one_of(PRINTABLE, WORD)).map(list),
    st.tuples(st.just("-H"), st.builds(lambda n, v: f"{n}: {v}", st.sampled_from(
        ["X-A", "Authorization", "Host", "Cookie", "X A", "Content-Length", ""]),
        st.one_of(PRINTABLE, WORD))).map(list),
    st.sampled_from([["-b"], ["-v"], ["-q"], ["--json"], ["--no-keepalive"], ["--no-log"],
                     ["--log-bodies"], ["--bogus"], ["-"], ["--"], ["-f"], ["-c"]]),
)
ARGV = st.builds(lambda opts, urls: [a for o in opts for a in o] + urls,
                 st.lists(OPTION, max_size=5),
                 st.one_of(st.lists(TARGET, min_size=1, max_size=1), st.lists(TARGET, max_size=2)))


def _check(spec) -> None:
    """A parsed run is one the engine can prepare; its heads are header lines only."""
    engine = Engine(spec)
    try:
        engine.prepare()
    except UsageError as exc:
        assert str(exc)
        return
    for p in engine.prepared:
        if p.raw is None:
            continue
        head = p.raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        assert head[0].split(b" ")[0].decode() in ("GET", "POST", "PUT", "DELETE", "PATCH",
                                                    "HEAD", "OPTIONS")
        for line in head[1:]:
            name, sep, value = line.partition(b":")
            assert sep and name and all(chr(c) in string.printable and chr(c) not in " \t\r\n:"
                                        for c in name), line
            assert b"\r" not in value and b"\n" not in value and b"\x00" not in value


def _refused_on_the_command_line(argv, capsys) -> None:
    capsys.readouterr()
    assert cli.main(["siege", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kubelab siege: ") and "Traceback" not in err


@given(ARGV)
def test_siege_argument_lists(capsys, argv):
    try:
        spec = parse(argv)
    except UsageError as exc:
        assert str(exc)
        event("refused")
        _refused_on_the_command_line(argv, capsys)
        return
    event("parsed")
    if spec is not None:
        _check(spec)


@given(st.builds(lambda words, url: " ".join(words + [url]),
                 st.lists(st.one_of(WORD, NASTY, st.sampled_from(
                     ["siege", "-c5", "'", '"', "\\", "-t1S", "-H 'X: y'", "--rate 5"])), max_size=6),
                 st.one_of(GOOD_URL, TARGET.map(lambda t: f"'{t}'"))))
def test_siege_command_lines(line):
    try:
        spec = parse_line(line)
    except UsageError as exc:
        assert str(exc)
        event("refused")
        return
    event("parsed")
    _check(spec)


@given(st.lists(st.one_of(st.binary(max_size=40), TARGET.map(str.encode),
                          st.sampled_from([b"# comment", b"", b"\xef\xbb\xbf", b"\r", b"\x00"])),
                max_size=6))
def test_url_files(tmp_path_factory, lines):
    f = tmp_path_factory.mktemp("urls") / "urls.txt"
    f.write_bytes(b"\n".join(lines))
    try:
        targets = read_urls_file(str(f))
    except UsageError as exc:
        assert str(f) in str(exc)  # names the file (and the line)
        return
    assert targets


CLUSTER_OPTION = st.one_of(
    st.tuples(st.sampled_from(["--speed", "--nodes", "--port", "--read-header-timeout"]),
              NUMBER).map(list),
    st.tuples(st.sampled_from(["--version", "--log-level", "--kubeconfig"]), WORD).map(list),
    st.sampled_from([["--bogus"], ["--speed"], ["x"], ["-h"]]))


@given(st.lists(CLUSTER_OPTION, max_size=5).map(lambda opts: [a for o in opts for a in o]))
def test_cluster_argument_lists(argv):
    try:
        a = parse_args(argv)
    except UsageError as exc:
        assert str(exc)
        return
    except SystemExit as exc:  # -h: argparse prints the help and leaves with 0
        assert exc.code == 0
        return
    assert 0 < a.speed <= 1000 and 0 <= a.nodes <= 100 and 0 <= a.port <= 65535
    assert 0 < a.read_header_timeout <= 3600

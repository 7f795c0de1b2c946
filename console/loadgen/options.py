"""siege's command line: -c -r -t -d -b -v -H -T -f, 'URL POST body', plus kubelab's extras.

parse(argv) returns a Spec: a plain, picklable description of a run that the
engine, the worker process and the run log all share.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from console.errors import UsageError

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
OPEN_LOOP_INFLIGHT = 1000  # --rate without -c: requests in flight at most
FORM = "application/x-www-form-urlencoded"  # siege's default for POST/PUT bodies


@dataclass
class Target:
    """One line of siege's URL syntax: `URL [METHOD [body | <file]]`."""

    url: str
    method: str = "GET"
    body: bytes | None = None


@dataclass
class Spec:
    targets: list[Target]
    concurrent: int = 25           # siege's users; with --rate, the cap on requests in flight
    reps: int | None = None        # per user; None = until time/Ctrl-C
    seconds: float | None = None   # -t; wins over -r as in siege
    delay: float = 0.0             # random 0..delay after each request
    benchmark: bool = False
    verbose: bool = False
    quiet: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    user_agent: str = "kubelab-siege"
    keepalive: bool = True
    timeout: float = 30.0          # siege's default socket timeout
    failures: int = 1024           # siege aborts after this many failed transactions
    rate: float | None = None      # open loop: requests per second
    total: int | None = None       # open loop: requests to send (from -r), None = by time
    json: bool = False
    log: bool = True
    log_bodies: bool = False       # the run log keeps bodies verbatim (else size + SHA-256)
    progress: bool = True
    workers: int | None = None     # -j N / --workers: processes; None = the cores (pool.workers)
    warnings: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    connect_to: list[tuple[str, int | None, str, int | None]] = field(default_factory=list)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit(2) with usage; we want one line
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kubelab siege", add_help=False, allow_abbrev=False)
    a = p.add_argument
    a("-h", "--help", action="store_true")
    a("-c", "--concurrent", metavar="N")
    a("-r", "--reps", metavar="N")
    a("-t", "--time", metavar="NUM[S|M|H]")
    a("-d", "--delay", metavar="NUM")
    a("-b", "--benchmark", action="store_true")
    a("-v", "--verbose", action="store_true")
    a("-q", "--quiet", action="store_true")
    a("-H", "--header", action="append", default=[], metavar="'Name: value'")
    a("-T", "--content-type", metavar="TYPE")
    a("-A", "--user-agent", metavar="STRING")
    a("-f", "--file", metavar="FILE")
    a("-j", "--json", "--json-output", action="store_true")
    a("--workers", metavar="N")
    a("--rate", metavar="R")
    a("--no-keepalive", action="store_true")
    a("--timeout", metavar="SECS")
    a("--failures", metavar="N")
    a("--no-log", action="store_true")
    a("--log-bodies", action="store_true")
    a("--no-progress", action="store_true")
    a("--connect-to", action="append", default=[], metavar="HOST1:PORT1:HOST2:PORT2")
    a("urls", nargs="*")
    return p


HELP = """usage: kubelab siege [options] URL | -f FILE

siege's options, with siege's meanings:
  -c, --concurrent=N     simulated users (default 25)
  -r, --reps=N           repetitions per user
  -t, --time=NUM[S|M|H]  run for a time; no unit means minutes (as siege); wins over -r
  -d, --delay=NUM        random pause of 0..NUM seconds after each request
  -b, --benchmark        no delays between requests
  -v, --verbose          one line per request, in siege's layout
  -q, --quiet            no per-request output and no summary
  -H, --header='N: v'    add a request header (repeatable)
  -T, --content-type=T   Content-Type of POST/PUT bodies
  -A, --user-agent=S     User-Agent
  -f, --file=FILE        URLs, one per line (same syntax as the command line)
  URL syntax:            'http://host/path', 'URL POST body', 'URL PUT </path/file'
kubelab's extras:
  -j, --json             print one JSON document (siege's keys, percentiles, series)
  -j N, --workers=N      processes to spread the users (or --rate) over; default: one
                         per core this process may use, at most one per user (-c)
  --rate=R               open loop: R requests/s, latency from the intended send time;
                         -c caps requests in flight (default 1000); -r N sends N
                         requests (N per user, N*c, when -c is given, as siege counts)
  --no-keepalive         a new connection per request (siege's connection = close)
  --timeout=SECS         per-request timeout (default 30)
  --failures=N           abort after N failed transactions (siege: 1024)
  --no-log               do not append the run to the run log
  --log-bodies           keep request bodies in the run log (default: size and SHA-256)
  --no-progress          no progress bar (it only shows on a terminal anyway)
  --connect-to=H1:P1:H2:P2  as curl's: requests for H1:P1 connect to H2:P2, the Host
                         header unchanged; an empty H1 or P1 matches any (repeatable)"""


def _int(value: str, opt: str, low: int = 1) -> int:
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"{opt} {value!r}: expected a whole number") from None
    if n < low:
        raise UsageError(f"{opt} {value}: must be at least {low}")
    return n


def _float(value: str, opt: str, low: float = 0.0, strict: bool = False) -> float:
    try:
        x = float(value)
    except ValueError:
        raise UsageError(f"{opt} {value!r}: expected a number") from None
    if x < low or (strict and x == low) or x != x or x == float("inf"):
        raise UsageError(f"{opt} {value}: must be {'above' if strict else 'at least'} {low:g}")
    return x


# RFC 9110 5.6.2: a field name is a token; a value holds no control character but HTAB
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CTL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CTL_NAMES = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\x00": "a NUL byte"}
_OWN_HEADERS = ("content-length", "transfer-encoding")  # set from the body, never twice


def check_text(value: str, what: str, where: str | None = None) -> str:
    """`value` unchanged, or UsageError naming the first control character.

    CR or LF in a header value or a URL would end the line on the wire and let what
    follows pass as a header of its own (header injection): refused, as curl does.
    """
    m = _CTL.search(value)
    if m:
        ch = m.group()
        name = _CTL_NAMES.get(ch, f"control character 0x{ord(ch):02x}")
        raise UsageError(f"{what} {value!r}: {name} at column {m.start() + 1}; "
                         "control characters are not allowed here".lstrip(), where)
    return value


def parse_header(text: str) -> tuple[str, str]:
    """-H 'Name: value' -> (name, value); UsageError naming -H for anything else."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip(" \t")
    if not sep or not name:
        raise UsageError(f"-H {text!r}: a header is 'Name: value'")
    if not _TOKEN.fullmatch(name):
        raise UsageError(f"-H {text!r}: {name!r} is not a header name "
                         "(letters, digits and !#$%&'*+-.^_`|~ only, no spaces)")
    if name.lower() in _OWN_HEADERS:
        raise UsageError(f"-H {text!r}: {name} is set from the request body; leave it out")
    return name, check_text(value, f"-H {name}:")


_FIELDS = re.compile(r"[ \t]+")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhSMH]?)$")


def parse_duration(text: str, warnings: list[str]) -> float:
    """siege's -t: NUM[S|M|H]; a bare number is minutes (siege does so too)."""
    m = _DURATION.match(text.strip())
    if not m:
        raise UsageError(f"-t {text!r}: bad duration; use NUM[S|M|H], e.g. -t40S or -t2M")
    n, unit = float(m.group(1)), m.group(2).upper()
    if not unit:
        warnings.append(f"WARNING: -t {text} has no unit; reading it as {m.group(1)} minutes "
                        f"as siege does (use -t{m.group(1)}S for seconds)")
        unit = "M"
    secs = n * {"S": 1, "M": 60, "H": 3600}[unit]
    if secs <= 0:
        raise UsageError(f"-t {text}: the duration must be above zero")
    return secs


def parse_delay(text: str) -> float:
    # siege reads -d with atof, so the labs' --delay=1S means 1 second
    value = text[:-1] if text[-1:] in ("s", "S") else text
    return _float(value, "-d/--delay")


def parse_connect_to(text: str) -> tuple[str, int | None, str, int | None]:
    """curl's --connect-to HOST1:PORT1:HOST2:PORT2."""
    parts = text.split(":")
    if len(parts) != 4:
        raise UsageError(f"--connect-to {text!r}: expected HOST1:PORT1:HOST2:PORT2")
    ports = []
    for p in (parts[1], parts[3]):
        if p and not (p.isdigit() and 0 < int(p) < 65536):
            raise UsageError(f"--connect-to {text!r}: {p!r} is not a port")
        ports.append(int(p) if p else None)
    return parts[0].lower(), ports[0], parts[2], ports[1]


def parse_target(text: str, where: str, base: Path | None = None) -> Target:
    """'URL', 'URL METHOD', 'URL METHOD body' or 'URL METHOD </path/file'."""
    # fields are split at spaces and tabs only: a CR or LF stays in its field, to be refused
    parts = [p for p in _FIELDS.split(text.strip(), 2) if p]
    if not parts:
        raise UsageError("empty URL", where)
    check_text(parts[0], "" if where == "URL" else "URL", where)
    raw = parts[0]
    method = parts[1].upper() if len(parts) > 1 else "GET"
    if method not in METHODS:
        check_text(parts[1], "method", where)
        raise UsageError(f"{method!r} after the URL is not a method ({', '.join(METHODS)})", where)
    body = None
    if len(parts) > 2:
        rest = parts[2]
        if rest.startswith("<"):
            path = Path(rest[1:].strip()).expanduser()
            if base is not None and not path.is_absolute():
                path = base / path
            try:
                body = path.read_bytes()
            except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
                raise UsageError(f"body file {str(path)!r}: "
                                 f"{getattr(exc, 'strerror', None) or exc}", where) from None
        else:
            body = rest.encode()
    if "://" not in raw:
        raw = "http://" + raw  # siege accepts host/path without a scheme
    try:
        url = URL(raw)
    except ValueError as exc:
        raise UsageError(f"bad URL {parts[0]!r}: {exc}", where) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise UsageError(f"bad URL {parts[0]!r}: expected http://host[:port]/path", where)
    try:
        url.port
    except ValueError:
        raise UsageError(f"bad URL {parts[0]!r}: bad port", where) from None
    return Target(str(url), method, body)


def read_urls_file(name: str) -> list[Target]:
    """siege's URL file: one target a line, # comments; read as bytes, each line UTF-8."""
    path = Path(name).expanduser()
    try:
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        raise UsageError(f"-f {name}: {getattr(exc, 'strerror', None) or exc}") from None
    targets = []
    for i, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines(), 1):
        try:
            line = raw.decode()
        except UnicodeDecodeError as exc:
            raise UsageError(f"not a line of text: byte 0x{raw[exc.start]:02x} at column "
                             f"{exc.start + 1} is not UTF-8 (is this a URL file?)",
                             f"{name}:{i}") from None
        line = line.strip()
        if line and not line.startswith("#"):
            targets.append(parse_target(line, f"{name}:{i}", path.parent))
    if not targets:
        raise UsageError(f"-f {name}: no URLs in the file")
    return targets


def parse_line(text: str) -> Spec:
    """A siege command line as one string (a scenario's `load.start: {siege: ...}`).

    Shell quoting as a shell would read it; a leading `siege` is allowed.
    """
    import shlex

    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"siege command line {text!r}: {exc}") from None
    if argv and argv[0] == "siege":
        argv = argv[1:]
    spec = parse(argv)
    if spec is None:
        raise UsageError("siege command line: --help is not a load")
    return spec


_JOBS = re.compile(r"-j(\d+)")


def _workers_option(argv: list[str]) -> list[str]:
    """siege's -j is --json-output; -j followed by a number (make's -j N) is --workers."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        m = _JOBS.fullmatch(a)
        if m:
            out.append(f"--workers={m.group(1)}")
        elif a == "-j" and i + 1 < len(argv) and argv[i + 1].isdigit():
            out.append(f"--workers={argv[i + 1]}")
            i += 1
        else:
            out.append(a)
        i += 1
    return out


def parse(argv: list[str]) -> Spec | None:
    """A Spec, or None when --help was asked for (the caller prints HELP)."""
    p = _parser()
    ns, unknown = p.parse_known_args(_workers_option(argv))
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r} (kubelab siege --help lists them)")
    if ns.help:
        return None
    bad = [u for u in ns.urls if u.startswith("-") and len(u) > 1]
    if bad:
        raise UsageError(f"unknown option {bad[0]!r} (kubelab siege --help lists them)")
    if ns.file and ns.urls:
        raise UsageError("give either -f FILE or a URL, not both")
    if len(ns.urls) > 1:
        raise UsageError(f"one URL at a time (got {len(ns.urls)}); quote 'URL POST body' "
                         "as one argument, or list URLs in a file with -f")
    if ns.file:
        targets = read_urls_file(ns.file)
    elif ns.urls:
        targets = [parse_target(ns.urls[0], "URL")]
    else:
        raise UsageError("no URL given: kubelab siege [options] URL (or -f FILE)")

    warnings: list[str] = []
    spec = Spec(targets=targets, warnings=warnings, argv=list(argv))
    if ns.concurrent is not None:
        spec.concurrent = _int(ns.concurrent, "-c/--concurrent")
    if ns.reps is not None:
        spec.reps = _int(ns.reps, "-r/--reps")
    if ns.time is not None:
        spec.seconds = parse_duration(ns.time, warnings)
    if spec.seconds is not None and spec.reps is not None:
        # siege: time takes precedence, and it says so in these words
        warnings.append("[error] CONFIG conflict: selected time and repetition based testing\n"
                        f"defaulting to time-based testing: {spec.seconds:g} seconds")
        spec.reps = None
    if ns.delay is not None:
        spec.delay = parse_delay(ns.delay)
    spec.benchmark = ns.benchmark
    if spec.benchmark:
        spec.delay = 0.0
    spec.verbose, spec.quiet, spec.json = ns.verbose, ns.quiet, ns.json
    for h in ns.header:
        name, value = parse_header(h)
        spec.headers[name] = value
    if ns.content_type is not None:
        if not ns.content_type.strip():
            raise UsageError("-T/--content-type: empty")
        spec.content_type = check_text(ns.content_type.strip(), "-T/--content-type")
    if ns.user_agent:
        spec.user_agent = check_text(ns.user_agent, "-A/--user-agent")
    spec.keepalive = not ns.no_keepalive
    if ns.timeout is not None:
        spec.timeout = _float(ns.timeout.rstrip("sS"), "--timeout", strict=True)
    if ns.failures is not None:
        spec.failures = _int(ns.failures, "--failures")
    if ns.rate is not None:
        spec.rate = _float(ns.rate, "--rate", strict=True)
        if spec.delay:
            raise UsageError("--rate sets the arrival rate; it cannot be used with -d/--delay")
        if spec.reps is not None:
            spec.total = spec.reps * (spec.concurrent if ns.concurrent is not None else 1)
        if ns.concurrent is None:
            spec.concurrent = OPEN_LOOP_INFLIGHT
    spec.log = not ns.no_log
    spec.log_bodies = ns.log_bodies
    spec.progress = not ns.no_progress
    if ns.workers is not None:
        spec.workers = _int(ns.workers, "-j/--workers")
    spec.connect_to = [parse_connect_to(c) for c in ns.connect_to]
    return spec

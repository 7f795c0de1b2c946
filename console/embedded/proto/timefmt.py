"""JSON forms of metav1.Time, metav1.MicroTime and metav1.Duration, as Go writes them."""

import re
from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)$")


def format_time(seconds: int, nanos: int = 0, micro: bool = False) -> str:
    """RFC 3339 in UTC; MicroTime keeps six fractional digits, Time none (as Go)."""
    t = EPOCH + timedelta(seconds=seconds)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if micro:
        text += f".{nanos // 1000:06d}"
    return text + "Z"


def parse_time(text: str) -> tuple[int, int]:
    """RFC 3339 text -> (seconds since the epoch, nanos)."""
    m = _RFC3339.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, sec = (int(g) for g in m.groups()[:6])
    frac, zone = m.group(7) or "", m.group(8)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        t = datetime(year, month, day, hour, minute, sec, tzinfo=timezone(offset))
    except ValueError as e:
        raise ValueError(f"not an RFC 3339 time: {text!r} ({e})") from None
    delta = t - EPOCH
    return delta.days * 86400 + delta.seconds, int(frac.ljust(9, "0")) if frac else 0


_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
          "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _frac(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def format_duration(ns: int) -> str:
    """Go's time.Duration.String(): 0s, 1.5s, 100ms, 1h2m3s."""
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u == 0:
        return "0s"
    if u < 1_000:
        return f"{sign}{u}ns"
    if u < 1_000_000:
        return f"{sign}{_frac(u, 1_000)}µs"
    if u < 1_000_000_000:
        return f"{sign}{_frac(u, 1_000_000)}ms"
    hours, rest = divmod(u, _UNITS["h"])
    minutes, rest = divmod(rest, _UNITS["m"])
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return f"{sign}{out}{_frac(rest, 1_000_000_000)}s"


def parse_duration(text: str) -> int:
    """Go duration text (e.g. "1h30m", "250ms", "-2s") -> nanoseconds."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"not a duration: {text!r}")
    body, sign = (text[1:], -1) if text[0] in "+-" and text[0] == "-" else (text.lstrip("+"), 1)
    if body == "0":
        return 0
    pos, total = 0, 0
    for m in _DURATION.finditer(body):
        if m.start() != pos:
            break
        number, unit = m.groups()
        whole, _, frac = number.partition(".")
        scale = _UNITS[unit]
        total += int(whole or 0) * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        pos = m.end()
    if pos != len(body) or pos == 0:
        raise ValueError(f"not a duration: {text!r}")
    return sign * total

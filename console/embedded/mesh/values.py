"""The scalar values of Istio's networking objects, read as istiod reads them.

Durations are Go durations ("10s", "1.5s", "500ms", "1m30s"), as Istio's CRDs
accept them (their CEL rule is duration(self) >= duration('1ms')). Percentages
are the Percent message {value: 0.0001..100} or the deprecated integer form.
"""

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
MAX_UINT32 = 2**32 - 1


def duration(text) -> float | None:
    """Seconds, or None when text is not a Go duration (time.ParseDuration's grammar)."""
    if not isinstance(text, str):
        return None
    s = text.strip()
    sign = -1.0 if s.startswith("-") else 1.0
    s = s.lstrip("+-")
    if s == "0":
        return 0.0
    if not s:
        return None
    total, pos = 0.0, 0
    for m in _PART.finditer(s):
        if m.start() != pos:
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total if pos == len(s) else None


def seconds(value, default: float | None = None) -> float | None:
    """A duration field's seconds; default when absent or unreadable."""
    got = duration(value)
    return default if got is None else got


def count(value, default: int) -> int:
    """A uint32 field (connection pool limits): default when absent, not a number or 0
    (Istio cannot tell an unset 0 from a set one and keeps the default)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return default
    return min(int(value), MAX_UINT32)


def percentage(obj: dict) -> float:
    """A fault's share in percent: percentage.value, else the older integer percent,
    else 0 (istiod translates an absent share to 0 %: the fault never fires)."""
    pct = obj.get("percentage")
    if isinstance(pct, dict):
        value = pct.get("value", 0)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    if "percent" in obj:
        value = obj.get("percent")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    return 0.0

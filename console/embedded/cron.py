"""CronJob schedules as the CronJob controller parses them (robfig/cron's
standard parser): five fields (minute hour day-of-month month day-of-week) with
`*`, `?`, lists, ranges, steps and names (jan-dec, sun-sat), or a
descriptor (@yearly @annually @monthly @weekly @daily @midnight @hourly,
@every <duration>). Day-of-month and day-of-week both restricted match either,
as cron does. Parse errors are robfig's words (the API server shows them)."""

import re
from datetime import datetime, timedelta

MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
FIELDS = ((0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 6, DAYS))
DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
               "@hourly": "0 * * * *"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


class CronError(ValueError):
    pass


def _number(text: str, names: dict) -> int:
    if text.lower() in names:
        return names[text.lower()]
    try:
        return int(text)
    except ValueError:
        raise CronError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": '
                        "invalid syntax") from None


def _field(text: str, lo: int, hi: int, names: dict) -> tuple[set, bool]:
    """-> (values, star)"""
    values, star = set(), False
    for part in text.split(","):
        rng, _, step_text = part.partition("/")
        step = 1
        if step_text:
            step = _number(step_text, {})
            if step <= 0:
                raise CronError(f"step of range should be a positive number: {part}")
        if rng in ("*", "?"):
            start, end = lo, hi
            star = star or not step_text
        elif "-" in rng:
            a, b = rng.split("-", 1)
            start, end = _number(a, names), _number(b, names)
        else:
            start = _number(rng, names)
            end = hi if step_text else start
        if start < lo:
            raise CronError(f"beginning of range ({start}) below minimum ({lo}): {part}")
        if end > hi:
            raise CronError(f"end of range ({end}) above maximum ({hi}): {part}")
        if start > end:
            raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {part}")
        values.update(range(start, end + 1, step))
    return values, star


def _duration(text: str) -> float:
    pos, total = 0, 0.0
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * scale[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise CronError(f'failed to parse duration @every {text}: time: invalid duration "{text}"')
    return total


class Schedule:
    def __init__(self, text: str):
        self.text = text
        self.every: float | None = None
        spec = (text or "").strip()
        if spec.startswith("@every "):
            self.every = _duration(spec[len("@every "):].strip())
            if self.every <= 0:
                raise CronError(f"failed to parse duration {spec}")
            return
        if spec.startswith("@"):
            if spec not in DESCRIPTORS:
                raise CronError(f"unrecognized descriptor: {spec}")
            spec = DESCRIPTORS[spec]
        parts = spec.split()
        if len(parts) != 5:
            raise CronError(f"expected exactly 5 fields, found {len(parts)}: "
                            f"[{' '.join(parts)}]")
        fields = [_field(p, lo, hi, names) for p, (lo, hi, names) in zip(parts, FIELDS)]
        (self.minutes, _), (self.hours, _), (self.dom, dom_star), (self.months, _), \
            (self.dow, dow_star) = fields
        self.day_and = dom_star or dow_star

    def _day(self, d: datetime) -> bool:
        dom, dow = d.day in self.dom, (d.weekday() + 1) % 7 in self.dow
        return (dom and dow) if self.day_and else (dom or dow)

    def next(self, after: datetime) -> datetime | None:
        """The first time strictly after `after` (its tzinfo is kept); None when
        there is none within five years (e.g. 30 February)."""
        if self.every is not None:
            return after + timedelta(seconds=self.every)
        t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = after + timedelta(days=366 * 5)
        while t <= end:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + timedelta(days=32)).replace(day=1)
                continue
            if not self._day(t):
                t = t.replace(hour=0, minute=0) + timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += timedelta(minutes=1)
                continue
            return t
        return None

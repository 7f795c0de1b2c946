"""The small value types of the scenario format: durations, number ranges, string
matches and texts in two languages. Each is a pydantic type, so validation, the JSON
Schema and the docs come from one place."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator


class OrScalar:
    """JSON Schema for a model that may also be written as a bare scalar: anyOf [scalar, model]."""

    def __init__(self, scalar: dict, description: str):
        self.scalar, self.description = scalar, description

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return {"anyOf": [self.scalar, handler(core_schema)], "description": self.description}

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?!s))?\s*"
                       r"(?:(\d+(?:\.\d+)?)s)?\s*(?:(\d+(?:\.\d+)?)ms)?\s*$")


def seconds(value) -> float:
    """30 / 30s / 2m / 1m30s / 500ms / 1h -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration, not true/false")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m and any(m.groups()):
            h, mi, s, ms = (float(g) if g else 0.0 for g in m.groups())
            return h * 3600 + mi * 60 + s + ms / 1000
    raise ValueError(f"{value!r} is not a duration (e.g. 30s, 2m, 1m30s, 500ms)")


Duration = Annotated[float, BeforeValidator(seconds), WithJsonSchema({
    "anyOf": [{"type": "number", "minimum": 0},
              {"type": "string", "pattern": r"^(\d+(\.\d+)?(h|m|s|ms))+$"}],
    "description": "seconds, or 30s / 2m / 1m30s / 500ms"})]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class Localized(Strict):
    en: str
    ko: str | None = None


Words = Annotated[str | Localized, Field(description="a text, or {en: ..., ko: ...}")]


def say(words, lang: str = "en") -> str:
    """The text in `lang`, falling back to English."""
    if words is None:
        return ""
    if isinstance(words, str):
        return words
    return getattr(words, lang, None) or words.en


def _num(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e15 else str(x)


class Range(Strict):
    """Numbers: {gte: 3, lte: 6}, {between: [3, 6]}, {lt: 100}, {eq: 100} (a plain
    number means eq). Equality compares as printed with two decimals, as siege prints."""
    eq: float | None = None
    ne: float | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None
    between: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _some(self):
        if all(v is None for v in self.__dict__.values()):
            raise ValueError("give at least one of eq, ne, gt, gte, lt, lte, between")
        if self.between and self.between[0] > self.between[1]:
            raise ValueError(f"between [{self.between[0]:g}, {self.between[1]:g}]: the first is larger")
        return self

    def test(self, value) -> bool:
        if value is None:
            return False
        v = float(value)
        checks = [
            self.eq is None or round(v, 2) == round(self.eq, 2),
            self.ne is None or round(v, 2) != round(self.ne, 2),
            self.gt is None or v > self.gt, self.gte is None or v >= self.gte,
            self.lt is None or v < self.lt, self.lte is None or v <= self.lte,
            self.between is None or self.between[0] <= v <= self.between[1],
        ]
        return all(checks)

    def __str__(self) -> str:
        words = {"eq": "", "ne": "not ", "gt": "> ", "gte": ">= ", "lt": "< ", "lte": "<= "}
        out = [f"{w}{_num(getattr(self, k))}" for k, w in words.items() if getattr(self, k) is not None]
        if self.between:
            out.append(f"between {_num(self.between[0])} and {_num(self.between[1])}")
        return " and ".join(out)


def _range(value):
    if isinstance(value, bool):
        raise ValueError("a number or a range, not true/false")
    if isinstance(value, (int, float)):
        return {"eq": value}
    return value


Number = Annotated[Range, BeforeValidator(_range), OrScalar(
    {"type": "number"}, "a number (equal to) or a range: {gte: 3, lte: 6}, {between: [3, 6]}, {lt: 100}")]


class Match(Strict):
    """Strings: equal, contains, matches (a regular expression), in (one of), ne."""
    eq: str | None = None
    ne: str | None = None
    contains: str | None = None
    matches: str | None = None
    in_: list[str] | None = Field(None, alias="in")

    @model_validator(mode="after")
    def _some(self):
        if all(v is None for v in self.__dict__.values()):
            raise ValueError("give at least one of eq, ne, contains, matches, in")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches: not a regular expression: {exc}") from None
        return self

    def test(self, value) -> bool:
        if value is None:
            return False
        s = str(value)
        return all([self.eq is None or s == self.eq, self.ne is None or s != self.ne,
                    self.contains is None or self.contains in s,
                    self.matches is None or re.search(self.matches, s) is not None,
                    self.in_ is None or s in self.in_])

    def __str__(self) -> str:
        out = []
        if self.eq is not None:
            out.append(repr(self.eq))
        if self.ne is not None:
            out.append(f"not {self.ne!r}")
        if self.contains is not None:
            out.append(f"containing {self.contains!r}")
        if self.matches is not None:
            out.append(f"matching /{self.matches}/")
        if self.in_ is not None:
            out.append(f"one of {', '.join(map(repr, self.in_))}")
        return " and ".join(out)


def _match(value):
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return {"eq": str(value)}
    return value


Text = Annotated[Match, BeforeValidator(_match), OrScalar(
    {"type": "string"}, "a string (equal to) or {contains: ...}, {matches: regex}, {in: [...]}")]

"""Every word the scenario package says to a person, in one place (English and Korean),
and the headless run's lines and final table built from them."""

from __future__ import annotations

import os
import sys

WORDS = {
    "en": {
        "passed": "passed", "failed": "FAILED", "skipped": "skipped", "not-run": "not run",
        "interrupted": "interrupted", "running": "running",
        "header": "kubelab run: {n} scenario(s) on {cluster}",
        "scenario": "{id}  {title}  (namespace {ns})",
        "mismatches": "Mismatches ({n}):", "none": "Every expectation held.",
        "collected": "collected before cleanup", "report": "report written to {path}",
        "stopping": "stopping: cleaning up (Ctrl-C again to leave now) ...",
        "table": ("SCENARIO", "STEPS", "PASSED", "FAILED", "SKIPPED", "TIME", "RESULT"),
        "setup": "setup", "cleanup": "cleanup",
    },
    "ko": {
        "passed": "통과", "failed": "실패", "skipped": "건너뜀", "not-run": "실행 안 됨",
        "interrupted": "중단됨", "running": "실행 중",
        "header": "kubelab run: 시나리오 {n}개, {cluster}",
        "scenario": "{id}  {title}  (네임스페이스 {ns})",
        "mismatches": "기대와 다른 결과 ({n}):", "none": "모든 기대가 충족되었습니다.",
        "collected": "정리 전에 수집한 정보", "report": "보고서: {path}",
        "stopping": "중단: 정리하는 중 (한 번 더 Ctrl-C 하면 바로 종료) ...",
        "table": ("시나리오", "단계", "통과", "실패", "건너뜀", "시간", "결과"),
        "setup": "준비", "cleanup": "정리",
    },
}

MARKS = {"passed": "✓", "failed": "✗", "skipped": "↷", "not-run": "·", "interrupted": "!"}
COLOURS = {"passed": "32", "failed": "31;1", "skipped": "33", "not-run": "2", "interrupted": "33;1"}


def word(key: str, lang: str = "en", **kw) -> str:
    text = WORDS.get(lang, WORDS["en"]).get(key) or WORDS["en"][key]
    return text.format(**kw) if kw else text


def colour_on(stream=None) -> bool:
    stream = stream or sys.stdout
    return not os.environ.get("NO_COLOR") and hasattr(stream, "isatty") and stream.isatty()


def paint(text: str, status: str, on: bool) -> str:
    return f"\x1b[{COLOURS.get(status, '0')}m{text}\x1b[0m" if on else text


def step_line(status: str, step: str, title: str, seconds: float, lang: str, on: bool) -> str:
    mark = paint(MARKS.get(status, "?"), status, on)
    label = "" if status == "passed" else "  " + paint(word(status, lang), status, on)
    return f"  {mark} {step:<24} {title[:60]:<60} {seconds:6.1f}s{label}"


def table(reports, lang: str, on: bool) -> str:
    head = word("table", lang)
    rows = [head]
    for r in reports:
        c = r.counts()
        rows.append((r.scenario, str(len(r.steps)), str(c["passed"]), str(c["failed"]),
                     str(c["skipped"] + c["not-run"] + c["interrupted"]), f"{r.seconds:.1f}s",
                     word(r.status, lang)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    out = []
    for n, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(len(row))]
        line = "  ".join(cells).rstrip()
        if n and on:
            line = line.replace(cells[-1].rstrip(), paint(cells[-1].rstrip(), reports[n - 1].status, on))
        out.append(line)
    return "\n".join(out)

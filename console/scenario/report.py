"""What a run found, step by step, and its two written forms: JSON (everything) and
JUnit XML (a testsuite per scenario, a testcase per step; CI systems show these)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class CheckReport:
    phase: str          # steady | wait | expect | errors | monitor | check
    check: str
    ok: bool
    observed: str
    message: str = ""


@dataclass
class ActionReport:
    name: str
    ok: bool
    message: str
    seconds: float = 0.0
    phase: str = "solve"      # setup | solve | catch | finally | cleanup | rollback


@dataclass
class StepReport:
    id: str
    title: str
    status: str = "not-run"   # passed | failed | skipped | not-run
    seconds: float = 0.0
    checks: list[CheckReport] = field(default_factory=list)
    actions: list[ActionReport] = field(default_factory=list)
    collected: dict[str, str] = field(default_factory=dict)   # events, logs, describe

    @property
    def failures(self) -> list[str]:
        out = [f"{c.check}: {c.message + ' — ' if c.message else ''}saw {c.observed}"
               for c in self.checks if not c.ok]
        out += [f"{a.name}: {a.message}" for a in self.actions if not a.ok and a.phase != "catch"]
        return out


@dataclass
class RunReport:
    scenario: str
    title: str
    file: str
    namespace: str
    mode: str = "run"
    status: str = "running"   # passed | failed | interrupted | running
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    setup: list[ActionReport] = field(default_factory=list)
    steps: list[StepReport] = field(default_factory=list)
    cleanup: list[ActionReport] = field(default_factory=list)
    error: str = ""

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "skipped": 0, "not-run": 0, "interrupted": 0}
        for s in self.steps:
            out[s.status] = out.get(s.status, 0) + 1
        return out

    @property
    def failures(self) -> list[str]:
        out = [f"setup: {a.name}: {a.message}" for a in self.setup if not a.ok]
        for s in self.steps:
            out += [f"{s.id}: {f}" for f in s.failures]
        out += [f"cleanup: {a.name}: {a.message}" for a in self.cleanup if not a.ok]
        if self.error:
            out.append(self.error)
        return out


def write_json(reports: list[RunReport], path: str | Path) -> None:
    data = {"kubelab": 1, "status": overall(reports), "scenarios": [asdict(r) for r in reports]}
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def overall(reports: list[RunReport]) -> str:
    if any(r.status == "interrupted" for r in reports):
        return "interrupted"
    return "passed" if reports and all(r.status == "passed" for r in reports) else "failed"


def write_junit(reports: list[RunReport], path: str | Path) -> None:
    root = ET.Element("testsuites", name="kubelab", tests=str(sum(len(r.steps) for r in reports)))
    for r in reports:
        c = r.counts()
        suite = ET.SubElement(root, "testsuite", name=r.scenario, tests=str(len(r.steps)),
                              failures=str(c["failed"]), skipped=str(c["skipped"] + c["not-run"] + c["interrupted"]),
                              time=f"{r.seconds:.3f}",
                              timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(r.started)))
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="file", value=r.file)
        for s in r.steps:
            case = ET.SubElement(suite, "testcase", classname=r.scenario, name=f"{s.id}: {s.title}",
                                 time=f"{s.seconds:.3f}")
            if s.status == "failed":
                fails = s.failures or ["failed"]
                el = ET.SubElement(case, "failure", message=fails[0][:500], type="expectation")
                el.text = "\n".join(fails)
            elif s.status in ("skipped", "not-run", "interrupted"):
                ET.SubElement(case, "skipped", message=s.status)
            if s.collected:
                out = ET.SubElement(case, "system-out")
                out.text = "\n\n".join(f"--- {k} ---\n{v}" for k, v in s.collected.items())
        extra = [a for a in r.setup + r.cleanup if not a.ok]
        if extra or r.error:
            case = ET.SubElement(suite, "testcase", classname=r.scenario, name="setup and cleanup")
            el = ET.SubElement(case, "failure", message=(r.error or extra[0].message)[:500], type="error")
            el.text = "\n".join([r.error] * bool(r.error) + [f"{a.phase} {a.name}: {a.message}" for a in extra])
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

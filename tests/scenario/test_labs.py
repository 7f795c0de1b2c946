"""Every lab in scenarios/ runs headless on the embedded cluster and passes, through
`kubelab run` itself (in-process), each in a namespace of its own.

--speed 20 for all but L2: the sleeps and load durations of the labs are cluster time,
so a 60-second siege takes 3 s and still covers the rollout it measures. L2 measures a
boot window, which needs the slower cluster (see tests/conftest.py). A lab whose
requirements (metadata.requires) the embedded cluster does not offer yet is skipped,
saying which; the probes ask the cluster itself, so the lab runs once it does.
"""

import json
import uuid
from pathlib import Path

import pytest

from console import cli
from console.cluster.connect import from_kubeconfig
from console.scenario import loader
from console.scenario.requires import unmet
from kubehelp import SPEED_FOR_WINDOWS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
SPEED = 20
SLOWER = {"l2-zero-downtime"}      # on the cluster_speed8 fixture


def missing(cluster, loaded) -> list[str]:
    conn = from_kubeconfig(str(cluster.kubeconfig))
    try:
        return unmet(conn, loaded.scenario.metadata.requires, wait=10)
    finally:
        conn.close()


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_lab_passes_on_the_embedded_cluster(request, path, tmp_path, capsys):
    loaded = loader.load(path)
    slow = loaded.id in SLOWER
    cluster = request.getfixturevalue("cluster_speed8" if slow else "cluster")
    speed = SPEED_FOR_WINDOWS if slow else SPEED
    why = missing(cluster, loaded)
    if why:
        pytest.skip("; ".join(why))
    ns = f"{loaded.id[:40]}-{uuid.uuid4().hex[:5]}"
    report = tmp_path / "report.json"
    code = cli.main(["run", str(path), "--kubeconfig", str(cluster.kubeconfig), "-n", ns,
                     "--speed", str(speed), "--report", str(report), "--junit", str(tmp_path / "r.xml")])
    out = capsys.readouterr().out
    data = json.loads(report.read_text())
    run = data["scenarios"][0]
    assert code == 0, f"{out}\n{json.dumps(run['steps'], indent=1)[:6000]}"
    assert all(s["status"] == "passed" for s in run["steps"])
    print(out)
    check = LAB_CHECKS.get(loaded.id)
    if check:
        check(run)


def observed(run, step: str, phase: str = "expect") -> list[str]:
    s = next(s for s in run["steps"] if s["id"] == step)
    return [c["observed"] for c in s["checks"] if c["phase"] == phase]


def l2(run):
    """The contrast the lab is about: below 100 % without the probe, exactly 100.00 % with it."""
    without = observed(run, "without-readiness")[0]
    with_ = observed(run, "with-readiness")[0]
    avail = float(without.split("availability ")[1].split(" %")[0])
    assert avail < 100 and " 0 failed" not in without, without       # "20 failed" holds "0 failed"
    assert "availability 100.00 %" in with_ and " 0 failed" in with_, with_


def l1(run):
    """REPLICAS 3 and TARGETS far above 50 %, as the document ends."""
    import re
    seen = " ".join(observed(run, "load"))
    assert "REPLICAS 3" in seen, seen
    value = int(re.search(r"TARGETS cpu: (\d+)%/50%", seen).group(1))
    assert value > 100, seen


LAB_CHECKS = {"l2-zero-downtime": l2, "l1-hpa-scale-out": l1}

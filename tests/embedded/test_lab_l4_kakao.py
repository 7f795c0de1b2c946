"""Lab L4 as document 004 runs it: in the injected namespace ssak8, siege -c100 POSTs
customers; customer saves each one by calling kakao, and kakao_dr.yaml gives kakao a
pool with one pending request and one request a connection. The overflow is answered
503 by customer's own sidecar, so the save rolls back and siege sees customer's 500
(document: "HTTP/1.1 500 ... 251 bytes"); deleting the rule ends it. Shorter runs than
the document's 60 s: the outcome shows in seconds."""

import re
from pathlib import Path

import pytest

from kubelet_helpers import SIEGE_MANIFEST, lab_cluster
from waits import wait_for

pytestmark = pytest.mark.kubectl

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
NS = "ssak8"
BODY = '{"customerName": "yeon","customerAddress": "incheon","customerAge": 20}'


def siege(lab, seconds: int):
    """The document's command (-t shorter), typed in the siege pod."""
    return lab.kubectl("exec", "-n", NS, "siege", "--", "siege", "-v", "-c100", f"-t{seconds}S",
                       "-r10", "--content-type", "application/json",
                       f"http://customer:8080/customers POST {BODY}", check=False)


def figures(err: str) -> dict:
    out = {}
    for key in ("Transactions", "Availability", "Failed transactions"):
        m = re.search(rf"{key}:\s+([\d.]+)", err)
        out[key] = float(m.group(1)) if m else None
    return out


@pytest.fixture(scope="module")
def lab():
    with lab_cluster() as lab:
        lab.kubectl("create", "namespace", NS)
        lab.kubectl("label", "namespace", NS, "istio-injection=enabled")
        for path in (SIEGE_MANIFEST, MANIFESTS / "l6" / "ssak8-config.yaml",
                     MANIFESTS / "l8" / "kakao.yaml", MANIFESTS / "l6" / "customer.yaml"):
            lab.kubectl("apply", "-n", NS, "-f", str(path))
        wait_for(lambda: lab.kubectl("exec", "-n", NS, "siege", "--", "http", "--check-status",
                                     "GET", "http://customer:8080/customers",
                                     check=False).returncode == 0,
                 timeout=180, what="customer from the siege pod")
        yield lab


def test_l4_kakao_dr_turns_part_of_the_saves_into_customers_500(lab):
    r = siege(lab, 3)
    assert figures(r.stderr)["Availability"] == 100.0, r.stderr[-800:]
    # Spring Data REST's pretty-printed HAL: 251 bytes with a one-digit id, 257 with four
    sizes = {int(m) for m in re.findall(r"HTTP/1.1 201 .* (\d+) bytes", r.stdout)}
    assert sizes and sizes <= set(range(251, 260)), sizes

    out = lab.kubectl("apply", "-n", NS, "-f", str(MANIFESTS / "l4" / "kakao_dr.yaml")).stdout
    assert out.strip() == "destinationrule.networking.istio.io/kakao-dr created"
    r = siege(lab, 5)
    got = figures(r.stderr)
    assert got["Transactions"] > 0 and got["Failed transactions"] > 0, r.stderr[-800:]
    assert got["Availability"] < 100.0
    failed = [line for line in r.stdout.splitlines() if not line.startswith("HTTP/1.1 201")]
    # every failure is customer's rolled-back save, Boot 2.1's compact error body
    assert failed and all(re.match(r"HTTP/1\.1 500 .* 251 bytes ==> POST", line) for line in failed), \
        failed[:5]
    logs = lab.kubectl("logs", "-n", NS, "deploy/customer", "-c", "customer").stdout
    assert "[503 Service Unavailable] during [POST] to [http://kakao:8080/kakaos]" in logs
    assert "reset reason: overflow" in logs

    lab.kubectl("delete", "-n", NS, "dr", "--all")
    r = siege(lab, 3)
    assert figures(r.stderr)["Availability"] == 100.0, r.stderr[-800:]

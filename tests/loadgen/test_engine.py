"""The engine against local servers: every summary field checked against siege's definitions."""

import asyncio
import math

import pytest

from console.loadgen import summary
from console.loadgen.engine import Engine
from console.loadgen.options import parse
from console.loadgen.resolve import StaticResolver


def write_urls(tmp_path, urls):
    f = tmp_path / "urls.txt"
    f.write_text("\n".join(urls) + "\n")
    return str(f)


async def run(argv, resolver=None):
    seen = []
    engine = Engine(parse(argv), resolver, on_response=seen.append, on_error=seen.append)
    await engine.run()
    return engine, engine.result(), seen


async def test_siege_counting_on_a_mix(server, refused_port, reset_port, tmp_path):
    # one user walks the list in order (siege's sequential URLs): each URL 3 times
    urls = [server.url("/ok"), server.url("/missing"), server.url("/boom"),
            server.url("/timeout408"), f"http://127.0.0.1:{refused_port}/x",
            f"http://127.0.0.1:{reset_port}/y"]
    engine, r, seen = await run(["-c1", "-r18", "-f", write_urls(tmp_path, urls)])

    answered = [s for s in seen if s.error is None]
    assert r["transactions"] == 6                 # 200s and 404s: transactions
    assert r["successful_transactions"] == 3      # only < 400 succeed
    assert r["failed_transactions"] == 12         # 500, 408, refused, reset
    assert r["availability"] == pytest.approx(6 / (6 + 12) * 100)
    assert r["status_codes"] == {"200": 3, "404": 3, "408": 3, "500": 3}
    assert r["errors"] == {"refused": 3, "reset": 3}
    total = sum(s.latency for s in answered)       # 5xx/408 time counts, as in siege
    assert r["response_time"] == pytest.approx(total / 6, rel=1e-4)
    assert r["concurrency"] == pytest.approx(total / r["elapsed_time"], rel=1e-4)
    # one user, one request at a time: the run lasts at least as long as its requests
    assert r["elapsed_time"] >= total and r["concurrency"] <= 1
    nbytes = 3 * (len(b"hello") + len(b"nope") + len(b"boom!") + len(b"late"))
    assert r["data_transferred"] == pytest.approx(nbytes / 2**20)
    assert r["throughput"] == pytest.approx(nbytes / 2**20 / r["elapsed_time"], rel=1e-4)
    assert r["transaction_rate"] == pytest.approx(6 / r["elapsed_time"], rel=1e-4)
    assert r["longest_transaction"] == pytest.approx(max(s.latency for s in answered), rel=1e-4)
    assert r["shortest_transaction"] == pytest.approx(min(s.latency for s in answered), rel=1e-4)
    assert r["requests"] == 18 and len(server.seen.paths) == 12
    assert not r["aborted"] and not r["interrupted"]

    text = summary.text(r, 1024)
    assert "Transactions:\t\t           6 hits\n" in text
    assert "Availability:\t\t       33.33 %\n" in text
    assert "Successful transactions:           3\n" in text
    assert "Failed transactions:\t          12\n" in text
    assert "Status codes:\t\t200: 3  404: 3  408: 3  500: 3" in text
    assert "Errors:\t\t\trefused: 3  reset: 3" in text
    assert "Connections:\t\t  keep-alive" in text


async def test_nothing_succeeds_shortest_is_zero(server):
    _, r, _ = await run(["-c2", "-r3", server.url("/boom")])
    assert r["transactions"] == 0 and r["failed_transactions"] == 6
    assert r["availability"] == 0 and r["shortest_transaction"] == 0
    assert r["longest_transaction"] > 0 and r["response_time"] == 0


async def test_slow_responses_and_percentiles(server):
    _, r, _ = await run(["-c2", "-r3", server.url("/slow?ms=300")])
    assert r["transactions"] == 6 and r["availability"] == 100
    lat = r["latency"]
    assert 0.3 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert lat["max"] == pytest.approx(r["longest_transaction"], rel=0.01)  # 3 digits HDR
    assert r["shortest_transaction"] >= 0.3
    # two users each waiting 300 ms at a time: concurrency close to 2
    assert 1.0 < r["concurrency"] <= 2.0


async def test_timeout_is_a_failure(server):
    _, r, seen = await run(["-c1", "-r2", "--timeout=0.2", server.url("/slow?ms=2000")])
    assert r["errors"] == {"timeout": 2} and r["failed_transactions"] == 2
    assert r["transactions"] == 0 and all(s.error == "timeout" for s in seen)


async def test_failure_threshold_aborts(refused_port):
    engine, r, _ = await run(["-c1", "-r100", "--failures=5", f"http://127.0.0.1:{refused_port}/"])
    assert r["aborted"] and r["failed_transactions"] == 5
    assert summary.text(r, 5).startswith("siege aborted due to excessive socket failure; you\n")


async def test_past_the_threshold_the_requests_on_their_way_still_count(refused_port):
    # siege 4.0.7, 4 users on a refused port, --failures 1024: 1027 failed (the fixture
    # tests/loadgen/data/siege-4.0.7-aborted): the three other users' last requests count
    engine, r, _ = await run(["-c4", "-r100", "--failures=10", f"http://127.0.0.1:{refused_port}/"])
    assert r["aborted"] and r["failed_transactions"] == 13 and r["errors"] == {"refused": 13}
    assert summary.text(r, 10).startswith("siege aborted due to excessive socket failure; you\n")


async def test_a_stop_while_the_last_requests_finish_ends_the_run_at_once(server, tmp_path):
    # user 0 starts on /boom (the threshold, 1, is reached at once), users 1 and 2 on
    # answers 4 s away: the run waits for them, until stop() (Ctrl-C) says now
    urls = write_urls(tmp_path, [server.url("/boom")] + [server.url("/slow?ms=4000")] * 2)
    engine = Engine(parse(["-c3", "-r5", "--failures=1", "--timeout=60", "-f", urls]))
    task = asyncio.ensure_future(engine.run())
    for _ in range(1000):
        if engine.aborted:
            break
        await asyncio.sleep(0.01)
    assert engine.aborted and not task.done()     # waiting on the two slow answers
    engine.stop()
    await asyncio.wait_for(task, timeout=10)
    r = engine.result()
    assert r["aborted"] and r["interrupted"] and r["failed_transactions"] == 1


async def test_5xx_count_toward_the_threshold_too(server):
    # as in the circuit-breaker lab: siege gives up on a wall of 503s, not only on sockets
    _, r, _ = await run(["-c1", "-r100", "--failures=4", server.url("/boom")])
    assert r["aborted"] and r["failed_transactions"] == 4 and r["status_codes"] == {"500": 4}


async def test_post_body_content_type_and_headers(server):
    _, r, _ = await run(["-c1", "-r2", "-T", "application/json", "-H", "X-Lab: l2",
                         server.url("/echo") + ' POST {"id": 7}'])
    assert server.seen.bodies == [b'{"id": 7}'] * 2
    assert server.seen.ctypes == ["application/json"] * 2
    assert r["data_transferred"] == pytest.approx(2 * 9 / 2**20)
    await run(["-c1", "-r1", server.url("/echo") + " PUT a=b"])
    assert server.seen.ctypes[-1] == "application/x-www-form-urlencoded"  # siege's default


async def test_keepalive_reuses_connections_and_no_keepalive_does_not(server):
    await run(["-c2", "-r10", server.url("/ok")])
    assert len(server.seen.peers) <= 2
    server.seen.peers.clear()
    _, r, _ = await run(["-c2", "-r10", "--no-keepalive", server.url("/ok")])
    assert len(server.seen.peers) == 20 and not r["keepalive"]
    assert "Connections:\t\t       close" in summary.text(r, 1024)


async def test_delay_is_random_pause_between_requests(server):
    engine, r, _ = await run(["-c1", "-r4", "--delay=0.2", server.url("/ok")])
    assert r["transactions"] == 4
    # pauses are not response time: concurrency stays well below one user
    assert r["concurrency"] < 1


async def test_timed_run_ends_and_stop_interrupts(server):
    engine, r, _ = await run(["-c3", "-t1S", server.url("/ok")])
    assert r["transactions"] > 0 and not r["interrupted"]
    assert r["elapsed_time"] >= 1.0 and r["series"] and r["series"][0]["t"] == 0
    assert sum(s["transactions"] for s in r["series"]) == r["transactions"]

    engine = Engine(parse(["-c2", server.url("/slow?ms=50")]))  # no -t/-r: until stopped
    import asyncio
    task = asyncio.create_task(engine.run())
    for _ in range(600):
        if engine.stats.transactions >= 4:
            break
        await asyncio.sleep(0.1)
    snap = engine.snapshot()
    assert snap["transactions"] >= 4 and snap["availability"] == 100
    assert {"rps", "cpu_percent", "latency", "status_codes", "errors", "in_flight"} <= set(snap)
    engine.stop()
    await asyncio.wait_for(task, 60)
    assert engine.result()["interrupted"]


async def test_in_cluster_name_through_an_injected_resolver(server):
    resolver = StaticResolver({"order:8080": ("127.0.0.1", server.port)})
    _, r, _ = await run(["-c1", "-r3", "http://order:8080/ok"], resolver)
    assert r["transactions"] == 3 and server.seen.hosts == ["order:8080"] * 3
    assert r["urls"] == ["http://order:8080/ok"]


async def test_open_loop_counts_late_and_dropped_sends(server):
    # 20/s offered to one slot of 200 ms service: the queue grows, sends go out late,
    # and latency counts the wait (measured from the intended send time)
    engine, r, _ = await run(["--rate=20", "-c1", "-t2S", "--timeout=0.7",
                              server.url("/slow?ms=200")])
    assert r["mode"] == "open" and r["rate"] == 20
    assert r["transactions"] >= 1
    assert r["late_sends"] >= 1 and r["dropped_sends"] >= 1
    assert r["latency"]["max"] > 0.4
    assert "Late sends:" in summary.text(r, 1024)


async def test_open_loop_with_spare_capacity_sends_the_count(server):
    _, r, _ = await run(["--rate=50", "-r5", "-c2", server.url("/ok")])
    assert r["requests"] == 10 and r["transactions"] == 10
    assert math.isfinite(r["request_rate"])


async def test_https_through_aiohttp_without_verifying(tmp_path):
    import datetime
    import ssl

    from aiohttp import web
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")

    app = web.Application()
    async def secure(request):
        return web.Response(text="tls!")

    app.router.add_get("/secure", secure)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        _, r, seen = await run(["-c2", "-r3", "-v", f"https://127.0.0.1:{port}/secure"])
    finally:
        await runner.cleanup()
    assert r["transactions"] == 6 and r["errors"] == {}
    assert r["data_transferred"] == pytest.approx(6 * 4 / 2**20)
    assert {s.version for s in seen} == {"HTTP/1.1"}


async def test_redirects_are_followed_and_both_counted(server):
    _, r, seen = await run(["-c1", "-r3", server.url("/moved") + " POST x=1"])
    assert server.seen.paths == ["/moved", "/ok"] * 3
    assert server.seen.bodies == [b"x=1", b""] * 3  # 301 after POST: GET, as browsers and siege
    assert r["status_codes"] == {"200": 3, "301": 3} and r["transactions"] == 6
    # as siege's -v shows them: the POST's whole URL, the GET it turned into by its path
    assert [s.path for s in seen] == [server.url("/moved"), "/ok"] * 3
    _, r, _ = await run(["-c1", "-r1", server.url("/loop")])
    assert r["status_codes"] == {"302": 6}  # the request and five hops, then it stops


async def test_generator_cpu_is_reported(server):
    _, r, _ = await run(["-c2", "-r20", server.url("/ok")])
    assert r["generator_cpu_percent"] is not None and r["generator_cpu_percent"] >= 0
    assert "Generator CPU:\t\t" in summary.text(r, 1024)

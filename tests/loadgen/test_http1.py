"""The lean HTTP/1.1 client against raw loopback servers that answer in every framing."""

import asyncio

import pytest

from console.loadgen.http1 import Http1Client, ProtocolError, ServerClosed, build_request


@pytest.fixture
async def raw_server():
    """start(answers) -> port; the server replies to each request with the next answer.

    An answer is bytes, or a list of bytes written with pauses (split packets);
    after an answer ending in b"<close>" the server closes the connection.
    """
    servers, conns = [], []

    async def start(answers):
        it = iter(answers)

        async def handle(reader, writer):
            conns.append(writer)
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")]
                    if length:
                        await reader.readexactly(length[0])
                    answer = next(it)
                    parts = answer if isinstance(answer, list) else [answer]
                    for part in parts:
                        writer.write(part.replace(b"<close>", b""))
                        await writer.drain()
                        await asyncio.sleep(0.01)
                    if parts[-1].endswith(b"<close>"):
                        writer.close()
                        return
            except (asyncio.IncompleteReadError, ConnectionError, StopIteration):
                writer.close()

        srv = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(srv)
        return srv.sockets[0].getsockname()[1]

    yield start
    for srv in servers:
        srv.close()
    for w in conns:
        w.close()


def core(answer):
    """status, version, body bytes, Location (the answer also says if it was kept alive)."""
    return answer[0], answer[1], answer[2], answer[4]


def req(port, method="GET", body=None):
    return build_request(method, "/p?q=1", f"127.0.0.1:{port}", {"User-Agent": "t"}, body)


def test_request_bytes():
    raw = build_request("POST", "/orders", "order:8080", {"Content-Type": "application/json"}, b"{}")
    assert raw == (b"POST /orders HTTP/1.1\r\nHost: order:8080\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 2\r\n\r\n{}")


async def test_framings_on_one_kept_alive_connection(raw_server):
    port = await raw_server([
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        [b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
         b"4;ext=1\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n"],
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        [b"HTTP/1.1 200 OK\r\nconTENT-length: 10\r\n\r\n01234", b"56789"],
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",  # HEAD: no body despite the length
        b"HTTP/1.1 302 Found\r\nLocation: /New/Place?A=1\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\nuntil close<close>",
    ])
    c = Http1Client(timeout=10)
    try:
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.1", 5, None)
        assert core(await c.request("127.0.0.1", port, req(port))) == (201, "HTTP/1.1", 7, None)
        assert core(await c.request("127.0.0.1", port, req(port))) == (204, "HTTP/1.1", 0, None)
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.1", 10, None)
        assert core(await c.request("127.0.0.1", port, req(port, "HEAD"), head_only=True)) == (200, "HTTP/1.1", 0, None)
        assert core(await c.request("127.0.0.1", port, req(port))) == (302, "HTTP/1.1", 0, "/New/Place?A=1")
        assert len(c.all) == 1  # all of the above on one connection
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.0", 11, None)
        assert len(c.all) == 0  # close-delimited: the connection is gone
    finally:
        c.close()


async def test_connection_close_header_and_reconnect(raw_server):
    port = await raw_server([b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na<close>",
                             b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"])
    c = Http1Client(timeout=10)
    try:
        assert (await c.request("127.0.0.1", port, req(port)))[0] == 200
        assert (await c.request("127.0.0.1", port, req(port)))[2] == 1
    finally:
        c.close()


async def test_errors(raw_server):
    port = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort<close>",
                             b"SSH-2.0-OpenSSH\r\n\r\n",
                             b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"])  # body never comes
    c = Http1Client(timeout=0.5)
    try:
        with pytest.raises(ServerClosed):
            await c.request("127.0.0.1", port, req(port))
        with pytest.raises(ProtocolError):
            await c.request("127.0.0.1", port, req(port))
        with pytest.raises(TimeoutError):
            await c.request("127.0.0.1", port, req(port))
    finally:
        c.close()


async def test_stale_kept_alive_connection_is_retried_once(raw_server):
    # the server closes after the first answer without saying so (idle timeout)
    port = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na<close>",
                             b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"])
    c = Http1Client(timeout=10)
    try:
        await c.request("127.0.0.1", port, req(port))
        await asyncio.sleep(0.05)  # let the FIN arrive... or not: both paths must work
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.1", 1, None)
    finally:
        c.close()


async def test_an_idle_connection_the_server_closed_is_forgotten(raw_server):
    port = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na<close>"])
    c = Http1Client(timeout=10)
    try:
        await c.request("127.0.0.1", port, req(port))
        assert len(c.all) == 1  # kept alive: the answer did not say it would close
        for _ in range(1000):   # the FIN comes when the server gets to it
            if not c.all:
                break
            await asyncio.sleep(0.01)
        assert not c.all
    finally:
        c.close()


async def test_a_large_body_and_a_body_ended_by_the_close(raw_server):
    big = b"x" * 300_000  # its first packets hold far more than the 64 KiB a head may have
    port = await raw_server([
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nServer: t\r\n\r\n<close>",   # no length, no body: ends at the close
    ])
    c = Http1Client(timeout=10)
    try:
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.1", len(big), None)
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.1", 2, None)
        assert core(await c.request("127.0.0.1", port, req(port))) == (200, "HTTP/1.0", 0, None)
    finally:
        c.close()


async def test_a_head_too_large_is_refused(raw_server):
    port = await raw_server([b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"p" * 70_000 + b"\r\n\r\n"])
    c = Http1Client(timeout=10)
    try:
        with pytest.raises(ProtocolError, match="head too large"):
            await c.request("127.0.0.1", port, req(port))
    finally:
        c.close()

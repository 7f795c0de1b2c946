"""A loopback listener that refuses connections while nothing behind it would take one.

On a real cluster a client's connect() to a Service fails with ECONNREFUSED when
kube-proxy has no endpoint for it (iptables REJECT) or DNATs the SYN to a pod
port nobody listens on (the pod's kernel answers with RST). A listening socket
on loopback has the kernel complete every handshake itself, so refusing is done
with the socket's own state: shut, it stays bound (to an explicit port, so the
kernel keeps the port ours) but not listening, and a SYN to it gets RST, which
is what the client reports as "connection refused". Opened again, it listens.
SO_REUSEADDR is on only while it listens: on, it lets the listener past its own
connections' TIME_WAITs; off while shut, no other socket can bind the port
(Linux lets two SO_REUSEADDR sockets share a port while neither listens).

Only the whole listener can refuse: when some endpoints would accept and others
would not, a connection the proxy then gives to one that does not is accepted
and reset (a loopback listener cannot refuse one SYN and take the next).
"""

import asyncio
import logging
import socket
from typing import Callable

log = logging.getLogger("kubelab.network")
BACKLOG = 1024


def _bound(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port; port 0 picks a free one, then binds it by
    number (a port the kernel picked itself is released when listening stops)."""
    if port:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        return sock
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # both share the picked port for a moment: the probe holds it while the
        # real socket binds it by number (no window for another process to take it)
        for s in (probe, sock):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        probe.bind((host, 0))
        sock.bind((host, probe.getsockname()[1]))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    except OSError:
        sock.close()
        raise
    finally:
        probe.close()
    return sock


class Gate:
    """Serves factory() protocols on host:port while wanted() says so, refuses otherwise.
    Raises OSError as create_server would when the address cannot be had."""

    def __init__(self, factory: Callable[[], asyncio.Protocol], host: str, port: int,
                 wanted: Callable[[], bool]):
        self.factory, self.wanted = factory, wanted
        self.sock = _bound(host, port)
        try:
            self.sock.listen(BACKLOG)      # a listener already there fails here, as create_server
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.sock.fileno(), self._accept)
        self.open = True
        self.closed = False
        self._serving: set[asyncio.Task] = set()   # connections being set up (held, not collected)
        self.refresh()

    def refresh(self) -> None:
        """Open or shut as wanted() says now (synchronous: the kernel follows at once)."""
        if self.closed:
            return
        want = bool(self.wanted())
        if want == self.open:
            return
        if want:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.sock.listen(BACKLOG)
            except OSError as exc:   # cannot happen while the port is ours; stay shut if it does
                log.warning("listening again on :%d: %s", self.port, exc)
                return
            self.loop.add_reader(self.sock.fileno(), self._accept)
        else:
            self.loop.remove_reader(self.sock.fileno())
            try:
                self.sock.shutdown(socket.SHUT_RD)   # stops listening; queued handshakes are reset
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            except OSError:
                pass
        self.open = want

    def _accept(self) -> None:
        for _ in range(64):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:   # out of descriptors and the like: try on the next wake-up
                log.warning("accept on :%d: %s", self.port, exc)
                return
            conn.setblocking(False)
            task = self.loop.create_task(self._serve(conn))
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)

    async def _serve(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self.factory, conn)
        except OSError:
            conn.close()

    def close(self) -> None:
        if self.closed:
            return
        if self.open:
            self.loop.remove_reader(self.sock.fileno())
        self.closed, self.open = True, False
        self.sock.close()

"""A pod's view of the network for the processes in its containers (curl, http,
the siege engine) and the apps that call other Services: the pod's egress, kept
by the cluster's network (console/embedded/network/egress.py: names,
kube-proxy, the mesh).

    await net.request(host, port, Request, timeout=None, realtime=False) -> Response
        LookupError, ConnectionRefusedError, ConnectionResetError, and
        asyncio.TimeoutError after `timeout` seconds of the request's own pace
        (simulated seconds unless realtime)
    await net.listen() -> "127.0.0.1:N"   a loopback listener whose connections
        are this pod's (each request goes where its Host header says)
    net.knows(host) -> bool
"""

import asyncio


class PodNet:
    def __init__(self, worker):
        self.worker = worker
        self.cluster = worker.cluster

    @property
    def egress(self):
        """None until the cluster's network is up (a pod that starts first resolves nothing)."""
        network = getattr(self.cluster, "network", None)
        return None if network is None else network.egress(self.worker)

    def knows(self, host: str) -> bool:
        egress = self.egress
        return egress is not None and egress.knows(host)

    async def request(self, host: str, port: int, req, timeout: float | None = None,
                      realtime: bool = False):
        egress = self.egress
        if egress is None:
            raise LookupError(host)
        call = egress.request(host, port, req, realtime=realtime)
        if timeout is None:
            return await call
        return await asyncio.wait_for(call, timeout if realtime else self.cluster.clock.real(timeout))

    async def listen(self) -> str:
        egress = self.egress
        if egress is None:
            raise ConnectionRefusedError("the pod's network is not up yet")
        return await egress.listen()

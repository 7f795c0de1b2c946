"""A pod's view of the network for the tools in its containers (curl, wget) and
the apps that call other Services: the pod's egress, kept by the cluster's
network (console/embedded/network/egress.py: names, kube-proxy, the mesh).

    await net.request(host, port, Request) -> Response   (LookupError,
        ConnectionRefusedError, ConnectionResetError; cluster time)
    net.knows(host) -> bool
"""


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

    async def request(self, host: str, port: int, req):
        egress = self.egress
        if egress is None:
            raise LookupError(host)
        return await egress.request(host, port, req)

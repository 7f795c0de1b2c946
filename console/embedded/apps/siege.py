"""The labs' siege pod (apexacme/siege-nginx): nginx as its process, and siege,
curl and HTTPie's `http` for `kubectl exec -it siege -- /bin/bash`."""

from console.embedded.apps.nginx import NginxApp


class SiegeApp(NginxApp):
    kind = "siege"
    boot_seconds = 0.5
    memory_mb = 8.0
    idle_millicores = 0.0
    tools = frozenset({"siege", "http", "https"})

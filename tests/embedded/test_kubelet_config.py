"""ConfigMap env and volumes (lab L6), and the kubelet's errors when they are missing."""

from kubelet_helpers import cstatus, events, kubelet_cluster, log_lines, pod
from waits import until

CM = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "rental-region", "namespace": "default"},
      "data": {"contury": "korea", "region": "seoul"}}

SPEC = {
    "command": ["sh", "-c", "echo $COUNTRY $REGION $MY_POD; cat /config/region; echo; sleep 3600"],
    "env": [
        {"name": "COUNTRY", "valueFrom": {"configMapKeyRef": {"name": "rental-region", "key": "contury"}}},
        {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ],
    "envFrom": [{"configMapRef": {"name": "rental-region"}, "prefix": ""}],
    "volumeMounts": [{"name": "config", "mountPath": "/config"}],
}


async def test_config_map_env_and_volume_reach_the_process():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("configmaps", CM)
        body = pod("rental", image="busybox", container=SPEC,
                   volumes=[{"name": "config", "configMap": {"name": "rental-region"}}])
        body["spec"]["containers"][0]["env"].append({"name": "REGION", "value": "$(region)"})
        cluster.registry.create("pods", body)
        await until(lambda: log_lines(cluster, "rental") and len(log_lines(cluster, "rental")) >= 2,
                    what="output")
        assert log_lines(cluster, "rental")[:2] == ["korea seoul rental", "seoul"]


async def test_missing_config_map_key_then_created():
    async with kubelet_cluster(speed=50) as cluster:
        spec = {"command": ["sh", "-c", "echo $COUNTRY; sleep 3600"], "env": SPEC["env"][:1]}
        cluster.registry.create("pods", pod("early", image="busybox", container=spec))
        await until(lambda: cstatus(cluster, "early").get("state", {}).get("waiting", {})
                    .get("reason") == "CreateContainerConfigError", what="config error")
        assert cstatus(cluster, "early")["state"]["waiting"]["message"] == 'configmap "rental-region" not found'
        assert ("Failed", 'Error: configmap "rental-region" not found') in events(cluster, "early")
        cluster.registry.create("configmaps", CM)
        await until(lambda: log_lines(cluster, "early") == ["korea"], what="started after the fix")


async def test_missing_volume_source_fails_the_mount():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("nomount", image="busybox",
                                            container={"command": ["sleep", "3600"],
                                                       "volumeMounts": [{"name": "c", "mountPath": "/c"}]},
                                            volumes=[{"name": "c", "configMap": {"name": "absent"}}]))
        await until(lambda: any(r == "FailedMount" for r, _ in events(cluster, "nomount")))
        assert ("FailedMount", 'MountVolume.SetUp failed for volume "c" : configmap "absent" not found') \
            in events(cluster, "nomount")
        assert cstatus(cluster, "nomount")["state"]["waiting"]["reason"] == "ContainerCreating"

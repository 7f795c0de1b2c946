"""metrics-server as its release manifest (components.yaml, v0.7.2) installs it in
kube-system: the Deployment, its Service and the APIService that puts
metrics.k8s.io/v1beta1 behind the API server. `kubelab cluster --no-metrics`
leaves them out, as a cluster without metrics-server has none of them."""

LABELS = {"k8s-app": "metrics-server"}
NAMESPACE = "kube-system"
NAME = "metrics-server"
APISERVICE = "v1beta1.metrics.k8s.io"
IMAGE = "registry.k8s.io/metrics-server/metrics-server:v0.7.2"

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
    "spec": {
        "selector": {"matchLabels": LABELS},
        "strategy": {"rollingUpdate": {"maxUnavailable": 0}},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "priorityClassName": "system-cluster-critical",
                "serviceAccountName": NAME,
                "nodeSelector": {"kubernetes.io/os": "linux"},
                "containers": [{
                    "name": NAME,
                    "image": IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "args": ["--cert-dir=/tmp", "--secure-port=10250",
                             "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
                             "--kubelet-use-node-status-port", "--metric-resolution=15s"],
                    "ports": [{"name": "https", "containerPort": 10250, "protocol": "TCP"}],
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": "https",
                                                   "scheme": "HTTPS"},
                                       "initialDelaySeconds": 20, "periodSeconds": 10,
                                       "failureThreshold": 3},
                    "livenessProbe": {"httpGet": {"path": "/livez", "port": "https",
                                                  "scheme": "HTTPS"},
                                      "periodSeconds": 10, "failureThreshold": 3},
                    "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": False,
                                        "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                                        "runAsUser": 1000},
                }],
            },
        },
    },
}

SERVICE = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS},
    "spec": {"selector": LABELS, "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                                             "targetPort": "https"}]},
}

API_SERVICE = {
    "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
    "metadata": {"name": APISERVICE, "labels": LABELS},
    "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
             "versionPriority": 100, "insecureSkipTLSVerify": True,
             "service": {"name": NAME, "namespace": NAMESPACE, "port": 443}},
}

OBJECTS = (("services", SERVICE), ("deployments.apps", DEPLOYMENT),
           ("apiservices.apiregistration.k8s.io", API_SERVICE))

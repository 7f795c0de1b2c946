"""kubelab: a terminal console for Kubernetes labs."""

__version__ = "0.1.0"

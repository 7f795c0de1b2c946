"""Create-only review kinds (kubectl auth can-i / whoami): the kubeconfig's one
user is the cluster's administrator, so every access is allowed."""

REVIEWS = {"selfsubjectaccessreviews.authorization.k8s.io",
           "selfsubjectrulesreviews.authorization.k8s.io",
           "selfsubjectreviews.authentication.k8s.io"}
USER = {"username": "kubelab", "groups": ["system:masters", "system:authenticated"]}


def review(key: str, obj: dict, stamp: str) -> dict:
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta["creationTimestamp"] = stamp
    out["metadata"] = meta
    if key == "selfsubjectaccessreviews.authorization.k8s.io":
        out["status"] = {"allowed": True, "reason": "kubelab: the cluster's only user"}
    elif key == "selfsubjectrulesreviews.authorization.k8s.io":
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"],
                                            "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                         "incomplete": False}
    else:
        out["status"] = {"userInfo": USER}
    return out

"""Create-only review kinds (`kubectl auth can-i`, `kubectl auth can-i --list`,
`kubectl auth whoami`), answered for the user who asks, from the same rules that
admit their requests (authz.py):

SelfSubjectAccessReview  spec.resourceAttributes {namespace, verb, group, resource,
                         subresource, name} or spec.nonResourceAttributes {path, verb}
                         -> status {allowed, reason}
SelfSubjectRulesReview   spec.namespace -> status {resourceRules, nonResourceRules,
                         incomplete}
SelfSubjectReview        -> status.userInfo
"""

from console.embedded import authz

REVIEWS = {"selfsubjectaccessreviews.authorization.k8s.io",
           "selfsubjectrulesreviews.authorization.k8s.io",
           "selfsubjectreviews.authentication.k8s.io"}


def _access(user: authz.User, spec: dict) -> dict:
    res = spec.get("resourceAttributes")
    if isinstance(res, dict):
        a = authz.Attributes(str(res.get("verb") or ""), "", True, str(res.get("group") or ""),
                             str(res.get("resource") or ""), str(res.get("subresource") or ""),
                             str(res.get("namespace") or ""), str(res.get("name") or ""))
    else:
        plain = spec.get("nonResourceAttributes") if isinstance(spec.get("nonResourceAttributes"), dict) else {}
        a = authz.Attributes(str(plain.get("verb") or ""), str(plain.get("path") or ""))
    allowed, reason = authz.decide(user, a)
    out = {"allowed": allowed}
    if reason:
        out["reason"] = reason
    return out


def _rules(user: authz.User, spec: dict) -> dict:
    ns = spec.get("namespace") if isinstance(spec.get("namespace"), str) else None
    rules = [r.as_api() for r in authz.rules(user, ns or None)]
    if user.admin:
        plain = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
    else:
        plain = [{"verbs": ["get"], "nonResourceURLs": list(authz.PUBLIC_PATHS)}]
    return {"resourceRules": rules, "nonResourceRules": plain, "incomplete": False}


def review(key: str, obj: dict, stamp: str, user: authz.User) -> dict:
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta["creationTimestamp"] = stamp
    out["metadata"] = meta
    spec = out.get("spec") if isinstance(out.get("spec"), dict) else {}
    if key == "selfsubjectaccessreviews.authorization.k8s.io":
        out["status"] = _access(user, spec)
    elif key == "selfsubjectrulesreviews.authorization.k8s.io":
        out["status"] = _rules(user, spec)
    else:
        out["status"] = {"userInfo": user.info()}
    return out

"""What this user may do here: `kubectl auth can-i`, asked of the API server.

    access = Access(conn)
    access.rules()                          # SelfSubjectRulesReview for the namespace, once
    access.can("delete", "pods")            # (allowed, why): from the rules, else a
                                            # SelfSubjectAccessReview (cached)
    access.refusal("delete", "pods")        # "cannot delete pods in namespace default" | ""

The rules review answers most questions in one call; when it says `incomplete`
(a webhook authorizer, EKS' IAM mapping) or does not cover a question, a
SelfSubjectAccessReview decides, as `kubectl auth can-i` does. A cluster that
answers neither (an old API server, a review forbidden) is taken as "allowed":
the API's own 403 then says what it refused.
"""

from __future__ import annotations

import threading

from console.cluster import rest

RULES = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews"
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
ACCESS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def _covers(rule: dict, verb: str, group: str, resource: str) -> bool:
    def has(values, want):
        return "*" in (values or ()) or want in (values or ())
    return (has(rule.get("verbs"), verb) and has(rule.get("apiGroups"), group)
            and has(rule.get("resources"), resource) and not rule.get("resourceNames"))


def what(verb: str, resource: str, group: str = "", namespace: str | None = None) -> str:
    qualified = f"{resource.split('/')[0]}.{group}" if group else resource.split("/")[0]
    sub = resource.partition("/")[2]
    thing = f"{qualified}/{sub}" if sub else qualified
    where = f" in namespace {namespace}" if namespace else " at the cluster scope"
    return f"{verb} {thing}{where}"


class Access:
    def __init__(self, conn):
        self.conn = conn
        self._rules: list[dict] | None = None
        self._incomplete = True
        self._answers: dict[tuple, tuple[bool, str]] = {}
        self._lock = threading.Lock()
        self.error = ""             # why the API could not be asked ("" when it answered)

    @property
    def namespace(self) -> str:
        return self.conn.namespace

    def rules(self) -> list[dict]:
        with self._lock:
            if self._rules is None:
                try:
                    body = rest.call(self.conn.api, "POST", RULES, {
                        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                        "spec": {"namespace": self.namespace}})
                    status = body.get("status") or {}
                    self._rules = list(status.get("resourceRules") or [])
                    self._incomplete = bool(status.get("incomplete"))
                except Exception as exc:
                    from console.cluster.errors import message_of
                    self.error = message_of(exc)
                    self._rules = []
            return self._rules

    def can(self, verb: str, resource: str, group: str = "",
            namespace: str | None = "") -> tuple[bool, str]:
        """(allowed, the API's reason); namespace "" means the connection's, None cluster scope."""
        ns = self.namespace if namespace == "" else namespace
        key = (verb, resource, group, ns)
        if key in self._answers:
            return self._answers[key]
        if ns == self.namespace and any(_covers(r, verb, group, resource) for r in self.rules()):
            answer = (True, "")
        elif ns == self.namespace and self._rules and not self._incomplete:
            answer = (False, "")
        else:
            answer = self._review(verb, resource, group, ns)
        self._answers[key] = answer
        return answer

    def _review(self, verb: str, resource: str, group: str, ns: str | None) -> tuple[bool, str]:
        res, _, sub = resource.partition("/")
        attrs = {"verb": verb, "resource": res, "group": group}
        if sub:
            attrs["subresource"] = sub
        if ns:
            attrs["namespace"] = ns
        try:
            body = rest.call(self.conn.api, "POST", ACCESS, {
                "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs}})
        except Exception as exc:
            from console.cluster.errors import message_of
            self.error = message_of(exc)
            return True, ""              # not knowable: let the API's 403 speak
        status = body.get("status") or {}
        return bool(status.get("allowed")), status.get("reason") or ""

    def whoami(self) -> str:
        """The user name the API server sees (`kubectl auth whoami`), "" when it will not say."""
        try:
            body = rest.call(self.conn.api, "POST", WHOAMI, {
                "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
            return ((body.get("status") or {}).get("userInfo") or {}).get("username") or ""
        except Exception:
            return ""

    def refused(self, actions) -> dict[str, str]:
        """{action name: why not} for catalogue actions whose `needs` this user lacks."""
        out = {}
        for act in actions:
            for verb, resource, group, ns in act.needs:
                why = self.refusal(verb, resource, group, ns)
                if why:
                    out[act.name] = why
                    break
        return out

    def refusal(self, verb: str, resource: str, group: str = "", namespace: str | None = "") -> str:
        """'' when allowed, else 'cannot VERB RESOURCE in namespace NS'."""
        ns = self.namespace if namespace == "" else namespace
        allowed, _ = self.can(verb, resource, group, ns)
        return "" if allowed else f"cannot {what(verb, resource, group, ns)}"

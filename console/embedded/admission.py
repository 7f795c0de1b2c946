"""Admission, per cluster: what the API server does to an object between
decoding and storing it, in kube-apiserver's order.

  default   fn(obj)                    the scheme's defaulting (defaults.py)
  mutate    fn(registry, obj, old)     mutating admission (a sidecar injector, ...);
                                       defaulting runs again after it, as the API
                                       server re-defaults a webhook-patched object
  validate  fn(obj, old) -> [(path, message)]   field validation (validation.py);
                                       any cause -> 422 Invalid
  webhook   fn(registry, obj, old)     validating admission webhooks (istio's
                                       validation.istio.io); raise Denied to refuse,
                                       return warnings (kubectl prints "Warning: ...")
  allocate  fn(registry, obj, old)     defaulting that needs the store (Service
                                       clusterIP / nodePort)

`old` is None on create. The built-in hooks are constant tables (defaults.py,
validation.py); each Cluster's Registry has its own `Admission` built from
them (registry.builtin_admission), and anything added at run
time (`registry.admission.add("mutate", "pods", fn)`) is that cluster's alone.
"""

from typing import Callable

PHASES = ("default", "mutate", "validate", "webhook", "allocate")


class Invalid(Exception):
    """422: field errors, as [(path, message)]."""

    def __init__(self, kind: str, name: str, causes: list[tuple[str, str]]):
        self.kind, self.name, self.causes = kind, name, causes
        detail = ", ".join(f"{p}: {m}" for p, m in causes)
        super().__init__(f'{kind} "{name}" is invalid: {detail}')


class Forbidden(Exception):
    """403: e.g. new content in a namespace that is being terminated."""


class Denied(Forbidden):
    """A validating admission webhook said no: 400 with no reason, worded as the API
    server words it (kubectl: Error from server: admission webhook "x" denied the
    request: ...)."""

    def __init__(self, webhook: str, message: str):
        super().__init__(f'admission webhook "{webhook}" denied the request: {message}')


class Admission:
    def __init__(self):
        self._hooks: dict[str, dict[str, list[Callable]]] = {p: {} for p in PHASES}

    def add(self, phase: str, res: str, fn: Callable) -> Callable:
        """Adds a hook after those already there; returns it (for `remove`)."""
        if phase not in PHASES:
            raise ValueError(f"admission phase {phase!r}: one of {', '.join(PHASES)}")
        self._hooks[phase].setdefault(res, []).append(fn)
        return fn

    def remove(self, phase: str, res: str, fn: Callable) -> None:
        hooks = self._hooks[phase].get(res, [])
        if fn in hooks:
            hooks.remove(fn)

    def hooks(self, phase: str, res: str) -> list[Callable]:
        return list(self._hooks[phase].get(res, ()))

    def admit(self, registry, res: str, obj: dict, old: dict | None,
              warnings: list | None = None) -> None:
        """Runs every phase on obj in place; raises Invalid (or what a hook raises).
        The webhooks' warnings are added to `warnings` when given."""
        hooks = self._hooks
        defaulters = hooks["default"].get(res, ())
        for fn in defaulters:
            fn(obj)
        mutators = hooks["mutate"].get(res, ())
        for fn in mutators:
            fn(registry, obj, old)
        if mutators:
            for fn in defaulters:
                fn(obj)
        causes: list[tuple[str, str]] = []
        for fn in hooks["validate"].get(res, ()):
            causes += fn(obj, old) or []
        if causes:
            raise Invalid(obj.get("kind", res), obj["metadata"].get("name", ""), causes)
        for fn in hooks["webhook"].get(res, ()):
            said = fn(registry, obj, old)
            if said and warnings is not None:
                warnings.extend(said)
        for fn in hooks["allocate"].get(res, ()):
            fn(registry, obj, old)

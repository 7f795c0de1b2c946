"""The scenario format (apiVersion kubelab/v1) as pydantic models: one source for the
checks, the JSON Schema editors use and the format's reference.

Actions are built from the catalogue (console.cluster.catalogue): `{scale:
{deployment: order, replicas: 3}}`, one action per list item, with common fields
beside it (`timeout`, `rollback`, `allowFailure`, `namespace`). Conditions are the
models of console.scenario.conditions: `{podsReady: {selector: app=order}, timeout: 2m}`.
A bare value stands for an action's one parameter: `sleep: 10s`, `apply: l2/deployment.yaml`.

What the format takes from others:
- Killercoda/Instruqt: each step has a narration, a check with a failure message and
  a hint, and a solve that powers "skip" and unattended runs.
- kuttl: partial-match asserts (`object`), `errors` (state that must not hold).
- chainsaw: try / catch / finally per step, collectors (events, pod logs, describe) on
  failure, per-operation default timeouts (`defaults.timeouts`).
- Chaos Toolkit: `steady` checks before a fault, with ranges; rollbacks tied to the
  action they undo (`rollback: true` uses the catalogue's undo); a failed rollback
  fails the run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, create_model, model_validator

from console.cluster import catalogue
from console.scenario.conditions import CONDITIONS, Condition
from console.scenario.values import Duration, Strict, Words

API_VERSION = "kubelab/v1"

REQUIREMENTS = {
    "metrics": "metrics.k8s.io (metrics-server): kubectl top and the HPA",
    "mesh": "Istio: sidecar injection, DestinationRule, VirtualService",
    "siege": "the siege command inside the lab's siege pod",
    "apps": "the labs' service apps: gateway routes, services that call each other",
}
Requirement = Literal["metrics", "mesh", "siege", "apps"]

ACTION_COMMON = ("namespace", "timeout", "rollback", "allowFailure")


class ActionBase(Strict):
    namespace: str | None = Field(None, description="another namespace than the scenario's")
    timeout: Duration | None = Field(None, description="retry transient API errors this long "
                                     "(default: defaults.timeouts.action)")
    allowFailure: bool = Field(False, description="a failure is reported but does not fail the step")


def _py_type(t):
    return Duration if t is catalogue.Seconds else (Duration | None if t == (catalogue.Seconds | None) else t)


def _params_model(act: catalogue.Action):
    fields: dict[str, Any] = {}
    for p in act.params:
        default = ... if p.required else p.default
        fields[p.name] = (_py_type(p.type), Field(default, description=p.help))
    validators = {}
    if act.check is not None:
        def together(self, _check=act.check):
            problem = _check(self.model_dump(exclude_unset=True))
            if problem:
                raise ValueError(problem)
            return self
        validators["together"] = model_validator(mode="after")(together)
    model = create_model(f"{_camel(act.name)}Params", __config__=ConfigDict(extra="forbid"),
                         __validators__=validators, **fields)
    model.__doc__ = act.help
    return model


def expand_short(value):
    """`sleep: 10s` -> {sleep: {seconds: 10s}}; `load.stop:` -> {load.stop: {}}."""
    if not isinstance(value, dict):
        return value
    keys = [k for k in value if k not in ACTION_COMMON]
    if len(keys) != 1 or keys[0] not in catalogue.BY_NAME:
        return value
    name, given = keys[0], value[keys[0]]
    if given is None:
        return {**value, name: {}}
    if isinstance(given, dict):
        return value
    short = catalogue.get(name).shorthand
    return {**value, name: {short: given}} if short else value


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace(".", " ").split())


def _field(name: str) -> str:
    return name.replace(".", "_")


def tag_of(common: tuple[str, ...]):
    """The discriminator: the one key of an item that is not a common field."""
    def tag(value):
        if isinstance(value, dict):
            keys = [k for k in value if k not in common]
            return keys[0] if len(keys) == 1 else None
        return getattr(value, "tag", None)
    return tag


def _union(models: dict[str, type], common: tuple[str, ...], short: bool = False):
    members = tuple(Annotated[m, Tag(name)] for name, m in models.items())
    union = Annotated[Union[members], Discriminator(tag_of(common))]
    return Annotated[union, BeforeValidator(expand_short)] if short else union


def _actions(base, suffix: str) -> dict[str, type]:
    out = {}
    for act in catalogue.ACTIONS:
        model = create_model(f"{_camel(act.name)}{suffix}", __base__=base,
                             **{_field(act.name): (PARAMS[act.name], Field(alias=act.name,
                                                                           description=act.help))})
        model.tag = act.name
        out[act.name] = model
    return out


PARAMS = {act.name: _params_model(act) for act in catalogue.ACTIONS}
UNDO_MODELS = _actions(ActionBase, "Undo")        # a rollback's actions have no rollback
UndoItem = _union(UNDO_MODELS, ACTION_COMMON, short=True)


class ActionCommon(ActionBase):
    rollback: list[UndoItem] | bool | None = Field(
        None, description="undo at cleanup, in reverse order: true = the catalogue's undo")


ACTION_MODELS = _actions(ActionCommon, "Action")


# --- collectors: what a failed step gathers before cleanup (chainsaw's catch) -------------
class EventsCollect(Strict):
    """The namespace's events, newest last (`kubectl get events`)."""
    limit: int = 50


class PodLogsCollect(Strict):
    """`kubectl logs` of pods (all containers, the last lines; the previous run too when restarted)."""
    pod: str | None = None
    selector: str | None = None
    tail: int = 50


class DescribeCollect(Strict):
    """Status, conditions, container states and events of objects (`kubectl describe`)."""
    kind: str = "Pod"
    name: str | None = None
    selector: str | None = None


COLLECTORS = {"events": EventsCollect, "podLogs": PodLogsCollect, "describe": DescribeCollect}
COLLECT_MODELS = {name: create_model(f"{_camel(name)}Collector", __config__=ConfigDict(extra="forbid"),
                                     **{name: (model, ...)}) for name, model in COLLECTORS.items()}

CONDITION_COMMON = tuple(Condition.model_fields)
CONDITION_MODELS = {name: create_model(f"{_camel(name)}Check", __base__=Condition,
                                       **{name: (model, Field(description=model.__doc__))})
                    for name, model in CONDITIONS.items()}


for _name, _model in CONDITION_MODELS.items():
    _model.tag = _name
for _name, _model in COLLECT_MODELS.items():
    _model.tag = _name

ActionItem = _union(ACTION_MODELS, ACTION_COMMON, short=True)
ConditionItem = _union(CONDITION_MODELS, CONDITION_COMMON)
CatchItem = _union({**ACTION_MODELS, **COLLECT_MODELS}, ACTION_COMMON, short=True)


def action_of(item) -> tuple[str, dict]:
    """(catalogue name, parameters given) of a validated action item."""
    params = getattr(item, _field(item.tag))
    return item.tag, params.model_dump(exclude_unset=True)


def condition_of(item):
    """The condition model inside a validated condition item."""
    return getattr(item, item.tag)


class Timeouts(Strict):
    """Per-operation defaults (chainsaw's): each can be overridden on the item itself."""
    action: Duration = Field(30.0, description="an action's retries on transient API errors")
    wait: Duration = Field(180.0, description="a wait condition (wall-clock: generous is free, "
                                              "a wait ends as soon as it holds)")
    exec: Duration = Field(60.0, description="a command in a pod")
    cleanup: Duration = Field(60.0, description="deleting what the scenario created")


class Defaults(Strict):
    namespace: str = Field("default", description="where the scenario runs (--namespace overrides)")
    timeouts: Timeouts = Timeouts()
    interval: Duration = Field(0.5, description="how often waits and monitors poll")
    manifests: str = Field("../manifests", description="where apply/delete `file:` paths are, "
                                                       "relative to the scenario file")


class Metadata(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Words
    lab: str | None = Field(None, description="the lab's code in the docs: L1 ... L8")
    source: str = Field(description="the lab document (and section) the steps follow")
    description: Words | None = None
    requires: list[Requirement] = Field([], description="what the cluster must offer: "
                                        + "; ".join(f"{k}: {v}" for k, v in REQUIREMENTS.items()))


class Step(Strict):
    """One step: narration, what the learner does (or `solve` does for them), then checks.

    Order: steady (before anything) -> solve (auto, play and `s`) -> wait (poll until
    each holds) -> expect (once, every mismatch listed) -> errors (must not hold);
    monitors are sampled from the start of the step to its end. On failure, `catch`
    runs (default: events, pod logs, describe of the pods); `finally` always runs.
    """
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Words
    narration: Words | None = None
    command: str | list[str] | None = Field(None, description="what the lab has the learner type")
    gate: Literal["auto", "learner"] = Field("auto", description="learner: wait for the person "
                                             "(a key in the console or kubectl elsewhere), then check")
    steady: list[ConditionItem] = Field([], description="must hold before the step acts (steady state)")
    solve: list[ActionItem] = []
    wait: list[ConditionItem] = []
    expect: list[ConditionItem] = []
    errors: list[ConditionItem] = Field([], description="state that must NOT hold (kuttl's errors)")
    monitor: list[ConditionItem] = Field([], description="must hold all through the step")
    hint: Words | None = None
    catch: list[CatchItem] = Field([], description="on failure, before cleanup")
    finally_: list[ActionItem] = Field([], alias="finally", description="always, at the step's end")


class Cleanup(Strict):
    strategy: Literal["always", "on-failure", "on-success", "never"] = Field(
        "always", description="when to remove what the scenario created (and run rollbacks)")
    actions: list[ActionItem] = Field([], description="run first, before the automatic removal")


class Scenario(Strict):
    """A lab as steps that run, wait, check and explain."""
    apiVersion: Literal["kubelab/v1"]
    kind: Literal["Scenario"]
    metadata: Metadata
    vars: dict[str, str | int | float | bool] = Field({}, description="${name} anywhere below; "
                                                      "--var name=value overrides")
    defaults: Defaults = Defaults()
    setup: list[ActionItem] = []
    steps: list[Step] = Field(min_length=1)
    cleanup: Cleanup = Cleanup()

"""Run a scenario against a session: setup, then each step (steady -> solve -> wait ->
expect -> errors, with monitors throughout; catch on failure, finally always), then
cleanup. Progress goes on the session's bus (ScenarioStarted, StepStarted,
CheckResult, HintShown, StepFinished, ScenarioFinished); the result is a RunReport.

Modes: "run" (headless: solve runs, the first failed step ends the run), "play"
(unattended demo: solve runs, `pause`/`resume`/`next` from the console, a failed step
does not stop the show), "learner" (a `gate: learner` step waits for the person and
passes as soon as its checks hold; `check`, `hint`, `solve` and `next` come from the
console's keys). `stop()` (Ctrl-C) ends the current wait at once; cleanup still runs.

Timeouts are wall-clock limits (a wait ends as soon as it holds, so generous is
free); `sleep` and load durations are cluster time, compressed by the session's
speed. Transient API errors (connection, 5xx, 429, 409) are "try again".
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from pathlib import Path

from console import bus
from console.cluster import catalogue, rest
from console.cluster.actions import Ref, Result
from console.cluster.errors import message_of, transient
from console.scenario import collect, model
from console.scenario.conditions import Seen
from console.scenario.loader import Loaded
from console.scenario.report import ActionReport, CheckReport, RunReport, StepReport
from console.scenario.values import say

MESH_KINDS = {"mesh.circuitBreaker": "DestinationRule", "mesh.retries": "VirtualService",
              "mesh.delay": "VirtualService", "mesh.abort": "VirtualService"}


class Stopped(Exception):
    """The run was told to stop (Ctrl-C, or the console closing)."""


class Unmet(Exception):
    """The cluster lacks what the scenario requires (metadata.requires)."""


class Context:
    """What a catalogue action needs, for this scenario: its namespace, its manifests,
    its clock (cluster seconds per wall second)."""

    def __init__(self, runner: Runner, conn):
        self.runner, self.conn = runner, conn
        self.load = runner.session.load
        self.timescale = runner.session.speed

    def sleep(self, seconds: float) -> None:
        self.runner.pause_point()
        if self.runner._stop.wait(seconds):
            raise Stopped()

    def resolve_file(self, path: str) -> str:
        return str(self.runner.loaded.manifest(path))

    @property
    def metrics_manifest(self) -> str:
        return self.runner.session.metrics_manifest


class Probe:
    """What a condition reads: the cluster in a namespace, the load runs, the step's start."""

    def __init__(self, conn, load, since: float):
        self.conn, self.load, self.since = conn, load, since




class Runner:
    def __init__(self, session, loaded: Loaded, mode: str = "run", lang: str = "en",
                 run_id: str | None = None, pace: float = 0.0, create_namespace: bool = True,
                 check_requires: bool = True, linger: bool = False,
                 requires_wait: float = 60.0):
        """linger: after the last step, keep what the lab made (its outcome on screen) until
        stop(); then clean up. The console does so; `kubelab run` does not."""
        self.session, self.loaded, self.sc = session, loaded, loaded.scenario
        self.mode, self.lang, self.pace = mode, lang, pace
        self.run_id = run_id or f"{self.sc.metadata.id}-{uuid.uuid4().hex[:8]}"   # unique across sessions (class mode)
        self.conn = session.conn.switch(namespace=loaded.namespace)
        self.bus = session.bus
        self.report = RunReport(self.sc.metadata.id, say(self.sc.metadata.title, lang),
                                str(loaded.path), loaded.namespace, mode)
        self.create_namespace = create_namespace
        self.check_requires = check_requires
        self.requires_wait = requires_wait
        self.linger = linger
        self.created: list[Ref] = []
        self.rollbacks: list[tuple[str, dict, str]] = []     # (action, params, what it undoes)
        self.declared: list[Ref] = []
        self._stop = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._commands: queue.Queue[str] = queue.Queue()
        self._skip = threading.Event()
        self.step_index = -1
        self.defaults = self.sc.defaults

    # --- control (thread-safe) ------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()
        self._resume.set()
        self._commands.put("stop")

    def command(self, what: str) -> None:
        """check | hint | solve | next | pause | resume (from the console's keys)."""
        if what == "pause":
            self._resume.clear()
        elif what == "resume":
            self._resume.set()
        elif what == "next":
            self._skip.set()
            self._resume.set()
        self._commands.put(what)

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def pause_point(self) -> None:
        while not self._resume.wait(0.25):
            pass
        if self._stop.is_set():
            raise Stopped()

    def _nap(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise Stopped()

    # --- helpers ------------------------------------------------------------------------------
    def conn_for(self, namespace: str | None):
        return self.conn if not namespace or namespace == self.conn.namespace else \
            self.conn.switch(namespace=namespace)

    def step_key(self, step: model.Step) -> str:
        for item in step.solve:
            act = catalogue.get(item.tag)
            if act.keys and act.console:
                return act.keys[0].display
            if act.menu:
                return "f"
        return ""

    def step_files(self, step: model.Step) -> list[str]:
        """The manifests the step's solve applies, as the learner can name them from here
        (the lab says `kubectl apply -f order.yaml`; kubelab keeps it in manifests/l1/)."""
        out = []
        for item in step.solve:
            name, params = model.action_of(item)
            if name == "apply" and params.get("file"):
                path = self.loaded.manifest(params["file"])
                try:
                    path = path.relative_to(Path.cwd())
                except ValueError:
                    pass
                out.append(str(path))
        return out

    def publish(self, event: bus.Event) -> None:
        self.bus.publish(event)

    # --- actions --------------------------------------------------------------------------------
    def do(self, item, phase: str, into: list[ActionReport]) -> Result:
        name, params = model.action_of(item)
        conn = self.conn_for(item.namespace)
        ctx = Context(self, conn)
        limit = item.timeout or self.defaults.timeouts.action
        t0 = time.monotonic()
        while True:
            self.pause_point()
            res = catalogue.call(ctx, name, params)
            if res.ok or not res.data.get("transient") or time.monotonic() - t0 > limit:
                break
            self._nap(1.0)
        if res.ok and name == "load.start":
            res = self._load_started(res, limit)
        if res.ok:
            self.created += [r for r in res.created if r not in self.created]
            self._note_rollback(item, name, params, res)
        into.append(ActionReport(name, res.ok or item.allowFailure, res.message,
                                 round(time.monotonic() - t0, 2), phase))
        self.publish(bus.ActionDone(action=name, ok=res.ok, message=res.message))
        return res if res.ok or not item.allowFailure else Result(True, res.message)

    def _load_started(self, res: Result, limit: float) -> Result:
        """Wait until requests are really going out (the worker process is up)."""
        run = self.session.load.get(res.data["run"])
        deadline = time.monotonic() + max(limit, 60)
        while not run.started.wait(0.25):
            if self._stop.is_set():
                raise Stopped()
            if time.monotonic() > deadline:
                return Result(False, f"load {run.name}: no request went out in {max(limit, 60):.0f}s")
        if run.error:
            return Result(False, f"load {run.name}: {run.error}")
        return res

    def _note_rollback(self, item, name: str, params: dict, res: Result) -> None:
        rb = getattr(item, "rollback", None)
        if rb is True:
            act = catalogue.get(name)
            self.rollbacks.append((act.undo, act.undo_params(params, res), name))
        elif rb:
            for undo in rb:
                uname, uparams = model.action_of(undo)
                self.rollbacks.append((uname, uparams, name))

    # --- conditions -----------------------------------------------------------------------------
    def observe(self, item, since: float) -> Seen:
        cond = model.condition_of(item)
        probe = Probe(self.conn_for(item.namespace), self.session.load, since)
        try:
            return cond.observe(probe)
        except Stopped:
            raise
        except Exception as exc:
            return Seen(False, f"{message_of(exc)} (trying again)" if transient(exc) else message_of(exc))

    def _check(self, rep: StepReport, phase: str, item, seen: Seen, step_id: str, ok: bool | None = None):
        cond = model.condition_of(item)
        ok = seen.ok if ok is None else ok
        msg = say(item.message, self.lang) if not ok else ""
        rep.checks.append(CheckReport(phase, cond.describe(), ok, seen.observed, msg))
        self.publish(bus.CheckResult(run=self.run_id, step=step_id, phase=phase, check=cond.describe(),
                                     ok=ok, observed=seen.observed, message=msg))
        return ok

    def wait_for(self, rep: StepReport, item, step_id: str, since: float) -> bool | None:
        """Poll until the condition holds (True), times out (False) or is skipped (None)."""
        cond = model.condition_of(item)
        limit = item.timeout or self.defaults.timeouts.wait
        deadline, shown = time.monotonic() + limit, 0.0
        while True:
            if self._skip.is_set():
                return None
            if self.paused:
                left = deadline - time.monotonic()
                self.pause_point()
                deadline = time.monotonic() + left
            seen = self.observe(item, since)
            if seen.ok:
                return self._check(rep, "wait", item, seen, step_id)
            now = time.monotonic()
            if now > deadline:
                seen.observed = f"{seen.observed} (after {limit:g}s)"
                return self._check(rep, "wait", item, seen, step_id)
            if now - shown > 1.0:
                shown = now
                self.publish(bus.CheckResult(run=self.run_id, step=step_id, phase="wait",
                                             check=cond.describe(), ok=False, observed=seen.observed,
                                             final=False))
            self._nap(self.defaults.interval)

    # --- a step ----------------------------------------------------------------------------------
    def run_step(self, i: int, step: model.Step) -> StepReport:
        rep = StepReport(step.id, say(step.title, self.lang))
        self.report.steps.append(rep)
        self.step_index = i
        self._skip.clear()
        t0, since = time.monotonic(), time.time()
        command = step.command if isinstance(step.command, str) else "\n".join(step.command or [])
        self.publish(bus.StepStarted(run=self.run_id, step=step.id, index=i, title=rep.title,
                                     narration=say(step.narration, self.lang), command=command,
                                     key=self.step_key(step), files=self.step_files(step),
                                     gate=step.gate if self.mode == "learner" else "auto"))
        monitor = Monitor(self, rep, step, since) if step.monitor else None
        failed = interrupted = False
        try:
            for item in step.steady:
                if not self._check(rep, "steady", item, self.observe(item, since), step.id):
                    failed = True
            if not failed:
                failed = self._act_and_check(rep, step, since)
        except Stopped:
            interrupted = True
        finally:
            if monitor is not None:
                failed = not monitor.finish() or failed
            if interrupted:
                rep.status = "interrupted"
            elif self._skip.is_set():
                rep.status = "skipped"
            else:
                rep.status = "failed" if failed else "passed"
            if rep.status == "failed":
                self._catch(rep, step)
            for item in step.finally_:
                try:
                    self.do(item, "finally", rep.actions)
                except Stopped:
                    break
            if self.pace and rep.status == "passed" and not self._stop.is_set():
                rest_ = self.pace - (time.monotonic() - t0)
                if rest_ > 0:
                    self._stop.wait(rest_)
            rep.seconds = round(time.monotonic() - t0, 2)
            self.publish(bus.StepFinished(run=self.run_id, step=step.id, status=rep.status,
                                          seconds=rep.seconds, failures=rep.failures))
        return rep

    def _act_and_check(self, rep: StepReport, step: model.Step, since: float) -> bool:
        """solve (or the learner), wait, expect, errors; True if something failed."""
        if step.gate == "learner" and self.mode == "learner":
            outcome = self._learner(rep, step, since)
            if outcome is not None:
                return not outcome
        for item in step.solve:
            if not self.do(item, "solve", rep.actions).ok:
                return True
        for item in step.wait:
            got = self.wait_for(rep, item, step.id, since)
            if got is None:
                return False          # skipped ("next")
            if not got:
                return True
        failed = False
        for item in step.expect:
            failed = not self._check(rep, "expect", item, self.observe(item, since), step.id) or failed
        for item in step.errors:
            seen = self.observe(item, since)
            failed = not self._check(rep, "errors", item, seen, step.id, ok=not seen.ok) or failed
        return failed

    def _learner(self, rep: StepReport, step: model.Step, since: float) -> bool | None:
        """Wait for the person; True once every wait and expect holds, None to go on as
        auto (`solve`), False never (a learner has all the time there is)."""
        checks = list(step.wait) + list(step.expect)
        hinted = False
        while True:
            try:
                cmd = self._commands.get(timeout=self.defaults.interval * 2)
            except queue.Empty:
                cmd = "poll"
            if self._stop.is_set() or cmd == "stop":
                raise Stopped()
            if cmd == "next" or self._skip.is_set():
                self._skip.set()
                return True
            if cmd == "solve":
                return None
            if cmd == "hint" or (cmd == "check" and not hinted):
                hinted = hinted or self._hint(step)
            seen = [(item, self.observe(item, since)) for item in checks]
            errors = [(item, self.observe(item, since)) for item in step.errors]
            done = all(s.ok for _, s in seen) and not any(s.ok for _, s in errors)
            if done or cmd == "check":
                for item, s in seen:
                    self._check(rep, "check" if not done else "expect", item, s, step.id)
                for item, s in errors:
                    self._check(rep, "errors", item, s, step.id, ok=not s.ok)
                if done:
                    return True
                rep.checks.clear()        # not done yet: the learner tries again

    def _hint(self, step: model.Step) -> bool:
        hint = say(step.hint, self.lang) or self._default_hint(step)
        if hint:
            self.publish(bus.HintShown(run=self.run_id, step=step.id, hint=hint))
        return bool(hint)

    def _default_hint(self, step: model.Step) -> str:
        """A step the lab writes no hint for still answers h: what to type, and s."""
        if not step.command:
            return ""
        return "type what the step says (Do:) — or press s and the console does it"

    def _catch(self, rep: StepReport, step: model.Step) -> None:
        """Gather what explains the failure before anything is cleaned up."""
        items = step.catch
        if not items:
            for what, params in collect.DEFAULT:
                rep.collected[what] = collect.gather(self.conn, what, params)
            return
        for item in items:
            if item.tag in model.COLLECTORS:
                params = getattr(item, item.tag).model_dump()
                rep.collected[item.tag] = collect.gather(self.conn, item.tag, params)
            else:
                try:
                    self.do(item, "catch", rep.actions)
                except Stopped:
                    return

    def _waiting_for(self, req: str, why: str) -> None:
        """A fresh cluster's metrics-server takes a while: say what the lab waits for."""
        self.publish(bus.CheckResult(run=self.run_id, phase="requires", check=f"requires {req}",
                                     observed=f"{why}; asking again (up to {self.requires_wait:g} s)", final=False))

    # --- the whole run ----------------------------------------------------------------------------
    def run(self) -> RunReport:
        t0 = time.monotonic()
        self.publish(bus.ScenarioStarted(run=self.run_id, scenario=self.sc.metadata.id,
                                         title=self.report.title, mode=self.mode,
                                         namespace=self.loaded.namespace,
                                         steps=[{"id": s.id, "title": say(s.title, self.lang)}
                                                for s in self.sc.steps]))
        failed = False
        try:
            from console.scenario.requires import unmet
            missing = unmet(self.conn, self.sc.metadata.requires, self.requires_wait,
                            waiting=self._waiting_for) if self.check_requires else []
            if missing:
                self.report.error = "; ".join(missing)
                raise Unmet()
            self._prepare()
            for item in self.sc.setup:
                if not self.do(item, "setup", self.report.setup).ok:
                    failed = True
                    break
            for i, step in enumerate(self.sc.steps):
                if failed and self.mode == "run" or self._stop.is_set():
                    self.report.steps.append(StepReport(step.id, say(step.title, self.lang)))
                    continue
                rep = self.run_step(i, step)
                failed = failed or rep.status == "failed"
        except Stopped:
            pass
        except Unmet:
            failed = True
            self.report.steps = [StepReport(s.id, say(s.title, self.lang)) for s in self.sc.steps]
        except Exception as exc:         # a defect here must not skip the cleanup
            self.report.error = f"runner: {message_of(exc)}"
            failed = True
        stopped = self._stop.is_set()
        if self.linger and not stopped:
            # in the console the lab's outcome stays on screen until the person leaves it
            self._finished("failed" if failed else "passed", t0)
            self._stop.wait()
        self._stop.clear()               # cleanup runs even after Ctrl-C
        self._resume.set()
        failed = not self.cleanup(failed or stopped) or failed
        status = "interrupted" if stopped else ("failed" if failed else "passed")
        if not self.linger or stopped:
            self._finished(status, t0)
        self.report.status = status
        return self.report

    def _finished(self, status: str, t0: float) -> None:
        self.report.status = status
        self.report.seconds = round(time.monotonic() - t0, 2)
        self.publish(bus.ScenarioFinished(run=self.run_id, scenario=self.sc.metadata.id,
                                          status=status, seconds=self.report.seconds,
                                          counts=self.report.counts()))

    def _prepare(self) -> None:
        """The namespace (created when missing), and which declared objects exist already."""
        ns = self.loaded.namespace
        if self.create_namespace and not rest.exists(self.conn.api, "Namespace", None, ns):
            res = catalogue.call(Context(self, self.conn), "apply", {"yaml": {
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}})
            self.created += list(res.created)
        for ref in self._declared_refs():
            conn = self.conn_for(ref.namespace)
            if not rest.exists(conn.api, ref.kind, conn.namespace, ref.name):
                self.declared.append(ref)

    def _declared_refs(self) -> list[Ref]:
        """Objects the scenario's actions make (also when a learner makes them with kubectl)."""
        out: list[Ref] = []
        steps = [("setup", self.sc.setup)] + [(s.id, s.solve) for s in self.sc.steps]
        for _, items in steps:
            for item in items:
                name, params = model.action_of(item)
                ns = item.namespace or self.loaded.namespace
                if name == "apply":
                    try:
                        docs = catalogue.docs_of(Context(self, self.conn), params.get("file"), params.get("yaml"))
                    except Exception:
                        continue
                    for d in docs:
                        kind = d.get("kind")
                        if kind in rest.KINDS:
                            namespaced = rest.KINDS[kind][2]
                            meta = d.get("metadata") or {}
                            out.append(Ref(kind, (meta.get("namespace") or ns) if namespaced else None,
                                           meta.get("name", "")))
                elif name == "autoscale":
                    out.append(Ref("HorizontalPodAutoscaler", ns, params["deployment"]))
                elif name in MESH_KINDS:
                    out.append(Ref(MESH_KINDS[name], ns, f"{params['host']}-kubelab"))
        return [r for i, r in enumerate(out) if r not in out[:i]]

    def cleanup(self, failed: bool) -> bool:
        """Load runs end; then, as the strategy says, the cleanup actions, the rollbacks and
        the removal of what the scenario created, newest first. False if a rollback failed."""
        ok = True
        self.session.load.stop_all(wait=30)
        strategy = self.sc.cleanup.strategy
        if strategy == "never" or (strategy == "on-failure" and not failed) or \
                (strategy == "on-success" and failed):
            return ok
        for item in self.sc.cleanup.actions:
            self.do(item, "cleanup", self.report.cleanup)
        for name, params, undoes in reversed(self.rollbacks):
            res = catalogue.call(Context(self, self.conn), name, params)
            self.report.cleanup.append(ActionReport(name, res.ok, f"rollback of {undoes}: {res.message}",
                                                    phase="rollback"))
            ok = ok and res.ok
        refs = [r for r in self.created + self.declared]
        refs = [r for i, r in enumerate(refs) if r not in refs[:i]]
        namespaces = [r for r in refs if r.kind == "Namespace"]
        gone = []
        for ref in reversed([r for r in refs if r.kind != "Namespace"]):
            conn = self.conn_for(ref.namespace)
            res = catalogue.call(Context(self, conn), "delete", {"kind": ref.kind, "name": ref.name,
                                                                 "ignoreNotFound": True})
            if res.message and "deleted" in res.message:
                self.report.cleanup.append(ActionReport("delete", res.ok, res.message, phase="cleanup"))
                gone.append(ref)
        self._wait_gone(gone)
        for ref in namespaces:
            res = catalogue.call(Context(self, self.conn), "delete", {"kind": "Namespace", "name": ref.name,
                                                                      "ignoreNotFound": True})
            self.report.cleanup.append(ActionReport("delete", res.ok, res.message, phase="cleanup"))
        return ok

    def _wait_gone(self, refs: list[Ref]) -> None:
        deadline = time.monotonic() + self.defaults.timeouts.cleanup
        for ref in refs:
            conn = self.conn_for(ref.namespace)
            while time.monotonic() < deadline:
                try:
                    if not rest.exists(conn.api, ref.kind, conn.namespace, ref.name):
                        break
                except Exception:
                    pass
                time.sleep(0.2)


class Monitor:
    """Conditions sampled all through a step. Each is armed the first time it holds
    (a load availability monitor waits for the load to start), and from then on must
    hold at every sample; one that never held fails too."""

    def __init__(self, runner: Runner, rep: StepReport, step: model.Step, since: float):
        self.runner, self.rep, self.step, self.since = runner, rep, step, since
        self.items = list(step.monitor)
        self.armed = [False] * len(self.items)
        self.broken: list[Seen | None] = [None] * len(self.items)
        self.last: list[Seen | None] = [None] * len(self.items)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"monitor-{step.id}", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for i, item in enumerate(self.items):
            if self.broken[i] is not None:
                continue
            seen = self.runner.observe(item, self.since)
            self.last[i] = seen
            if seen.ok:
                self.armed[i] = True
            elif self.armed[i]:
                self.broken[i] = seen

    def _run(self) -> None:
        while not self._done.wait(self.runner.defaults.interval):
            self._sample()

    def finish(self) -> bool:
        self._done.set()
        self._thread.join(30)
        self._sample()
        ok = True
        for i, item in enumerate(self.items):
            if self.broken[i] is not None:
                seen = Seen(False, f"broke during the step: {self.broken[i].observed}")
            elif not self.armed[i]:
                last = self.last[i].observed if self.last[i] else "no sample"
                seen = Seen(False, f"never held during the step: {last}")
            else:
                seen = Seen(True, self.last[i].observed)
            ok = self.runner._check(self.rep, "monitor", item, seen, self.step.id) and ok
        return ok

"""Job controller, as kube-controller-manager's (pkg/controller/job), NonIndexed.

Keeps `parallelism` pods running (never more than the completions still
needed), counts each pod that finished once (its batch.kubernetes.io/job-tracking
finalizer is removed when counted), and ends the Job: SuccessCriteriaMet then
Complete (CompletionsReached) when enough succeeded, FailureTarget then Failed
when more than backoffLimit pods failed (BackoffLimitExceeded) or it ran past
activeDeadlineSeconds (DeadlineExceeded); its remaining pods are deleted. A
failed pod is replaced after the pod failure back-off (10 s doubling, 6 min at
most). `suspend` deletes the active pods (Suspended). A finished Job with
ttlSecondsAfterFinished is deleted that long after (the TTL-after-finished
controller). Status, conditions and events worded as the real ones.
"""

import asyncio
import copy

from console.embedded.controllers.base import (Informer, WorkQueue, controller_ref, key_of,
                                               pod_ready, set_condition, terminating,
                                               write_status)
from console.embedded.controllers.replicaset import pod_from_template
from console.embedded.store import NotFound

RES = "jobs.batch"
COMPONENT = "job-controller"
TRACKING = "batch.kubernetes.io/job-tracking"
BACKOFF, MAX_BACKOFF = 10.0, 360.0


def condition(job: dict, typ: str) -> dict | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == typ and c.get("status") == "True":
            return c
    return None


def finished(job: dict) -> bool:
    return bool(condition(job, "Complete") or condition(job, "Failed"))


class JobController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "job", self.sync)
        self.counted: dict[str, set[str]] = {}     # job uid -> pods counted, finalizer going
        self.last_failure: dict[str, float] = {}   # job uid -> sim time of the last failed pod
        informer.on(RES, self._on_job)
        informer.on("pods", self._on_pod)
        for job in informer.all(RES):
            self.queue.add(key_of(job))

    def _on_job(self, ev) -> None:
        if ev.type == "DELETED":
            uid = ev.obj["metadata"].get("uid", "")
            self.counted.pop(uid, None)
            self.last_failure.pop(uid, None)
            return
        self.queue.add(key_of(ev.obj))

    def _on_pod(self, ev) -> None:
        ref = controller_ref(ev.obj) or (controller_ref(ev.old) if ev.old else None)
        if ref and ref.get("kind") == "Job":
            found = self.inf.by_uid(ref.get("uid", ""))
            if found and found[0] == RES:
                self.queue.add(found[1:])
            elif ev.type != "DELETED" and TRACKING in (ev.obj["metadata"].get("finalizers") or []):
                # its Job is gone: nothing will count it, let it go
                asyncio.get_running_loop().call_soon(
                    self._untrack, ev.obj["metadata"].get("namespace") or "", ev.obj)

    def _event(self, job, reason, message, type_="Normal") -> None:
        self.cluster.event(job, reason, message, type_, component=COMPONENT)

    # -- reconcile ---------------------------------------------------------------
    async def sync(self, key) -> None:
        job = self.inf.get(RES, *key)
        if job is None:
            return
        ns = key[0]
        uid = job["metadata"]["uid"]
        spec = job.get("spec") or {}
        st = copy.deepcopy(job.get("status") or {})
        now, stamp = self.cluster.clock.elapsed(), self.cluster.clock.stamp()
        pods = self.inf.controlled(uid, "pods")
        counted = self.counted.setdefault(uid, set())
        for p in pods:   # count each finished pod once, then let it go
            phase = (p.get("status") or {}).get("phase")
            if terminating(p) and phase != "Succeeded":
                phase = "Failed"     # deleted before it succeeded: a failure
            puid = p["metadata"].get("uid", "")
            tracked = TRACKING in (p["metadata"].get("finalizers") or [])
            # the finalizer is the mark: a pod without it was counted (before a restart too)
            if phase in ("Succeeded", "Failed") and tracked and puid not in counted:
                counted.add(puid)
                field = "succeeded" if phase == "Succeeded" else "failed"
                st[field] = st.get(field, 0) + 1
                if phase == "Failed":
                    self.last_failure[uid] = now
            if phase in ("Succeeded", "Failed") and TRACKING in (p["metadata"].get("finalizers") or []):
                self._untrack(ns, p)
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in
                  ("Succeeded", "Failed") and not terminating(p)]
        if finished(job):
            await self._ttl(job, st)
            self._write(job, st, active, pods)
            return
        if terminating(job):
            return
        if spec.get("suspend"):
            self._delete(job, active)
            if not condition(job, "Suspended"):
                self._set(st, "Suspended", "JobSuspended", "Job suspended", stamp)
                self._event(job, "Suspended", "Job suspended")
            self._write(job, st, [], pods)
            return
        if condition(job, "Suspended"):
            self._set(st, "Suspended", "JobResumed", "Job resumed", stamp, status="False")
            self._event(job, "Resumed", "Job resumed")
        st.setdefault("startTime", stamp)
        started = self.cluster.clock.sim_at(st["startTime"]) or now
        completions = spec.get("completions")
        failed = st.get("failed", 0) + sum(
            c.get("restartCount", 0) for p in active
            for c in (p.get("status") or {}).get("containerStatuses") or [])
        deadline = spec.get("activeDeadlineSeconds")
        if failed > spec.get("backoffLimit", 6):
            self._fail(job, st, active, "BackoffLimitExceeded",
                       "Job has reached the specified backoff limit", stamp)
        elif deadline is not None and now - started >= deadline:
            self._fail(job, st, active, "DeadlineExceeded",
                       "Job was active longer than specified deadline", stamp)
        elif (completions is not None and st.get("succeeded", 0) >= completions) or \
                (completions is None and st.get("succeeded", 0) > 0 and not active):
            msg = "Reached expected number of succeeded pods"
            self._set(st, "SuccessCriteriaMet", "CompletionsReached", msg, stamp)
            self._set(st, "Complete", "CompletionsReached", msg, stamp)
            st["completionTime"] = stamp
            self._delete(job, active)
            active = []
            self._event(job, "Completed", "Job completed")
        else:
            if deadline is not None:
                self.queue.add_after(key, max(0.0, started + deadline - now) + 0.01)
            active = self._scale(job, st, active, now)
        self._write(job, st, active, pods)

    def _scale(self, job, st, active, now) -> list:
        spec = job.get("spec") or {}
        parallelism = spec.get("parallelism", 1)
        completions = spec.get("completions")
        want = parallelism
        if completions is not None:
            want = min(parallelism, completions - st.get("succeeded", 0))
        elif st.get("succeeded", 0):
            want = 0      # a work queue: once one pod succeeded, no new ones
        if len(active) > want:
            self._delete(job, sorted(active, key=lambda p: p["metadata"].get(
                "creationTimestamp") or "")[want:])
            return active[:want]
        missing = want - len(active)
        failures = st.get("failed", 0)
        if missing > 0 and failures:
            wait = min(BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)
            left = self.last_failure.get(job["metadata"]["uid"], 0.0) + wait - now
            if left > 0:
                self.queue.add_after(key_of(job), left)
                return active
        for _ in range(max(0, missing)):
            pod = pod_from_template(job, kind="Job", api_version="batch/v1")
            pod["metadata"].setdefault("finalizers", []).append(TRACKING)
            try:
                created = self.cluster.registry.create("pods", pod)
            except Exception as exc:
                self._event(job, "FailedCreate", f"Error creating: {exc}", "Warning")
                raise
            active.append(created)
            self._event(job, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return active

    def _fail(self, job, st, active, reason, message, stamp) -> None:
        self._set(st, "FailureTarget", reason, message, stamp)
        self._set(st, "Failed", reason, message, stamp)
        self._delete(job, active)
        self._event(job, reason, message, "Warning")

    def _delete(self, job, pods) -> None:
        for p in pods:
            try:
                self.cluster.registry.delete("pods", *key_of(p))
            except NotFound:
                continue
            self._event(job, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}")

    def _untrack(self, ns, pod) -> None:
        def drop(p):
            fins = [f for f in p["metadata"].get("finalizers") or [] if f != TRACKING]
            if len(fins) == len(p["metadata"].get("finalizers") or []):
                return False
            p["metadata"]["finalizers"] = fins
        self.cluster.registry.mutate("pods", ns, pod["metadata"]["name"], drop)

    async def _ttl(self, job, st) -> None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        done = st.get("completionTime") or (condition(job, "Failed") or {}).get("lastTransitionTime")
        if ttl is None or not done:
            return
        left = (self.cluster.clock.sim_at(done) or 0.0) + ttl - self.cluster.clock.elapsed()
        if left > 0:
            self.queue.add_after(key_of(job), left)
            return
        try:
            self.cluster.registry.delete(RES, *key_of(job), propagation="Background")
        except NotFound:
            pass

    @staticmethod
    def _set(st, typ, reason, message, stamp, status="True") -> None:
        set_condition(st, typ, status, reason, message, stamp, probe=True)

    def _write(self, job, st, active, pods) -> None:
        live = [p for p in active if not terminating(p)]
        if live:
            st["active"] = len(live)
        else:
            st.pop("active", None)
        st["ready"] = sum(1 for p in live if pod_ready(p))
        st["terminating"] = sum(1 for p in pods if terminating(p)
                                and (p.get("status") or {}).get("phase") not in ("Succeeded",
                                                                                 "Failed"))
        st.setdefault("uncountedTerminatedPods", {})
        write_status(self.cluster, RES, job, st)

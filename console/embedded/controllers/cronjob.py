"""CronJob controller, as kube-controller-manager's (pkg/controller/cronjob,
cronjob_controllerv2), on the simulated clock.

The schedule (console/embedded/cron.py, in spec.timeZone or UTC) is read on a
simulated calendar: the cluster's start plus simulated time, so `*/1 * * * *`
fires every simulated minute (every 3 s at --speed 20). At each due time it
creates the Job `<name>-<scheduled minutes since the epoch>` from jobTemplate
(the most recent missed time only; none once startingDeadlineSeconds has
passed), honours concurrencyPolicy (Forbid skips while a Job runs, Replace
deletes it first) and suspend, records status.active / lastScheduleTime (wall
clock, so `kubectl get cj` ages read true) / lastSuccessfulTime, and keeps
successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs. Events as the
real controller words them (SuccessfulCreate, SawCompletedJob, SuccessfulDelete,
JobAlreadyActive, UnexpectedJob).
"""

import copy
import zoneinfo
from datetime import datetime, timezone

from console.embedded.controllers.base import (Informer, WorkQueue, controller_ref, key_of,
                                               write_status)
from console.embedded.controllers.job import condition, finished
from console.embedded.cron import CronError, Schedule
from console.embedded.store import Conflict, NotFound

RES = "cronjobs.batch"
JOBS = "jobs.batch"
COMPONENT = "cronjob-controller"
SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"


class CronJobController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "cronjob", self.sync)
        self.last: dict[str, datetime] = {}      # cronjob uid -> last scheduled (sim calendar)
        informer.on(RES, self._on_cronjob)
        informer.on(JOBS, self._on_job)
        for cj in informer.all(RES):
            self.queue.add(key_of(cj))

    def _on_cronjob(self, ev) -> None:
        if ev.type == "DELETED":
            self.last.pop(ev.obj["metadata"].get("uid", ""), None)
            return
        self.queue.add(key_of(ev.obj))

    def _on_job(self, ev) -> None:
        ref = controller_ref(ev.obj)
        if ref and ref.get("kind") == "CronJob":
            found = self.inf.by_uid(ref.get("uid", ""))
            if found and found[0] == RES:
                self.queue.add(found[1:])

    def _event(self, cj, reason, message, type_="Normal") -> None:
        self.cluster.event(cj, reason, message, type_, component=COMPONENT)

    def _zone(self, cj):
        tz = (cj.get("spec") or {}).get("timeZone")
        try:
            return zoneinfo.ZoneInfo(tz) if tz else timezone.utc
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return None

    async def sync(self, key) -> None:
        cj = self.inf.get(RES, *key)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return
        spec = cj.get("spec") or {}
        uid = cj["metadata"]["uid"]
        jobs = [j for j in self.inf.controlled(uid, JOBS)]
        st = copy.deepcopy(cj.get("status") or {})
        self._reconcile_active(cj, st, jobs)
        self._history(cj, jobs)
        zone = self._zone(cj)
        try:
            schedule = Schedule(spec.get("schedule", ""))
        except CronError as exc:
            self._event(cj, "UnparseableSchedule", f"unparseable schedule: "
                        f"{spec.get('schedule')!r} : {exc}", "Warning")
            self._write(cj, st)
            return
        if zone is None:
            self._event(cj, "UnknownTimeZone", f"invalid timeZone: {spec.get('timeZone')!r}",
                        "Warning")
            self._write(cj, st)
            return
        now = self.cluster.clock.calendar().astimezone(zone)
        last = self.last.get(uid)
        if last is None:
            created = self.cluster.clock.sim_at(cj["metadata"].get("creationTimestamp"))
            last = self.cluster.clock.calendar(created)
            self.last[uid] = last
        last = last.astimezone(zone)
        due, t = None, schedule.next(last)
        while t is not None and t <= now:
            due, t = t, schedule.next(t)
        if t is not None:
            wait = (t - now).total_seconds()
            self.queue.add_after(key, max(0.01, wait))
        if due is None or spec.get("suspend"):
            if due is not None:
                self.last[uid] = due
            self._write(cj, st)
            return
        self.last[uid] = due
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and (now - due).total_seconds() > deadline:
            self._write(cj, st)
            return
        active = [j for j in jobs if not finished(j)]
        policy = spec.get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            self._event(cj, "JobAlreadyActive", "Not starting job because prior execution is "
                        "running and concurrency policy is Forbid")
            self._write(cj, st)
            return
        if active and policy == "Replace":
            for j in active:
                self._delete_job(cj, j)
            st["active"] = []
        self._create(cj, st, due)
        self._write(cj, st)

    def _create(self, cj, st, due: datetime) -> None:
        tmpl = (cj.get("spec") or {}).get("jobTemplate") or {}
        tmeta = tmpl.get("metadata") or {}
        name = f"{cj['metadata']['name']}-{int(due.timestamp() // 60)}"
        meta = {"name": name, "namespace": cj["metadata"].get("namespace") or "default",
                "labels": dict(tmeta.get("labels") or {}),
                "annotations": {**(tmeta.get("annotations") or {}),
                                SCHEDULED: due.astimezone(timezone.utc).strftime(
                                    "%Y-%m-%dT%H:%M:%SZ")},
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                                     "name": cj["metadata"]["name"], "uid": cj["metadata"]["uid"],
                                     "controller": True, "blockOwnerDeletion": True}]}
        body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta,
                "spec": copy.deepcopy(tmpl.get("spec") or {})}
        try:
            job = self.cluster.registry.create(JOBS, body)
        except Conflict:
            return      # this time's Job exists already
        except Exception as exc:
            self._event(cj, "FailedCreate", f"Error creating job: {exc}", "Warning")
            raise
        self._event(cj, "SuccessfulCreate", f"Created job {name}")
        st.setdefault("active", []).append(self._ref(job))
        st["lastScheduleTime"] = self.cluster.clock.stamp()

    @staticmethod
    def _ref(job) -> dict:
        m = job["metadata"]
        return {"kind": "Job", "namespace": m.get("namespace"), "name": m["name"],
                "uid": m.get("uid"), "apiVersion": "batch/v1",
                "resourceVersion": m.get("resourceVersion")}

    def _reconcile_active(self, cj, st, jobs) -> None:
        by_uid = {j["metadata"].get("uid"): j for j in jobs}
        keep = []
        for ref in st.get("active") or []:
            job = by_uid.get(ref.get("uid"))
            if job is None:
                continue
            if finished(job):
                how = "Complete" if condition(job, "Complete") else "Failed"
                self._event(cj, "SawCompletedJob", f"Saw completed job: {job['metadata']['name']}, "
                            f"condition: {how}")
                if how == "Complete":
                    st["lastSuccessfulTime"] = (job.get("status") or {}).get(
                        "completionTime") or self.cluster.clock.stamp()
                continue
            keep.append(ref)
        listed = {r.get("uid") for r in keep}
        for job in jobs:
            if not finished(job) and job["metadata"].get("uid") not in listed:
                keep.append(self._ref(job))
        if keep:
            st["active"] = keep
        else:
            st.pop("active", None)

    def _history(self, cj, jobs) -> None:
        spec = cj.get("spec") or {}
        for kind, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                            ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            done = sorted((j for j in jobs if condition(j, kind)),
                          key=lambda j: j["metadata"].get("creationTimestamp") or "")
            for job in done[:max(0, len(done) - (limit or 0))]:
                self._delete_job(cj, job)

    def _delete_job(self, cj, job) -> None:
        try:
            self.cluster.registry.delete(JOBS, *key_of(job), propagation="Background")
        except NotFound:
            return
        self._event(cj, "SuccessfulDelete", f"Deleted job {job['metadata']['name']}")

    def _write(self, cj, st) -> None:
        write_status(self.cluster, RES, cj, st)

"""`kubelab cluster --data DIR`: the store kept on disk, as etcd keeps a cluster's objects.

    DIR/objects.json    a snapshot: {"resourceVersion": N, "objects": {res: [obj, ...]}}
    DIR/journal.jsonl   every change since, one line each: {"rv", "type", "res", "obj"}
                        (a DELETED line carries only the object's key)

Loading reads the snapshot, then replays the journal; the resourceVersion counter
continues from the last change, so a client's resourceVersion from before a restart
still orders correctly (and, with the watch history gone, a watch from it gets 410
as from a restarted kube-apiserver's fresh watch cache). A torn last line (the
process killed mid-write) is dropped and logged.

Changes are written once per turn of the cluster's loop: a burst of writes is one
write(2) on an O_APPEND descriptor, so a SIGKILL loses at most the changes of the
turn it landed in, and nothing is lost when only the process dies (no fsync: a
power cut may lose what the kernel had not written yet, as with etcd's
--unsafe-no-fsync). The journal folds into a new snapshot once it passes
`compact_after` lines and at a clean stop. Files are 0600 in a 0700 directory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

log = logging.getLogger("kubelab.persist")

SNAPSHOT, JOURNAL = "objects.json", "journal.jsonl"
COMPACT_AFTER = 20_000


class DataError(Exception):
    """The data directory cannot be used (said in one line, naming the file)."""


def _key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


class Journal:
    def __init__(self, directory: str | Path, compact_after: int = COMPACT_AFTER):
        self.dir = Path(directory)
        self.compact_after = compact_after
        self._fd: int | None = None
        self._pending: list[bytes] = []
        self._lines = 0
        self._scheduled = False
        self._store = None
        self.restored = False       # objects were read from disk (a restart)

    # -- loading ---------------------------------------------------------------
    def load(self) -> tuple[dict[str, dict[tuple[str, str], dict]], int]:
        """(objects by resource and key, the last resourceVersion) from disk."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.dir, 0o700)
        except OSError as exc:
            raise DataError(f"{self.dir}: {exc.strerror or exc}") from None
        objs: dict[str, dict[tuple[str, str], dict]] = {}
        rv = 0
        snap = self.dir / SNAPSHOT
        if snap.exists():
            try:
                data = json.loads(snap.read_text())
                rv = int(data.get("resourceVersion") or 0)
                for res, items in (data.get("objects") or {}).items():
                    objs[res] = {_key(o): o for o in items}
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                raise DataError(f"{snap}: not a kubelab snapshot ({exc})") from None
            self.restored = True
        journal = self.dir / JOURNAL
        if journal.exists():
            try:
                lines = journal.read_bytes().split(b"\n")
            except OSError as exc:
                raise DataError(f"{journal}: {exc.strerror or exc}") from None
            good = 0           # bytes of whole lines
            for n, line in enumerate(lines, 1):
                if not line.strip():
                    good += len(line) + 1
                    continue
                try:
                    ev = json.loads(line)
                    res, obj, kind = ev["res"], ev["obj"], ev["type"]
                    rv = max(rv, int(ev["rv"]))
                except (ValueError, KeyError, TypeError):
                    if n >= len(lines) - 1:
                        log.warning("%s:%d: torn last line dropped (the process was killed "
                                    "while writing it)", journal, n)
                        os.truncate(journal, good)     # the next line starts clean
                        break
                    raise DataError(f"{journal}:{n}: not a journal line") from None
                good += len(line) + 1
                bucket = objs.setdefault(res, {})
                if kind == "DELETED":
                    bucket.pop(_key(obj), None)
                else:
                    bucket[_key(obj)] = obj
                self._lines += 1
            self.restored = self.restored or self._lines > 0
        return objs, rv

    # -- writing ---------------------------------------------------------------
    def attach(self, store) -> None:
        """Record the store's changes from now on."""
        self._store = store
        try:
            self._fd = os.open(self.dir / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DataError(f"{self.dir / JOURNAL}: {exc.strerror or exc}") from None

    def record(self, type_: str, res: str, obj: dict) -> None:
        meta = obj["metadata"]
        body = obj if type_ != "DELETED" else {"metadata": {
            "namespace": meta.get("namespace"), "name": meta.get("name")}}
        self._pending.append(json.dumps({"rv": int(meta.get("resourceVersion") or 0),
                                         "type": type_, "res": res, "obj": body},
                                        separators=(",", ":")).encode() + b"\n")
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._pending or self._fd is None:
            return
        data, self._pending = b"".join(self._pending), []
        self._lines += data.count(b"\n")
        try:
            os.write(self._fd, data)
        except OSError:
            log.exception("writing %s", self.dir / JOURNAL)
        if self._lines >= self.compact_after:
            self.snapshot()

    def snapshot(self) -> None:
        """Fold everything into objects.json and start an empty journal."""
        store = self._store
        if store is None:
            return
        self._pending_flush_only()
        tmp = self.dir / (SNAPSHOT + ".tmp")
        data = {"resourceVersion": store.resource_version,
                "objects": {res: list(store.scan(res)) for res in store.resources()}}
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, self.dir / SNAPSHOT)
            os.ftruncate(self._fd, 0)
            self._lines = 0
        except OSError:
            log.exception("writing %s", self.dir / SNAPSHOT)

    def _pending_flush_only(self) -> None:
        if self._pending and self._fd is not None:
            data, self._pending = b"".join(self._pending), []
            os.write(self._fd, data)

    def close(self) -> None:
        if self._fd is None:
            return
        self.flush()
        self.snapshot()
        os.close(self._fd)
        self._fd = None

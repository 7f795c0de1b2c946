"""A check that stored objects are never changed in place (tests turn it on).

The store hands its objects to events, informers and watchers without copying,
and a status write shares the unchanged rest of an object with the version
before it, so code that edits an object it got from the store, an informer or
an event changes what every other reader sees (and the next version too). With
KUBELAB_STORE_SEAL=FILE each object's encoding is kept when it is stored and
compared when it is replaced, removed, or the cluster stops; a difference is
logged and appended to FILE (the test suite fails on a non-empty one).
"""

import json
import logging
import os

import orjson

log = logging.getLogger("kubelab.store")
ENV = "KUBELAB_STORE_SEAL"


def _first_difference(was, now, path: str = "") -> str:
    if type(was) is dict and type(now) is dict:
        for k in list(was) + [k for k in now if k not in was]:
            if k not in now or k not in was or was[k] != now[k]:
                return _first_difference(was.get(k), now.get(k), f"{path}.{k}")
    if type(was) is list and type(now) is list and len(was) == len(now):
        for i, (a, b) in enumerate(zip(was, now)):
            if a != b:
                return _first_difference(a, b, f"{path}[{i}]")
    return f"{path or '.'}: {json.dumps(was)[:200]} -> {json.dumps(now)[:200]}"


class Seals:
    """Each stored object's encoding as it was stored, by identity."""

    def __init__(self, report: str):
        self.report = report
        self._by_id: dict[int, tuple[dict, bytes]] = {}   # the object is kept: ids stay unique

    @classmethod
    def from_env(cls) -> "Seals | None":
        path = os.environ.get(ENV)
        return cls(path) if path else None

    @staticmethod
    def _encode(obj: dict) -> bytes:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)

    def seal(self, obj: dict) -> None:
        self._by_id[id(obj)] = (obj, self._encode(obj))

    def check(self, res: str, obj: dict, forget: bool = True) -> None:
        entry = self._by_id.pop(id(obj), None) if forget else self._by_id.get(id(obj))
        if entry is None:
            return
        if self._encode(obj) == entry[1]:
            return
        meta = obj.get("metadata") or {}
        what = (f"{res} {meta.get('namespace') or ''}/{meta.get('name')} "
                f"rv {meta.get('resourceVersion')} changed in place after it was stored: "
                f"{_first_difference(json.loads(entry[1]), json.loads(self._encode(obj)))}")
        log.error("%s", what)
        with open(self.report, "a", encoding="utf-8") as f:
            f.write(what + "\n")

    def check_all(self) -> None:
        for obj, _ in list(self._by_id.values()):
            self.check("(stored)", obj, forget=False)

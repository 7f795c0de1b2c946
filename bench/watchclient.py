"""One watch client for bench/apiserver.py: lists pods of a namespace, then watches
from the list's resourceVersion as an informer does (a stream the server ends is
listed and watched again, counted), keeping name -> resourceVersion.

    python bench/watchclient.py SERVER TOKEN CAFILE NAMESPACE json|table

Prints "watching" once the watch is open; then reads one JSON line on stdin, the
store's pods as {name: resourceVersion}, waits (at most 60 s) until its own state
is the same, and prints one JSON line: when each event arrived (time.monotonic(),
which is system-wide on Linux) with its resourceVersion, the streams the server
ended, and whether (and how fast) it matched the store.
"""

import http.client
import json
import ssl
import sys
import threading
import time
from urllib.parse import urlsplit

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def main() -> int:
    server, token, cafile, namespace, mode = sys.argv[1:6]
    url = urlsplit(server)
    tls = ssl.create_default_context(cafile=cafile)
    headers = {"Authorization": f"Bearer {token}",
               "Accept": TABLE if mode == "table" else "application/json"}
    path = f"/api/v1/namespaces/{namespace}/pods"
    state: dict[str, str] = {}
    arrivals: list[tuple[float, int]] = []
    ended = [0]
    lock = threading.Lock()
    changed = threading.Condition(lock)
    opened = threading.Event()

    def meta_of(obj: dict) -> dict:
        if mode == "table":
            return obj["rows"][0]["object"]["metadata"] if obj.get("rows") else {}
        return obj["metadata"]

    def relist(conn) -> str:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = json.loads(resp.read())
        items = [r["object"]["metadata"] for r in body.get("rows", [])] if mode == "table" else \
            [o["metadata"] for o in body["items"]]
        with lock:
            state.clear()
            state.update((m["name"], m["resourceVersion"]) for m in items)
            changed.notify_all()
        return body["metadata"]["resourceVersion"]

    def run() -> None:
        while True:
            conn = http.client.HTTPSConnection(url.hostname, url.port, context=tls, timeout=300)
            rv = relist(conn)
            conn.request("GET", f"{path}?watch=1&allowWatchBookmarks=true&resourceVersion={rv}",
                         headers=headers)
            resp = conn.getresponse()
            opened.set()
            while True:
                line = resp.readline()
                if not line:
                    break
                now = time.monotonic()
                ev = json.loads(line)
                if ev["type"] == "ERROR":
                    break
                meta = meta_of(ev["object"])
                if ev["type"] == "BOOKMARK" or not meta:
                    continue
                with lock:
                    arrivals.append((now, int(meta["resourceVersion"])))
                    if ev["type"] == "DELETED":
                        state.pop(meta["name"], None)
                    else:
                        state[meta["name"]] = meta["resourceVersion"]
                    changed.notify_all()
            ended[0] += 1
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    if not opened.wait(120):
        print(json.dumps({"error": "the watch did not open in 120 s"}), flush=True)
        return 1
    print("watching", flush=True)
    want = json.loads(sys.stdin.readline())
    t0 = time.monotonic()
    with lock:
        same = changed.wait_for(lambda: state == want, timeout=60)
        missing = sum(1 for k, v in want.items() if state.get(k) != v)
        extra = sum(1 for k in state if k not in want)
        out = {"arrivals": arrivals, "ended": ended[0], "same": same,
               "catch_up": time.monotonic() - t0, "missing": missing, "extra": extra}
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The load generator: siege's command line and summary on an asyncio engine.

For other parts of kubelab (scenario runner, console):

    from console.loadgen.options import parse        # siege argv -> Spec (UsageError on bad input)
    from console.loadgen.engine import Engine        # in-process: await Engine(spec).run()
    from console.loadgen.worker import LoadWorker    # child process: start/snapshots/stop/result
    from console.loadgen import runlog, summary      # runs.jsonl (RunLog: as the run goes); siege's summary

Engine.snapshot() / LoadWorker.snapshots() dicts: elapsed, requests, transactions,
successful, failed, availability, rps, latency{p50,p90,p95,p99,p99.9,max,mean},
last_second, status_codes, errors, in_flight, late_sends, dropped_sends, cpu_percent, workers (processes).
Engine.result(): siege's twelve keys (transactions, availability, elapsed_time, ...),
then latency, status_codes, errors, requests, request_rate, late/dropped sends, mode,
keepalive, workers, aborted, interrupted, started_at, urls, bottleneck (open loop: "generator",
"in-flight" or None), series (one entry per second).
"""

from console.loadgen import native

native.choose()  # the compiled hot path, or its plain Python (KUBELAB_PURE=1, a stale build)

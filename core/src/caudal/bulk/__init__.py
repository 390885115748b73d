"""Bulk refresh: one capability of one connector over many inputs, within the provider's quota.

    from caudal import registry
    from caudal.bulk import JsonlSink, run

    conn = registry.get("afc.cl", max_attempts=1)   # every retry is the engine's
    with JsonlSink("balances.jsonl", resume=True) as sink:
        summary = run(conn, "balance", "accounts.jsonl", sink, rate=5, concurrency=16)

Each input (`{"id": ..., "params": {...}}`) gets exactly one outcome line in the sink,
`{"id", "status": "ok" | "error" | "challenge", "records", "error", "challenge"}`; the sink is
also the checkpoint, so a killed run started again with `resume=True` skips what is done and
writes no id twice. Retries follow each error's advice without holding a concurrency slot;
challenges are collected for the host app to answer. Beyond one machine, `run_on_celery`
runs the same job as Celery tasks on Redis workers (`caudal worker`). See docs/bulk.md.
"""

from ._celery import TASK, VISIBILITY_TIMEOUT_ENV, Job, celery_app, job_id, run_on_celery
from ._engine import Retries, Summary, arun, retry_delay, run
from ._inputs import (
    MAX_ID_LENGTH,
    MAX_LINE_BYTES,
    BulkInput,
    count_inputs,
    exact_json,
    read_jsonl,
)
from ._limit import RateLimit, RateLimiter, credential_key
from ._outcome import Outcome, Status
from ._redis import RedisSink
from ._sinks import JsonlSink, Sink, SqliteSink, open_sink

__all__ = [
    "TASK",
    "VISIBILITY_TIMEOUT_ENV",
    "Job",
    "RedisSink",
    "celery_app",
    "exact_json",
    "job_id",
    "run_on_celery",
    "MAX_ID_LENGTH",
    "MAX_LINE_BYTES",
    "BulkInput",
    "JsonlSink",
    "Outcome",
    "RateLimit",
    "RateLimiter",
    "Retries",
    "Sink",
    "SqliteSink",
    "Status",
    "Summary",
    "arun",
    "count_inputs",
    "credential_key",
    "open_sink",
    "read_jsonl",
    "retry_delay",
    "run",
]

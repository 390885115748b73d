"""OpenTelemetry: a span per capability call and counters, read back with the SDK's in-memory
exporter and reader, against the sandbox over real HTTP."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from caudal import ProviderError
from caudal.bulk import BulkInput, JsonlSink, Retries, run
from caudal.sandbox import Sandbox, serve

SPANS = InMemorySpanExporter()
METRICS = InMemoryMetricReader()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # The global providers can be set once per process: this module's exporters stay installed
    # (spans of later tests land in memory, cleared here), which changes nothing else.
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[METRICS]))
    with serve() as running:
        yield running
    SPANS.clear()


def _counters() -> dict[tuple[str, tuple[tuple[str, Any], ...]], int]:
    found = {}
    data = METRICS.get_metrics_data()
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    found[(metric.name, tuple(sorted(point.attributes.items())))] = point.value
    return found


def test_a_span_per_call_with_attempts_and_error_type(sandbox: Sandbox) -> None:
    SPANS.clear()
    conn = sandbox.connect("afc.cl", max_attempts=3, backoff=0.01)
    conn.balance(credential={"Username": "flaky-1-otel", "Password": "pw"})
    with pytest.raises(ProviderError):
        conn.balance(credential={"Username": "error-E401-otel", "Password": "secret-otel-pw"})
    ok, failed = SPANS.get_finished_spans()
    assert ok.name == "caudal.call"
    assert dict(ok.attributes or {}) == {
        "caudal.connector": "afc.cl",
        "caudal.capability": "balance",
        "caudal.attempts": 2,  # flaky-1: one refused attempt, then the answer
    }
    assert dict(failed.attributes or {})["error.type"] == "ProviderError"
    assert dict(failed.attributes or {})["caudal.attempts"] == 1
    assert "secret-otel-pw" not in str([dict(s.attributes or {}) for s in (ok, failed)])
    where = (("caudal.capability", "balance"), ("caudal.connector", "afc.cl"))
    counters = _counters()
    assert counters[("caudal.calls", where)] >= 2
    assert counters[("caudal.retries", where)] >= 1
    errors = tuple(sorted((*where, ("error.type", "ProviderError"))))
    assert counters[("caudal.errors", errors)] >= 1


def test_bulk_counts_rescheduled_retries_and_rate_limit_waits(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    before = _counters()
    conn = sandbox.connect("afc.cl", max_attempts=1)
    inputs = [
        BulkInput(f"w{i}", {"credential": {"Username": f"w{i}", "Password": "pw"}})
        for i in range(4)
    ]
    inputs.append(
        BulkInput("limited", {"credential": {"Username": "http-429-otel", "Password": "pw"}})
    )
    with JsonlSink(tmp_path / "out.jsonl") as sink:
        run(conn, "balance", inputs, sink, rate=20, retries=Retries(max_attempts=2))
    after = _counters()
    waits = ("caudal.rate_limit.waits", (("caudal.connector", "afc.cl"),))
    retries = ("caudal.retries", (("caudal.capability", "balance"), ("caudal.connector", "afc.cl")))
    assert after[waits] > before.get(waits, 0)
    assert after[retries] == before.get(retries, 0) + 1


def test_without_opentelemetry_it_is_a_no_op() -> None:
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from caudal import _telemetry as t\n"
        "with t.call_span('c', 'balance'):\n"
        "    t.retried('c', 'balance'); t.rate_limit_waited('c', 1.0)\n"
        "print(t._otel())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"

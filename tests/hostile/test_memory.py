"""Peak memory per byte of body, for every connector capability and the webhook receiver, for
every hostile shape (`caudal.testing.hostile`) and valid bodies, mixed ones included.

Measured in processes of their own from the kernel's peak-RSS mark (reset before each body):
`measure.py` for `conn.parse` (the runtimes run the same `read_reply`), a uvicorn process for the
webhook receiver. `make test` runs one small size; `make hostile-bodies` (CAUDAL_HOSTILE_FULL=1)
runs sizes up to the default `max_response_bytes` (32 MiB) and the receiver's 8 MiB limit, and
prints the largest ratio.

The bound is `RATIO` times the body plus `CONSTANT`, the issue's aim. Validation collects at most
a fixed number of errors however many items are bad, and decoding is metered (`caudal._json`):
a body over 128 KiB whose tree would pass 9 bytes per byte is refused before it is built. The
densest JSON would otherwise cost 33 bytes per byte (`[0.1,0.1,…]`: a 104-byte Decimal per 4
bytes of text; `[{},{},…]`: a 64-byte dict per 3), against one to six for a provider's
records. Records' lists are validated item by item as records are built, so a body of valid
records holds its tree and its records, not also every raw model. History: 360x at 0.5 MB and
4.6 GB at 1.4 MB before validation failed fast; 33x before the meter; 14x for valid records
before lists were streamed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from caudal import Pending, registry
from caudal.testing import hostile

from . import receiver
from .targets import OPERATION_ID, TARGETS

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("CAUDAL_HOSTILE_FULL") == "1"

RATIO = 10
"""Peak bytes per byte of any body, hostile (refused) or of valid records (mapped, or refused at
its last item), beyond `CONSTANT`: the issue's aim. Measured up to 9.3 for hostile bodies and
7.0 for valid records (the records alone are 4.5 to 6.6 bytes per byte of body)."""
CONSTANT = 6 * 1024 * 1024
"""What a body costs whatever its size (a page of the allocator, pydantic's error objects)."""

SIZES = [1 << 20, 8 << 20, 32 << 20] if FULL else [256 << 10]
RECEIVER_SIZES = [1 << 20, (8 << 20) - 4096] if FULL else [256 << 10]
SHAPES = [*hostile.SHAPES, "valid", "valid_then_bad"]


def _cases(size: int) -> list[list[Any]]:
    cases = []
    for target in TARGETS:
        name = f"{target.connector}:{target.capability}"
        for shape in SHAPES:
            cases.append([name, "list", shape, size])
            if target.frame != b"@@" and shape in hostile.SHAPES:
                cases.append([name, "top", shape, size])
    return cases


def _measure(cases: list[list[Any]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.hostile.measure", json.dumps(cases)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def _valid(row: dict[str, Any]) -> bool:
    return row["case"][-2] in ("valid", "valid_then_bad")  # the shape, in both kinds of case


def _bound(row: dict[str, Any]) -> int:
    return RATIO * row["bytes"] + CONSTANT


def _check(rows: list[dict[str, Any]], what: str) -> None:
    for kind, chosen in (("hostile", False), ("valid records", True)):
        group = [r for r in rows if _valid(r) == chosen]
        worst = max(group, key=lambda r: r["ratio"])
        print(f"\n{what}, {kind}: {len(group)} bodies, largest peak/body {worst['ratio']:.1f}")
        print(f"  ({worst['case']})")
    over = [r for r in rows if r["peak"] > _bound(r)]
    assert not over, "\n".join(json.dumps(r) for r in over)


@pytest.mark.parametrize("size", SIZES)
def test_parse_memory_is_bounded_by_the_body(size: int) -> None:
    rows = _measure(_cases(size))
    assert len(rows) == len(_cases(size))
    for row in rows:  # a hostile body is refused with a typed error, a valid one mapped
        _, _, shape, _ = row["case"]
        expected = "result" if shape == "valid" else ("MappingError", "ProviderError")
        assert row["outcome"] in expected, row
    _check(rows, f"conn.parse at {size} bytes")


RECORDS_RATIO = 8
"""Bytes of Python objects alive at the peak of mapping a body of valid records, per byte of
body (`tracemalloc`, no allocator slack): the records alone are 4.5 to 6.6, measured up to 6.9;
with every raw model alive at once as well it was 10.9 to 14.4."""


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.connector}:{t.capability}")
def test_valid_records_are_mapped_without_every_raw_model_alive(target: Any) -> None:
    """The peak RSS bound above needs large bodies to see past its constant; this one does not,
    so `make test` catches a reader that validates a whole list before building records."""
    conn = registry.get(target.connector)
    body = hostile.framed(target.frame, hostile.repeated(target.item, 1 << 20))
    conn.parse(target.capability, hostile.framed(target.frame, b"[]"))  # validators, caches
    tracemalloc.start()
    try:
        result = conn.parse(target.capability, body)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.items
    assert peak <= RECORDS_RATIO * len(body), peak / len(body)


# -- the webhook receiver ---------------------------------------------------------------------


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(field)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def running_receiver(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    port, db = _free_port(), str(tmp_path / "hooks.sqlite3")
    env = {**os.environ, "CAUDAL_HOSTILE_DB": db, "MALLOC_MMAP_THRESHOLD_": "131072"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "tests.hostile.receiver:make_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        end = time.monotonic() + 30
        while True:
            assert process.poll() is None and time.monotonic() < end, "receiver did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield process, port, db
    finally:
        process.kill()
        process.wait()


def _callback_path(db: str, connector: str, capability: str) -> str:
    issuing = receiver.app(db)
    url, ticket = issuing.callback_url(connector, capability)
    deadline = datetime.now(UTC) + timedelta(hours=1)
    issuing.expect(
        ticket,
        Pending(
            connector=connector, capability=capability, operation_id=OPERATION_ID, deadline=deadline
        ),
    )
    return url.removeprefix(receiver.PUBLIC_URL)


def test_receiver_memory_is_bounded_by_the_body(
    running_receiver: tuple[subprocess.Popen[bytes], int, str],
) -> None:
    process, port, db = running_receiver
    rows = []
    khipu = [t for t in TARGETS if t.connector != "belvo.br"]  # Khipu delivers callbacks
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        paths = {t: _callback_path(db, t.connector, t.capability) for t in khipu}
        for target in khipu:  # warm up: validators, currency table, first connections
            client.post(paths[target], content=hostile.framed(target.frame, b"[0]"))
        for size in RECEIVER_SIZES:
            for target in khipu:
                for shape in [*hostile.SHAPES, "valid_then_bad"]:
                    if shape == "valid_then_bad":
                        inner = hostile.repeated(target.item, size - 200, last=b"0")
                    else:
                        inner = hostile.body(shape, size - 200)
                    body = hostile.framed(target.frame, inner)
                    Path(f"/proc/{process.pid}/clear_refs").write_text("5")
                    before = _status(process.pid, "VmRSS")
                    answer = client.post(paths[target], content=body)
                    peak = _status(process.pid, "VmHWM") - before
                    assert answer.status_code == 422, (shape, answer.status_code, answer.text)
                    case = [f"{target.connector}:{target.capability}", shape, size]
                    rows.append(
                        {"case": case, "bytes": len(body), "peak": peak, "ratio": peak / len(body)}
                    )
    for size in RECEIVER_SIZES:  # apart: at 1 MiB the constant weighs as much as the body
        _check([r for r in rows if r["case"][-1] == size], f"webhook receiver at {size} bytes")

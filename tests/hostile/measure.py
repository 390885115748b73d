"""Child process: parse hostile bodies and report each one's peak memory over the body.

    python -m tests.hostile.measure '[["afc.cl:balance", "list", "zeros", 1048576], ...]'

For each case the body is built first, then the kernel's peak-RSS mark is reset
(`/proc/self/clear_refs`, 5) and the peak reached while `conn.parse` runs is read back
(`VmHWM`): the figure is memory beyond the body itself. One JSON line per case on stdout.
"""

from __future__ import annotations

import ctypes
import gc
import json
import sys
import time
from typing import Any

from caudal import CaudalError, registry
from caudal.testing import hostile

from .targets import BY_NAME, Target

_LIBC = ctypes.CDLL("libc.so.6")


def status(field: str) -> int:
    """A `/proc/self/status` memory field, in bytes."""
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def settle() -> None:
    """Free what the previous case left and reset the peak mark to the current RSS."""
    gc.collect()
    _LIBC.malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def build(target: Target, where: str, shape: str, size: int) -> bytes:
    """The case's body: a shape at the top or in the list, or valid items (then a bad one)."""
    if shape == "valid":
        inner = hostile.repeated(target.item, size)
    elif shape == "valid_then_bad":
        inner = hostile.repeated(target.item, size, last=b"0")
    else:
        inner = hostile.body(shape, size)
    return inner if where == "top" else hostile.framed(target.frame, inner)


def run(case: list[Any], connectors: dict[str, Any]) -> dict[str, Any]:
    name, where, shape, size = case
    target = BY_NAME[name]
    body = build(target, where, shape, size)
    conn = connectors[target.connector]
    settle()
    before = status("VmRSS")
    started = time.perf_counter()
    try:
        result = conn.parse(target.capability, body)
        outcome, records = "result", len(result.items)
        del result
    except CaudalError as exc:
        outcome, records = type(exc).__name__, 0
    seconds = time.perf_counter() - started
    peak = status("VmHWM") - before
    return {
        "case": case,
        "bytes": len(body),
        "peak": peak,
        "ratio": peak / len(body),
        "outcome": outcome,
        "records": records,
        "seconds": round(seconds, 3),
    }


def main() -> None:
    cases = json.loads(sys.argv[1])
    connectors = {
        name: registry.get(name) for name in sorted({BY_NAME[c[0]].connector for c in cases})
    }
    # First use builds validators, imports the currency table, fills caches: not the body's.
    for target in {BY_NAME[c[0]] for c in cases}:
        for shape in ("valid", "zeros"):
            run([f"{target.connector}:{target.capability}", "list", shape, 4096], connectors)
    for case in cases:
        print(json.dumps(run(case, connectors)), flush=True)


if __name__ == "__main__":
    main()

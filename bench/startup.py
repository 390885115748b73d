"""Start-up, discovery and the CLI, each measured in fresh subprocesses (medians).

- import: `python -X importtime -c "import caudal"`, the cumulative time of the modules the
  statement imports (interpreter start-up excluded), vs the same for `import httpx, pydantic`;
- discovery: `registry.names()` and `registry.get("afc.cl")` with 200 extra installed connector
  distributions (dist-info directories on `sys.path`) vs none; `names()` vs a bare
  `importlib.metadata.entry_points(group="caudal.connectors")` scan in the same environment;
  which plugin modules each one imports;
- CLI: `caudal --help` and `caudal list` wall time vs `python -c "import caudal"`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ._core import Entry, Results

__all__ = ["run"]

DUMMIES = 200


# As a host app runs: byte-compiled modules are written and reused (an environment that forbids
# writing them would time the compiler, not the imports).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        env={**_ENV, **(env or {})},
        timeout=120,
        check=True,
    )


def _importtime(statement: str) -> float:
    """Milliseconds `statement` spends importing, from `-X importtime` (start-up excluded)."""

    def top_level(stderr: str) -> dict[str, int]:
        found = {}
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            _, cumulative, name = line.split("|", 2)
            if name.startswith(" ") and not name.startswith("  ") and cumulative.strip().isdigit():
                found[name.strip()] = int(cumulative)
        return found

    startup = top_level(_run([sys.executable, "-X", "importtime", "-c", "pass"]).stderr)
    mine = top_level(_run([sys.executable, "-X", "importtime", "-c", statement]).stderr)
    return sum(us for name, us in mine.items() if name not in startup) / 1e3


def _wall(args: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    _run(args, env)
    return (time.perf_counter() - start) * 1e3


def _medians(timers: list[Callable[[], float]], runs: int) -> list[float]:
    """The median of each timer, the timers taking turns (a figure and its baseline see the
    same drift in the machine's load)."""
    samples: list[list[float]] = [[] for _ in timers]
    for _ in range(runs):
        for timer, taken in zip(timers, samples, strict=True):
            taken.append(timer())
    return [statistics.median(taken) for taken in samples]


def _dummies(root: Path, count: int) -> None:
    """`count` installed connector distributions: dist-info metadata and a module each."""
    for i in range(count):
        module = f"caudal_dummy_{i:03d}"
        info = root / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: caudal-dummy-{i:03d}\nVersion: 1.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[caudal.connectors]\ndummy{i:03d}.xx = {module}:Connector\n", encoding="utf-8"
        )
        (root / f"{module}.py").write_text("Connector = None\n", encoding="utf-8")


_PROBE = """
import importlib.metadata, json, sys, time
PLUGINS = ("caudal_khipu", "caudal_belvo", "caudal_dummy_")
def plugins():
    return sorted({m.split(".")[0] for m in sys.modules if m.startswith(PLUGINS)})
what = sys.argv[1]
if what == "scan":
    start = time.perf_counter()
    names = sorted({p.name for p in importlib.metadata.entry_points(group="caudal.connectors")})
elif what == "names":
    import caudal
    start = time.perf_counter()
    names = caudal.registry.names()
else:
    import caudal
    start = time.perf_counter()
    conn = caudal.registry.get("afc.cl", base_url="http://127.0.0.1:9", api_key="bench")
    names = [conn.name]
took = time.perf_counter() - start
print(json.dumps({"ms": took * 1e3, "count": len(names), "plugins": plugins()}))
"""


def _probe(what: str, path: str | None) -> dict[str, object]:
    env = {"PYTHONPATH": path} if path else {"PYTHONPATH": ""}
    out = _run([sys.executable, "-c", _PROBE, what], env).stdout
    result: dict[str, object] = json.loads(out)
    return result


def _probes(
    whats: tuple[str, ...], path: str | None, runs: int
) -> list[tuple[float, dict[str, object]]]:
    """Median time of each probe, the probes taking turns: drift in the machine's load (a
    freshly written directory, another process) hits each of them alike."""
    samples: dict[str, list[dict[str, object]]] = {what: [] for what in whats}
    for _ in range(runs):
        for what in whats:
            samples[what].append(_probe(what, path))
    return [
        (statistics.median(float(s["ms"]) for s in samples[w]), samples[w][-1])  # type: ignore[arg-type]
        for w in whats
    ]


def imports(results: Results, runs: int) -> None:
    caudal, base = _medians(
        [lambda: _importtime("import caudal"), lambda: _importtime("import httpx, pydantic")], runs
    )
    results.add(
        Entry(
            "start-up: import caudal (importtime)",
            caudal,
            "ms",
            goal_op="<=",
            goal=150,
            goal_on="value",
        )
    )
    results.add(
        Entry(
            "start-up: import caudal vs import httpx, pydantic",
            caudal,
            "ms",
            baseline=base,
            baseline_name="import httpx, pydantic",
            goal_op="<=",
            goal=1.3,
        )
    )


def discovery(results: Results, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="caudal-bench-") as tmp:
        _dummies(Path(tmp), DUMMIES)
        (names_with, names_probe), (scan_with, scan_probe), (get_with, get_probe) = _probes(
            ("names", "scan", "get"), tmp, runs
        )
    (names_none, _), (get_none, _) = _probes(("names", "get"), None, runs)
    assert names_probe["count"] == scan_probe["count"], (names_probe, scan_probe)
    extra = f"+{DUMMIES} dummy connector distributions"
    results.add(
        Entry(
            f"discovery: registry.names() {extra} vs bare entry_points scan",
            names_with,
            "ms",
            baseline=scan_with,
            baseline_name="importlib.metadata.entry_points(group=...)",
            goal_op="<=",
            goal=1.5,
        )
    )
    results.add(
        Entry(
            f"discovery: registry.names() {extra} vs none",
            names_with,
            "ms",
            baseline=names_none,
            baseline_name="names() without the dummies",
        )
    )
    results.add(
        Entry(
            f"discovery: plugins imported by names() {extra}",
            len(names_probe["plugins"]),  # type: ignore[arg-type]
            "plugins",
            goal_op="<=",
            goal=0,
            goal_on="value",
            note=", ".join(names_probe["plugins"]) or "none",  # type: ignore[arg-type]
        )
    )
    results.add(
        Entry(
            f"discovery: registry.get('afc.cl') {extra} vs none",
            get_with,
            "ms",
            baseline=get_none,
            baseline_name="get() without the dummies",
        )
    )
    imported = list(get_probe["plugins"])  # type: ignore[call-overload]
    results.add(
        Entry(
            f"discovery: plugins imported by get('afc.cl') {extra}",
            len(imported),
            "plugins",
            goal_op="==",
            goal=1,
            goal_on="value",
            note=", ".join(imported),
        )
    )
    if imported != ["caudal_khipu"]:
        results.entries[f"discovery: plugins imported by get('afc.cl') {extra}"].met = False


def cli(results: Results, runs: int) -> None:
    script = Path(sys.executable).with_name("caudal")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "caudal.cli"]
    base, *took = _medians(
        [
            lambda: _wall([sys.executable, "-c", "import caudal"]),
            lambda: _wall([*command, "--help"]),
            lambda: _wall([*command, "list"]),
        ],
        runs,
    )
    for args, ms in zip((["--help"], ["list"]), took, strict=True):
        results.add(
            Entry(
                f"cli: caudal {' '.join(args)}",
                ms,
                "ms",
                baseline=base,
                baseline_name='python -c "import caudal"',
                goal_op="<=",
                goal=2.0,
            )
        )


def _warm() -> None:
    """Every measured command once, so each has its byte-compiled modules on disk."""
    script = Path(sys.executable).with_name("caudal")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "caudal.cli"]
    _run([sys.executable, "-c", "import caudal, httpx, pydantic"])
    _run([*command, "--help"])
    _run([*command, "list"])
    _probe("get", None)


def run(results: Results, *, smoke: bool) -> None:
    runs = 1 if smoke else 7
    _warm()
    imports(results, runs)
    discovery(results, runs)
    cli(results, runs)

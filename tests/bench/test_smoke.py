"""The benchmark suite at tiny sizes: every case runs and writes its entry (no timing asserted).

`make bench` measures; this only keeps the benchmarks from rotting, and checks that every
capability of every installed connector has a mapping case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from caudal import registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "case" in done.stdout  # the table was printed
    data: dict[str, dict[str, object]] = json.loads(out.read_text(encoding="utf-8"))
    return data


def _names(results: dict[str, dict[str, object]], prefix: str) -> list[str]:
    return [name for name in results if name.startswith(prefix)]


def test_every_entry_has_a_value(results: dict[str, dict[str, object]]) -> None:
    assert results["_meta"]["command"] == "python -m bench --smoke"
    for name, entry in results.items():
        if name == "_meta":
            continue
        assert isinstance(entry["value"], int | float), name
        assert {"value", "unit", "ratio", "baseline", "goal", "met"} <= entry.keys(), name


def test_every_capability_of_every_connector_has_mapping_cases(
    results: dict[str, dict[str, object]],
) -> None:
    for connector in registry.names():
        for capability in registry.about(connector).capabilities:
            prefix = f"mapping {connector} {capability}, "
            found = _names(results, prefix)
            assert any(n.endswith("in 1 body: vs reference") for n in found), prefix
            assert any(n.endswith("in 1 body: vs ceiling") for n in found), prefix
            assert any("pages of" in n and n.endswith("vs reference") for n in found), prefix
            assert any(n.endswith("peak memory") for n in found), prefix


@pytest.mark.parametrize(
    "prefix",
    [
        "call overhead sync: belvo.br balance",
        "fan-out async: ",
        "fan-out async, ",
        "start-up: import caudal (importtime)",
        "start-up: import caudal vs import httpx, pydantic",
        "discovery: registry.names() +200 dummy connector distributions vs bare",
        "discovery: plugins imported by names()",
        "discovery: registry.get('afc.cl')",
        "discovery: plugins imported by get('afc.cl')",
        "cli: caudal --help",
        "cli: caudal list",
        "streaming belvo.br transactions: peak memory",
        "bulk ceiling: ",
        "bulk rate limit R=",
        "bulk peak memory, ",
        "bulk kill and resume, ",
    ],
)
def test_case_ran(results: dict[str, dict[str, object]], prefix: str) -> None:
    assert _names(results, prefix), f"no entry starting with {prefix!r}"

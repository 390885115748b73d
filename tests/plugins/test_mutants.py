"""The bundled plugins' conformance suites, on their own, kill every catalogued mutant.

Each mutant of the core's catalogue (tests/core/mutants.py) is applied to the real mapping of
afc.cl balance and contributions, bancosecurity.cl balance and loans, and belvo.br balance,
accounts and transactions,
and the conformance suite each plugin's tests build (same bodies, same settings, same example
counts) must fail a declaration-driven property: conservation, perturbation, scale, sign and
kind, or nulls. The golden examples and the plugins' hand-written tests are not counted.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from caudal import Connector
from caudal.provenance import declared
from caudal_belvo import BelvoBrConnector
from caudal_khipu.afc import AfcConnector
from caudal_khipu.bancosecurity import BancoSecurityConnector

from ..core.mutants import CATALOGUE, Verdict, killed, table, write_section
from .belvo import test_mapping as belvo
from .khipu import test_mapping as khipu

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing-kit-mutants.md"

CONNECTORS: dict[str, type[Connector]] = {
    "afc.cl": AfcConnector,
    "bancosecurity.cl": BancoSecurityConnector,
    "belvo.br": BelvoBrConnector,
}


def _arguments(name: str, capability: str) -> dict[str, Any]:
    if name == "belvo.br":
        return {
            "bodies": belvo.BODIES[capability],
            "examples": belvo.GOLDEN[capability],
            "offline": dict(belvo.CREDENTIALS),
            "max_examples": 100,
        }
    args = khipu.suite_arguments(name)
    return {
        "bodies": args["bodies"][capability],
        "examples": args["examples"][capability],
        "offline": dict(args["settings"]),
        "max_examples": args["max_examples"],
    }


CASES = [
    (name, capability, mutant.name)
    for name, connector in CONNECTORS.items()
    for capability, prov in sorted(declared(connector).items())
    for mutant in CATALOGUE
    if mutant.applies(prov)
]


VERDICTS: dict[tuple[str, str, str], Verdict] = {}


def _verdict(name: str, capability: str, mutant: str) -> Verdict:
    if (name, capability, mutant) not in VERDICTS:
        connector = CONNECTORS[name]
        prov = declared(connector)[capability]
        bug = next(m for m in CATALOGUE if m.name == mutant)
        VERDICTS[(name, capability, mutant)] = killed(
            connector, prov, bug, **_arguments(name, capability)
        )
    return VERDICTS[(name, capability, mutant)]


@pytest.mark.parametrize(("name", "capability", "mutant"), CASES)
def test_the_plugin_suite_kills_the_mutant(name: str, capability: str, mutant: str) -> None:
    verdict = _verdict(name, capability, mutant)
    assert verdict.prop is not None or verdict.equivalent, (
        f"{name} {capability}: mutant {mutant!r} survived the conformance suite"
    )


def test_zz_the_plugin_mutant_table(capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = []
    for name, capability, mutant in CASES:
        v = _verdict(name, capability, mutant)
        verdicts.append(replace(v, mutant=f"{name} {capability}: {v.mutant}"))
    text = table(verdicts, first="connector, capability: mutant")
    with capsys.disabled():
        print("\n" + text)
    if os.environ.get("CAUDAL_WRITE_MUTANT_DOC") == "1":
        write_section(DOC, "plugins", text)
    committed = DOC.read_text(encoding="utf-8")
    for v in verdicts:
        assert f"| {v.mutant} | " in committed, f"{DOC.name} is stale: make mutants"
    assert "**survived**" not in committed


def test_every_capability_of_the_bundled_plugins_is_covered() -> None:
    covered = {(n, c) for n, c, _ in CASES}
    assert covered == {
        ("afc.cl", "balance"),
        ("afc.cl", "contributions"),
        ("bancosecurity.cl", "balance"),
        ("bancosecurity.cl", "loans"),
        ("belvo.br", "accounts"),
        ("belvo.br", "balance"),
        ("belvo.br", "transactions"),
    }

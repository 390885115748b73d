"""The test kit proves its power: the toy ledger (minor units, a sign indicator, a kind table)
passes its conformance suite, and every catalogued wrong-figure bug fails it.

The table of mutants, the property that failed and its message is printed (`-s`) and, with
`CAUDAL_WRITE_MUTANT_DOC=1` (`make mutants`), written to docs/testing-kit-mutants.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from caudal.model import currency_codes, minor_units
from caudal.sandbox import Emulator
from caudal.testing import conformance_suite, strategies

from .mutants import CATALOGUE, Verdict, killed, table, write_section
from .toy import LEDGER_EXAMPLE, LEDGER_PROVENANCE, TOY_KINDS, RawLedger, ToyLedgerConnector

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing-kit-mutants.md"
EXAMPLES = 60

MINOR_CURRENCIES = sorted(c for c in currency_codes() if minor_units(c) is not None)

LEDGER_BODIES = strategies.from_model(
    RawLedger,
    {
        "entries.amount_minor": st.one_of(st.integers(0, 10**6), st.integers(0, 10**20)),
        "entries.currency": st.sampled_from(MINOR_CURRENCIES),
        "entries.type": st.one_of(st.sampled_from(sorted(TOY_KINDS)), st.text(max_size=8)),
    },
)
"""Every currency with an ISO 4217 exponent: the conversion must hold for each (no false
failure on a correct conversion, the reported case)."""

OFFLINE: dict[str, Any] = {}

_suite = conformance_suite(
    ToyLedgerConnector,
    Emulator(name="none", routes=[], settings={}),
    bodies={"balance": LEDGER_BODIES},
    examples={"balance": [LEDGER_EXAMPLE]},
    settings=OFFLINE,
    max_examples=EXAMPLES,
)

TestToyLedgerConformance = type(
    "TestToyLedgerConformance",
    (),
    {k: v for k, v in vars(_suite).items() if k.startswith("test_balance_")},
)
"""The mapping part of the suite (the toy is not an installed plugin, nor served)."""


def _verdict(name: str) -> Verdict:
    mutant = next(m for m in CATALOGUE if m.name == name)
    return killed(
        ToyLedgerConnector,
        LEDGER_PROVENANCE,
        mutant,
        LEDGER_BODIES,
        [LEDGER_EXAMPLE],
        OFFLINE,
        EXAMPLES,
    )


VERDICTS: dict[str, Verdict] = {}


@pytest.mark.parametrize("name", [m.name for m in CATALOGUE])
def test_every_catalogued_mutant_fails_the_suite(name: str) -> None:
    verdict = _verdict(name)
    VERDICTS[name] = verdict
    assert verdict.prop is not None, f"mutant {name!r} survived the declaration-driven properties"


def test_zz_the_mutant_table(capsys: pytest.CaptureFixture[str]) -> None:
    verdicts = [VERDICTS.get(m.name) or _verdict(m.name) for m in CATALOGUE]
    text = table(verdicts)
    with capsys.disabled():
        print("\n" + text)
    if os.environ.get("CAUDAL_WRITE_MUTANT_DOC") == "1":
        write_section(DOC, "toy", text)
    committed = DOC.read_text(encoding="utf-8")
    # Which property fails first may vary with the examples drawn; that every mutant is killed
    # may not, so that is what the committed table must say.
    for v in verdicts:
        assert f"| {v.mutant} | " in committed, f"{DOC.name} is stale: make mutants"
    assert "**survived**" not in committed

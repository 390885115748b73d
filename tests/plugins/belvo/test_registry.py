"""belvo.br is found, described and loaded through entry points and the static manifest."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from caudal import Registry, UnsupportedCapability, registry
from caudal.sandbox import Emulator, load_emulators
from caudal_belvo import BelvoBrConnector


def test_listed_and_described_without_importing_the_plugin() -> None:
    code = (
        "import sys, caudal; r = caudal.Registry(); "
        "names = r.names(); about = r.about('belvo.br'); "
        "print('belvo.br' in names, about.capabilities, 'caudal_belvo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "('accounts',", "'balance',", "'transactions')", "False"]


def test_manifest_matches_the_class() -> None:
    about = registry.about("belvo.br")
    assert about.distribution == "caudal-belvo"
    assert about.entry_point == "caudal_belvo.connector:BelvoBrConnector"
    assert about.title == "Belvo Brazil"
    assert about.api == ">=1.2,<2"
    assert Registry().load("belvo.br") is BelvoBrConnector


def test_doctor_reports_belvo_ok() -> None:
    (status,) = [s for s in Registry().doctor() if s.name == "belvo.br"]
    assert status.status == "ok", status.reason
    assert status.capabilities == ("accounts", "balance", "transactions")


def test_capabilities_and_unsupported_ones() -> None:
    with registry.get("belvo.br", secret_id="a", secret_password="b") as conn:
        assert conn.capabilities == frozenset({"accounts", "balance", "transactions"})
        with pytest.raises(UnsupportedCapability, match="it offers: accounts, balance, transac"):
            conn.loans()


def test_emulator_entry_point() -> None:
    (point,) = [p for p in entry_points(group="caudal.sandbox") if p.name == "belvo"]
    assert point.value == "caudal_belvo.emulator:emulator"
    (belvo,) = [e for e in load_emulators() if e.name == "belvo"]
    assert isinstance(belvo, Emulator)
    assert set(belvo.settings) == {"belvo.br"}
    assert belvo.call_params["belvo.br"]["balance"]["link"]

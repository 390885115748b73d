"""Discovery: lazy, isolated per plugin, honest about every failure."""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from caudal import Connector, PluginError, Registry

from .fakeplugins import EXPECTED_STATUS, install_fakes


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    install_fakes(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("caudal_fake_")]:
        del sys.modules[name]


def _fake_modules() -> set[str]:
    return {m for m in sys.modules if m.startswith("caudal_fake_")}


def test_names_and_about_import_no_plugin(fakes: Path) -> None:
    registry = Registry()
    assert set(EXPECTED_STATUS) <= set(registry.names())
    about = registry.about("good.cl")
    assert about.capabilities == ("balance",)
    assert (about.distribution, about.version) == ("caudal-good", "1.0")
    assert about.entry_point == "caudal_fake_good:GoodConnector"
    assert _fake_modules() == set()


def test_get_imports_exactly_that_plugin(fakes: Path) -> None:
    conn = Registry().get("good.cl", base_url="http://127.0.0.1:9")
    assert isinstance(conn, Connector) and conn.capabilities == {"balance"}
    assert _fake_modules() == {"caudal_fake_good"}


@pytest.mark.parametrize(("name", "status"), sorted(EXPECTED_STATUS.items()))
def test_each_failure_is_a_plugin_error_naming_plugin_and_reason(
    fakes: Path, name: str, status: str
) -> None:
    registry = Registry()
    if status == "ok":
        registry.get(name, base_url="http://127.0.0.1:9")
        return
    with pytest.raises(PluginError) as info:
        registry.get(name, base_url="http://127.0.0.1:9")
    assert info.value.status == status
    assert info.value.plugin == name
    assert info.value.distribution
    assert name in str(info.value)
    # and the good plugin still loads from the same registry afterwards
    registry.get("good.cl", base_url="http://127.0.0.1:9")


def test_failure_reasons_say_what_is_wrong(fakes: Path) -> None:
    report = {s.name: s for s in Registry().doctor()}
    for name, status in EXPECTED_STATUS.items():
        assert report[name].status == status, (name, report[name])
    assert "boom at import" in (report["broken.cl"].reason or "")
    assert "caudal_dependency_that_is_not_installed" in (report["needy.cl"].reason or "")
    assert ">=0.1,<1" in (report["old.cl"].reason or "")
    assert "caudal-dup-one" in (report["dup.cl"].reason or "")
    assert "caudal-dup-two" in (report["dup.cl"].reason or "")
    assert "loans" in (report["liar.cl"].reason or "")
    assert "caudal-plugin.toml" in (report["bare.cl"].reason or "")


def test_allowlist_limits_the_registry(fakes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Registry(allow=["good.cl", "caudal-old"]).names() == ["good.cl", "old.cl"]
    monkeypatch.setenv("CAUDAL_PLUGINS", "good.cl")
    assert Registry().names() == ["good.cl"]
    with pytest.raises(PluginError, match="no such connector"):
        Registry().get("broken.cl")


def test_unknown_name_lists_what_is_available(fakes: Path) -> None:
    with pytest.raises(PluginError, match=r"no such connector \(available: .*good\.cl"):
        Registry().get("nope.cl")


def test_doctor_cli_names_every_fault_and_never_crashes(fakes: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "caudal", "doctor"],
        env={"PYTHONPATH": str(fakes), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 1, out.stderr  # problems found: non-zero, but no traceback
    assert "Traceback" not in out.stdout + out.stderr
    for name, status in EXPECTED_STATUS.items():
        line = next(line for line in out.stdout.splitlines() if name in line)
        assert status in line, line


def test_a_plugin_installed_after_the_first_load_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Registry().load("belvo.br")  # the process has loaded a connector before
    install_fakes(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert Registry().get("good.cl", base_url="http://127.0.0.1:9").capabilities == {"balance"}
    finally:
        for name in [m for m in sys.modules if m.startswith("caudal_fake_")]:
            del sys.modules[name]

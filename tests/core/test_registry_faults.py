"""Malformed manifests, missing modules and broken extension hooks are PluginErrors naming the
plugin, reported as data by `about`, `catalogue` and `doctor`, and never crash `caudal list`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from caudal import ConfigurationError, PluginError, Registry, hookimpl

from .fakeplugins import GOOD_CONNECTOR, make_dist
from .toy import ToyConnector

# (distribution suffix, the caudal-plugin.toml written by hand, words the reason must hold)
MANIFESTS = {
    "caps-int": ('api = ">=1,<2"\n[connectors."caps-int.cl"]\ncapabilities = 5\n', "capabilities"),
    "caps-str": (
        'api = ">=1,<2"\n[connectors."caps-str.cl"]\ncapabilities = "balance"\n',
        "capabilities",
    ),
    "caps-items": (
        'api = ">=1,<2"\n[connectors."caps-items.cl"]\ncapabilities = [5]\n',
        "capabilities.0",
    ),
    "caps-missing": ('api = ">=1,<2"\n[connectors."caps-missing.cl"]\ntitle = "T"\n', "Field"),
    "title-int": (
        'api = ">=1,<2"\n[connectors."title-int.cl"]\ntitle = 5\ncapabilities = ["balance"]\n',
        "title",
    ),
    "connectors-str": ('api = ">=1,<2"\nconnectors = "x"\n', "connectors"),
    "section-int": ('api = ">=1,<2"\n[connectors]\n"section-int.cl" = 5\n', "section-int.cl"),
    "api-int": ('api = 1\n[connectors."api-int.cl"]\ncapabilities = ["balance"]\n', "api"),
    "toml-syntax": ('api = ">=1,<2\n[connectors."toml-syntax.cl"\n', "line"),
}


def _install(root: Path) -> None:
    for key, (manifest, _) in MANIFESTS.items():
        package = f"caudal_fault_{key.replace('-', '_')}"
        name = f"{key}.cl"
        make_dist(
            root,
            f"caudal-fault-{key}",
            package,
            {name: f"{package}:GoodConnector"},
            GOOD_CONNECTOR.format(name=name),
            manifest=False,
        )
        (root / package / "caudal-plugin.toml").write_text(manifest)
    (root / "caudal_fault_latin1").mkdir()
    make_dist(
        root,
        "caudal-fault-latin1",
        "caudal_fault_latin1b",
        {"latin1.cl": "caudal_fault_latin1b:GoodConnector"},
        GOOD_CONNECTOR.format(name="latin1.cl"),
        manifest=False,
    )
    (root / "caudal_fault_latin1b" / "caudal-plugin.toml").write_bytes(
        b'api = ">=1,<2"\n[connectors."latin1.cl"]\ntitle = "Espa\xf1a"\ncapabilities = []\n'
    )
    # A package whose entry point names a module it does not ship, and one with no package.
    make_dist(
        root,
        "caudal-fault-nomodule",
        "caudal_fault_nomodule",
        {"nomodule.cl": "caudal_fault_nomodule.gone:GoodConnector"},
        GOOD_CONNECTOR.format(name="nomodule.cl"),
    )
    make_dist(
        root,
        "caudal-fault-nopackage",
        "caudal_fault_nopackage_shipped",
        {"nopackage.cl": "caudal_fault_nopackage:GoodConnector"},
        GOOD_CONNECTOR.format(name="nopackage.cl"),
    )
    # Two connectors in one file: the sibling of a bad table still works.
    make_dist(
        root,
        "caudal-fault-siblings",
        "caudal_fault_siblings",
        {"fine.cl": "caudal_fault_siblings:GoodConnector", "bad.cl": "caudal_fault_siblings:X"},
        GOOD_CONNECTOR.format(name="fine.cl"),
        manifest=False,
    )
    (root / "caudal_fault_siblings" / "caudal-plugin.toml").write_text(
        'api = ">=1,<2"\n[connectors."fine.cl"]\ncapabilities = ["balance"]\n'
        '[connectors."bad.cl"]\ncapabilities = 5\n'
    )


EXPECTED = {
    **{f"{key}.cl": "invalid manifest" for key in MANIFESTS},
    "latin1.cl": "invalid manifest",
    "nomodule.cl": "import error",
    "nopackage.cl": "import error",
    "bad.cl": "invalid manifest",
    "fine.cl": "ok",
}


@pytest.fixture
def faulty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _install(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("CAUDAL_PLUGINS", ",".join(EXPECTED))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("caudal_fault_")]:
        del sys.modules[name]


@pytest.mark.parametrize(("name", "status"), sorted(EXPECTED.items()))
def test_about_gives_a_plugin_error_naming_the_plugin(faulty: Path, name: str, status: str) -> None:
    registry = Registry()
    if status == "ok":
        assert registry.about(name).capabilities == ("balance",)
        return
    with pytest.raises(PluginError) as caught:
        registry.about(name)
    assert (caught.value.plugin, caught.value.status) == (name, status)
    assert name in str(caught.value) and caught.value.distribution
    key = name.removesuffix(".cl")
    if key in MANIFESTS:
        assert MANIFESTS[key][1] in caught.value.reason, caught.value.reason
        assert "caudal-plugin.toml" in caught.value.reason
    with pytest.raises(PluginError) as loading:
        registry.get(name)
    assert loading.value.status == status


def test_catalogue_reports_every_plugin_as_data_and_imports_none(faulty: Path) -> None:
    report = {s.name: s for s in Registry().catalogue()}
    assert {name: s.status for name, s in report.items()} == EXPECTED
    assert "gone" in (report["nomodule.cl"].reason or "")
    assert "is not installed" in (report["nopackage.cl"].reason or "")
    assert report["fine.cl"].capabilities == ("balance",)
    assert [m for m in sys.modules if m.startswith("caudal_fault_")] == []


def test_doctor_never_raises_and_agrees(faulty: Path) -> None:
    report = {s.name: s.status for s in Registry().doctor() if s.kind == "connector"}
    assert report == EXPECTED


@pytest.mark.parametrize("command", ["list", "doctor"])
def test_the_cli_shows_each_broken_plugin_without_a_traceback(faulty: Path, command: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "caudal", command],
        env={
            "PYTHONPATH": str(faulty),
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "250",
            "CAUDAL_PLUGINS": ",".join(EXPECTED),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in out.stdout + out.stderr, out.stderr
    for name, status in EXPECTED.items():
        line = next(line for line in out.stdout.splitlines() if name in line)
        assert status in line, line


class Misspelt:
    @hookimpl
    def balanse(self, connector: object) -> None:
        """Not a caudal hook."""


class WrongArgument:
    @hookimpl
    def balance(self, conn: object) -> None:
        """`balance` takes `connector`."""


@pytest.mark.parametrize("extension", [Misspelt(), WrongArgument()], ids=lambda e: type(e).__name__)
def test_a_broken_extension_given_directly_is_a_plugin_error(extension: object) -> None:
    with pytest.raises(PluginError) as caught:
        Registry.of(ToyConnector, extensions=[extension])
    assert caught.value.plugin == type(extension).__name__
    assert caught.value.status == "invalid extension"
    assert "balance" in caught.value.reason and "0x" not in caught.value.reason


def test_a_broken_extension_entry_point_is_reported_and_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = tmp_path / "caudal_hooks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: caudal-hooks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[caudal.extensions]\nfine = caudal_fault_hooks:FINE\ntypo = caudal_fault_hooks:TYPO\n"
        "args = caudal_fault_hooks:ARGS\n"
    )
    (tmp_path / "caudal_fault_hooks.py").write_text(
        "from caudal import hookimpl\n"
        "class Fine:\n"
        "    @hookimpl(wrapper=True)\n"
        "    def balance(self, connector):\n"
        "        return (yield)\n"
        "class Typo:\n"
        "    @hookimpl\n"
        "    def balanse(self, connector):\n"
        "        pass\n"
        "class Args:\n"
        "    @hookimpl\n"
        "    def loans(self, connector, extra):\n"
        "        pass\n"
        "FINE, TYPO, ARGS = Fine(), Typo(), Args()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        registry = Registry(allow=["caudal-hooks", "belvo.br"])
        assert [type(e).__name__ for e in registry.extensions()] == ["Fine"]
        status = {s.name: s for s in registry.doctor() if s.kind == "extension"}
        assert {n: s.status for n, s in status.items()} == {
            "fine": "ok",
            "typo": "invalid extension",
            "args": "invalid extension",
        }
        assert "balanse" in (status["typo"].reason or "")
        assert "extra" in (status["args"].reason or "")
        conn = registry.get("belvo.br", secret_id="id", secret_password="pw")
        assert conn.capabilities  # the healthy extension still wraps connectors
    finally:
        sys.modules.pop("caudal_fault_hooks", None)


@pytest.mark.parametrize("extension", [Misspelt(), WrongArgument()], ids=lambda e: type(e).__name__)
def test_a_broken_extension_given_to_a_connector_is_a_plugin_error(extension: object) -> None:
    # Connector(extensions=...) directly, not through a registry: still caudal's error
    with pytest.raises(PluginError) as caught:
        ToyConnector(base_url="http://127.0.0.1:9", extensions=[extension])
    assert caught.value.plugin == type(extension).__name__
    assert caught.value.status == "invalid extension"


def test_extensions_given_to_get_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="extensions are not a setting"):
        Registry.of(ToyConnector).get("toy", base_url="http://127.0.0.1:9", extensions=[])

"""The `caudal` command, run as a subprocess against the toy plugin installed in a temp dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def toy_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("toyplugin")
    info = root / "caudal_toy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: caudal-toy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[caudal.connectors]\ntoy = caudal_fake_toy:ToyConnector\n\n"
        "[caudal.sandbox]\ntoy = caudal_fake_toy:emulator\n"
    )
    pkg = root / "caudal_fake_toy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from tests.core.toy import ToyConnector, emulator\n")
    (pkg / "caudal-plugin.toml").write_text(
        'api = ">=1.0,<2"\n[connectors.toy]\ntitle = "Toy"\ncapabilities = ["balance"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")}
    env.update(PYTHONPATH=f"{root}{os.pathsep}{REPO}", COLUMNS="200", CAUDAL_PLUGINS="toy")
    return env


def caudal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "caudal", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_list_and_about(toy_env: dict[str, str]) -> None:
    listed = caudal(toy_env, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {
            "name": "toy",
            "capabilities": ["balance"],
            "distribution": "caudal-toy",
            "version": "1.0",
            "status": "ok",
        }
    ]
    plain = caudal(toy_env, "list")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines() == [
        "name  capabilities  distribution  version  status",
        "toy   balance       caudal-toy    1.0      ok",
    ]
    about = json.loads(caudal(toy_env, "about", "toy", "--json").stdout)
    assert (
        about["capabilities"] == ["balance"]
        and about["entry_point"] == "caudal_fake_toy:ToyConnector"
    )


def test_fetch_prints_exact_canonical_json(toy_env: dict[str, str]) -> None:
    done = caudal(toy_env, "fetch", "toy", "balance", "--sandbox", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [b["amount"]["amount"] for b in result["items"]] == ["1000.1234567890123456789", "1.10"]


def test_fetch_prints_a_table(toy_env: dict[str, str]) -> None:
    done = caudal(toy_env, "fetch", "toy", "balance", "--sandbox")
    assert done.returncode == 0, done.stderr
    assert "1000.1234567890123456789 BRL" in done.stdout and "1.10 CLP" in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-p", "scenario=no-such"], 3, "HTTP 400"),
        (["-p", "scenario=html"], 5, "not valid JSON"),
        (["-p", "nope=1"], 2, "accepted parameters"),
        (["-p", "novalue"], 2, "key=value"),
    ],
)
def test_exit_codes_and_one_line_errors(
    toy_env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    done = caudal(toy_env, "fetch", "toy", "balance", "--sandbox", *args)
    assert done.returncode == code, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "hint:" in done.stderr


def test_transport_error_exit_code(toy_env: dict[str, str]) -> None:
    done = caudal(
        toy_env,
        "fetch",
        "toy",
        "balance",
        "--base-url",
        "http://127.0.0.1:9",
        "-s",
        "max_attempts=1",
    )
    assert done.returncode == 6, done.stderr
    assert "could not connect" in done.stderr


def test_debug_shows_the_traceback(toy_env: dict[str, str]) -> None:
    done = caudal(toy_env, "fetch", "toy", "balance", "--sandbox", "-p", "scenario=html", "--debug")
    assert done.returncode == 5 and "Traceback" in done.stderr


def test_unknown_connector_is_a_usage_error(toy_env: dict[str, str]) -> None:
    done = caudal(toy_env, "fetch", "nope.cl", "balance")
    assert done.returncode == 2 and "no such connector" in done.stderr


@pytest.mark.parametrize(
    "command", [[], ["fetch"], ["resume"], ["list"], ["doctor"], ["sandbox", "serve"], ["about"]]
)
def test_help_shows_an_example(toy_env: dict[str, str], command: list[str]) -> None:
    done = caudal(toy_env, *command, "--help")
    assert done.returncode == 0
    assert "Example" in done.stdout or not command

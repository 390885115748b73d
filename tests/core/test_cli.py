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
        '[connectors.broken]\ntitle = "Broken"\ncapabilities = ["balance"]\n'
    )
    # A plugin whose manifest is fine but whose module is missing (uninstalled half-way).
    broken = root / "caudal_broken-2.0.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: caudal-broken\nVersion: 2.0\n")
    (broken / "entry_points.txt").write_text(
        "[caudal.connectors]\nbroken = caudal_fake_toy.gone:BrokenConnector\n"
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
        "----  ------------  ------------  -------  ------",
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
    "command",
    [
        [],
        ["fetch"],
        ["resume"],
        ["list"],
        ["doctor"],
        ["sandbox", "serve"],
        ["about"],
        ["bulk"],
        ["worker"],
    ],
)
def test_help_shows_an_example(toy_env: dict[str, str], command: list[str]) -> None:
    done = caudal(toy_env, *command, "--help")
    assert done.returncode == 0
    assert "Example" in done.stdout or not command


# -- what a new user meets: settings, parameters, errors in plain words ------------------------


def test_about_lists_settings_and_parameters(toy_env: dict[str, str]) -> None:
    env = {**toy_env, "CAUDAL_TOY_API_KEY": "distinctive-toy-key-77"}
    done = caudal(env, "about", "toy")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "title         Toy" in lines
    # settings: environment variable, accepted values, default, secret (never the value)
    api_key = next(line.split() for line in lines if line.startswith("api_key "))
    assert api_key == ["api_key", "CAUDAL_TOY_API_KEY", "secret", "text", "none", "yes"]
    base_url = next(line.split() for line in lines if line.startswith("base_url "))
    assert base_url == ["base_url", "CAUDAL_TOY_BASE_URL", "text", "http://127.0.0.1:9", "no"]
    assert "distinctive-toy-key-77" not in done.stdout
    # parameters of each capability, with the sandbox's example
    assert "balance parameters (-p parameter=value; {...} is JSON):" in lines
    scenario = next(line.split() for line in lines if line.startswith("scenario "))
    assert scenario == ["scenario", "text", "no", "ok", "ok"]

    as_json = json.loads(caudal(env, "about", "toy", "--json").stdout)
    by_name = {s["name"]: s for s in as_json["settings"]}
    assert by_name["api_key"]["secret"] is True
    assert by_name["api_key"]["env"] == "CAUDAL_TOY_API_KEY"
    assert as_json["parameters"]["balance"][0]["name"] == "scenario"


def test_fetch_help_for_a_connector_and_capability(toy_env: dict[str, str]) -> None:
    done = caudal(toy_env, "fetch", "toy", "balance", "--help")
    assert done.returncode == 0, done.stderr
    assert "CAUDAL_TOY_API_KEY" in done.stdout
    assert "balance parameters" in done.stdout and "scenario" in done.stdout
    plain = caudal(toy_env, "fetch", "--help")
    assert "CAUDAL_TOY_API_KEY" not in plain.stdout and "NAME CAPABILITY --help" in plain.stdout


def test_about_an_unknown_name_lists_the_known_ones(toy_env: dict[str, str]) -> None:
    done = caudal(toy_env, "about", "nope.xx")
    assert done.returncode == 2
    assert "no such connector 'nope.xx' (installed: toy)" in done.stderr
    assert "import error" not in done.stderr and "Traceback" not in done.stderr


REAL = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")} | {"COLUMNS": "200"}
"""The bundled plugins, as installed in this workspace."""


def test_parameter_errors_name_the_parameter_and_the_accepted_values() -> None:
    done = caudal(
        REAL,
        "fetch",
        "bancosecurity.cl",
        "balance",
        "--sandbox",
        "-p",
        "account_number=0011",
        "-p",
        'credential={"Username": "u"}',
    )
    assert done.returncode == 2, done.stderr
    assert 'credential: expected {"Username": non-empty text, "Password": secret text}' in (
        done.stderr
    )
    for internal in ("function-after", "lax-or-strict", "LoginCredential", "Traceback"):
        assert internal not in done.stderr


def test_keep_raw_saves_the_body_that_does_not_map(toy_env: dict[str, str], tmp_path: Path) -> None:
    def fetch(*extra: str) -> subprocess.CompletedProcess[str]:
        args = [sys.executable, "-m", "caudal", "fetch", "toy", "balance", "--sandbox"]
        return subprocess.run(
            [*args, "-p", "scenario=html", *extra],
            env=toy_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    plain = fetch()
    assert plain.returncode == 5 and "--keep-raw" in plain.stderr
    assert list(tmp_path.iterdir()) == []
    kept = fetch("--keep-raw")
    assert kept.returncode == 5, kept.stderr
    (saved,) = tmp_path.iterdir()
    assert saved.read_bytes() == b"<html>not json</html>"
    assert f"the provider's body (21 bytes) is in {saved.name}" in kept.stderr
    assert saved.stat().st_mode & 0o077 == 0
    assert "Traceback" not in kept.stderr


# -- every error path: a documented exit code and one clear line --------------------------------


def _one_clear_line(done: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], done.stderr


def test_resume_a_missing_file(toy_env: dict[str, str], tmp_path: Path) -> None:
    done = caudal(toy_env, "resume", str(tmp_path / "missing.json"), "--token", "1")
    _one_clear_line(done, 2, "cannot read the challenge file")
    assert "No such file or directory" in done.stderr


def test_resume_a_directory(toy_env: dict[str, str], tmp_path: Path) -> None:
    done = caudal(toy_env, "resume", str(tmp_path), "--token", "1")
    _one_clear_line(done, 2, "Is a directory")


def test_resume_a_file_that_is_not_a_challenge(toy_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"not": "a challenge"}')
    done = caudal(toy_env, "resume", str(tmp_path / "x.json"), "--token", "1")
    _one_clear_line(done, 2, "does not hold a challenge")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    _one_clear_line(
        caudal(toy_env, "resume", str(tmp_path / "bin"), "--token", "1"), 2, "not a text file"
    )


def test_a_deeply_nested_param_is_refused(toy_env: dict[str, str]) -> None:
    deep = "[" * 20_000 + "]" * 20_000
    done = caudal(toy_env, "fetch", "toy", "balance", "-p", f"scenario={deep}")
    _one_clear_line(done, 2, "JSON nested 20000 levels deep; at most 32")
    brackets_in_text = '{"a": "' + "[" * 100 + '"}'
    done = caudal(toy_env, "fetch", "toy", "balance", "--sandbox", "-p", f"x={brackets_in_text}")
    _one_clear_line(done, 2, "x: Extra inputs are not permitted")


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_sandbox_serve_refuses_a_port_out_of_range(toy_env: dict[str, str], port: str) -> None:
    done = caudal(toy_env, "sandbox", "serve", "--port", port)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--port" in done.stderr


def test_sandbox_serve_on_a_busy_port(toy_env: dict[str, str]) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = caudal(toy_env, "sandbox", "serve", "--port", str(port))
    _one_clear_line(done, 2, f"cannot listen on 127.0.0.1:{port}")
    assert "export CAUDAL_TOY_BASE_URL=http://127.0.0.1:" in done.stdout


def test_the_token_prompt_keeps_json_output_clean(tmp_path: Path) -> None:
    challenge = tmp_path / "challenge.json"
    asked = caudal(REAL, "fetch", "belvo.br", "balance", "--sandbox", "-p", "link=mfa-demo")
    assert asked.returncode == 4, asked.stderr
    challenge.write_text(asked.stdout)
    done = subprocess.run(
        [sys.executable, "-m", "caudal", "resume", str(challenge), "--sandbox", "--json"],
        env=REAL,
        input="123456\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no controlling terminal: the prompt reads stdin
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert result["connector"] == "belvo.br" and result["items"]
    assert "token" in done.stderr


# -- broken plugins ---------------------------------------------------------------------------


@pytest.fixture
def broken_env(toy_env: dict[str, str]) -> dict[str, str]:
    return {**toy_env, "CAUDAL_PLUGINS": "toy,broken"}


def test_list_marks_a_plugin_whose_module_is_missing(broken_env: dict[str, str]) -> None:
    listed = json.loads(caudal(broken_env, "list", "--json").stdout)
    status = {row["name"]: row["status"] for row in listed}
    assert status == {
        "toy": "ok",
        "broken": "import error: module 'caudal_fake_toy.gone' "
        "(entry point caudal_fake_toy.gone:BrokenConnector) is not installed",
    }
    plain = caudal(broken_env, "list")
    assert plain.returncode == 0
    broken = next(line for line in plain.stdout.splitlines() if line.startswith("broken"))
    assert broken.split()[:4] == ["broken", "-", "caudal-broken", "2.0"]  # as doctor shows it
    assert "caudal doctor says why" in plain.stdout


def test_doctor_uses_the_same_table_and_version(broken_env: dict[str, str]) -> None:
    done = caudal(broken_env, "doctor")
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["name", "kind", "capabilities", "distribution", "version", "status"]
    assert set(lines[1]) == {"-", " "}
    broken = next(line for line in lines if line.startswith("broken"))
    assert broken.split()[:5] == ["broken", "connector", "-", "caudal-broken", "2.0"]
    assert "import error" in broken


def test_demo_shows_the_healthy_connectors_and_names_the_broken_one(
    broken_env: dict[str, str],
) -> None:
    done = caudal(broken_env, "demo")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "1000.1234567890123456789 BRL" in done.stdout  # toy's records are shown
    assert "broken: broken could not load" in done.stdout
    assert "1 failure(s)" in done.stdout
    report = json.loads(caudal(broken_env, "demo", "--json").stdout)
    assert list(report["broken"]) == ["broken"]
    assert [r["connector"] for r in report["results"]] == ["toy"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "not a valid URL"),
        ("http://127.0.0.1:99999", "not a valid URL"),
        ("ftp://127.0.0.1", "must be an http:// or https:// URL"),
        ("127.0.0.1:8787", "must be an http:// or https:// URL"),
    ],
)
def test_a_bad_base_url_is_a_configuration_error(
    toy_env: dict[str, str], url: str, why: str
) -> None:
    done = caudal(toy_env, "fetch", "toy", "balance", "--base-url", url)
    _one_clear_line(done, 2, f"base_url (CAUDAL_TOY_BASE_URL): {why}")
    assert url not in done.stderr  # the value is never echoed: a URL may carry a token


def test_new_into_an_impossible_directory(toy_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    done = caudal(toy_env, "new", "acme.mx", "--dir", str(tmp_path / "file" / "sub"))
    _one_clear_line(done, 2, "cannot create the project")


def test_help_documents_every_exit_code(toy_env: dict[str, str]) -> None:
    import re

    from caudal.cli._app import ExitCode

    text = " ".join(caudal(toy_env, "--help").stdout.split())
    documented = {int(code) for code in re.findall(r"(\d) [a-z]", text.split("Exit codes:")[1])}
    assert documented == {int(c) for c in ExitCode} | {1}

"""The main job end to end as a user runs it: the demo, fetch, a challenge answered by the CLI."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from caudal.sandbox import tour
from caudal_belvo.emulator import SECRET_ID, SECRET_PASSWORD

ENV = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")} | {"COLUMNS": "200"}


def caudal(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "caudal", *args],
        env=ENV,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_json_covers_every_connector_capability_callback_and_challenge() -> None:
    started = time.monotonic()
    done = caudal("demo", "--json")
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    calls = {(r["connector"], r["capability"]) for r in report["results"]}
    assert calls == {
        ("afc.cl", "balance"),
        ("afc.cl", "contributions"),
        ("bancosecurity.cl", "balance"),
        ("bancosecurity.cl", "loans"),
        ("belvo.br", "accounts"),
        ("belvo.br", "balance"),
        ("belvo.br", "transactions"),
    }
    assert report["failures"] == []
    assert (
        report["callback"]["delivered"]["operation_id"]
        == report["callback"]["pending"]["operation_id"]
    )
    assert report["challenge"]["result"]["connector"] == "belvo.br"
    assert elapsed < 60


def test_demo_tables_end_with_the_summary_line() -> None:
    done = caudal("demo")
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert "3 connectors, 7 capability calls" in last and ": all ok (the whole tour took " in last
    assert last.endswith("s, sandbox start-up included)")
    # each record on one row: every table row of the balances starts with a connector or └
    rows = [line for line in done.stdout.splitlines() if line.startswith("│")]
    assert rows and all(
        line.split("│")[1].strip() in {"afc.cl", "bancosecurity.cl", "belvo.br", ""}
        and (line.split("│")[1].strip() or line.split("│")[2].strip().startswith("└"))
        for line in rows
    ), rows
    for word in (
        "balance",
        "contributions",
        "loans",
        "accounts",
        "transactions",
        "asynchronous request",
        "multi-factor challenge",
    ):
        assert word in done.stdout


def test_tour_api_gives_what_the_cli_prints() -> None:
    report = tour()
    assert report.ok and report.callback and report.challenge
    assert "all ok" in report.summary()


def test_fetch_afc_balance_in_the_sandbox() -> None:
    done = caudal("fetch", "afc.cl", "balance", "--sandbox", "--json")
    assert done.returncode == 0, done.stderr
    [balance] = json.loads(done.stdout)["items"]
    assert balance["kind"] == "booked" and balance["amount"]["currency"] == "CLP"
    assert balance["breakdown"], "the AFC balance carries a per-employer breakdown"


def test_challenge_answered_from_the_cli(tmp_path: Path) -> None:
    asked = caudal("fetch", "belvo.br", "balance", "--sandbox", "-p", "link=mfa-demo")
    assert asked.returncode == 4, asked.stderr
    challenge = tmp_path / "challenge.json"
    challenge.write_text(asked.stdout)
    assert json.loads(asked.stdout)["connector"] == "belvo.br"
    wrong = caudal("resume", str(challenge), "--token", "000000", "--sandbox")
    assert wrong.returncode == 4, wrong.stderr
    answered = caudal("resume", str(challenge), "--token", "123456", "--sandbox", "--json")
    assert answered.returncode == 0, answered.stderr
    assert len(json.loads(answered.stdout)["items"]) % 3 == 0


def test_challenge_from_stdin() -> None:
    asked = caudal("fetch", "belvo.br", "balance", "--sandbox", "-p", "link=mfa-demo")
    answered = caudal("resume", "-", "--token", "123456", "--sandbox", stdin=asked.stdout)
    assert answered.returncode == 0, answered.stderr
    assert "belvo.br balance" in answered.stdout


def test_provider_error_exit_code_and_hint() -> None:
    done = caudal("fetch", "belvo.br", "balance", "--sandbox", "-p", "link=error-403")
    assert done.returncode == 3, done.stderr
    assert "access_to_resource_denied" in done.stderr and "retry advice: never" in done.stderr
    assert "Traceback" not in done.stderr


def test_secrets_never_reach_the_cli_output() -> None:
    done = caudal(
        "fetch",
        "belvo.br",
        "balance",
        "--sandbox",
        "-s",
        "secret_password=hunter2-very-secret",
        "--debug",
    )
    assert done.returncode == 3
    assert "hunter2-very-secret" not in done.stdout + done.stderr


def test_sandbox_serve_runs_in_the_foreground_until_stopped() -> None:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "caudal", "sandbox", "serve", "--port", str(port)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/belvo/_emulator/requests", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        done = caudal(
            "fetch",
            "belvo.br",
            "balance",
            "--base-url",
            f"{base}/belvo",
            "--json",
            "-s",
            f"secret_id={SECRET_ID}",
            "-s",
            f"secret_password={SECRET_PASSWORD}",
            "-p",
            "link=c81a1dea-6dd6-4999-8b9f-541ee8197058",
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["items"]
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=10)
    assert "belvo" in out and "khipu" in out

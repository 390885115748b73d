"""`caudal fetch belvo.br transactions|accounts` in a subprocess against the built-in sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")} | {"COLUMNS": "250"}


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


def test_transactions_table() -> None:
    args = ["-p", "link=many-40", "-p", "date_from=2025-02-20", "-p", "date_to=2025-02-24"]
    done = caudal("fetch", "belvo.br", "transactions", "--sandbox", *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].strip() == "belvo.br transactions: 15 record(s)"  # five days, three a day
    header = next(line for line in lines if "description" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == [
        "connector",
        "account",
        "when",
        "description",
        "amount",
        "status",
    ]
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 15


def test_stored_pages_gathered_as_json() -> None:
    args = ["-p", "link=many-25", "-p", "stored=true", "-p", "page_size=4", "--json"]
    args += ["-p", "date_from=2025-01-01", "-p", "date_to=2025-02-24"]  # else the sandbox's
    done = caudal("fetch", "belvo.br", "transactions", "--sandbox", *args)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["items"]) == 25
    assert result["references"] == {"count": "25"}
    assert all(isinstance(t["amount"]["amount"], str) for t in result["items"])


def test_a_transactions_challenge_is_resumed_by_another_process(tmp_path: Path) -> None:
    args = ["-p", "link=mfa-demo", "-p", "date_from=2025-02-20", "-p", "date_to=2025-02-24"]
    asked = caudal("fetch", "belvo.br", "transactions", "--sandbox", *args)
    assert asked.returncode == 4, asked.stderr
    challenge = tmp_path / "challenge.json"
    challenge.write_text(asked.stdout)
    done = caudal("resume", str(challenge), "--token", "123456", "--sandbox", "--json")
    assert done.returncode == 0, done.stderr
    days = {t["value_date"] for t in json.loads(done.stdout)["items"]}
    assert days <= {f"2025-02-{d}" for d in range(20, 25)} and days

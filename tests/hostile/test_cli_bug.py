"""`caudal fetch` on a connector whose mapping has a bug: exit 7 and one clear line, never exit
5 ("the provider's answer does not fit"), never a traceback without --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .server import Fault, serving

REPO = Path(__file__).resolve().parents[2]

PLUGIN = """
from caudal import Operation, capability
from tests.core.toy import BalanceParams, ToyConnector, read_balance


def buggy_read(reply, call):
    result = read_balance(reply, call)  # the body validated
    return result.itemz  # the bug: a misspelt attribute


class BuggyConnector(ToyConnector):
    name = "buggy"

    @capability("balance")
    def balance_operation(self):
        return Operation(BalanceParams, request=self._request, read=buggy_read)
"""


def _plugin(root: Path) -> dict[str, str]:
    info = root / "caudal_buggy-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: caudal-buggy\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[caudal.connectors]\nbuggy = caudal_buggy:BuggyConnector\n"
    )
    pkg = root / "caudal_buggy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(PLUGIN)
    (pkg / "caudal-plugin.toml").write_text(
        'api = ">=1.0,<2"\n[connectors.buggy]\ntitle = "Buggy"\ncapabilities = ["balance"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")}
    env.update(PYTHONPATH=f"{root}{os.pathsep}{REPO}", CAUDAL_PLUGINS="buggy", COLUMNS="200")
    return env


def test_a_mapper_bug_exits_7_with_one_line(tmp_path: Path) -> None:
    env = _plugin(tmp_path)
    body = (
        b'[{"account": "007", "amount": 1.10, "currency": "BRL", "at": "2024-05-21T08:30:00-0300"}]'
    )
    with serving() as (base_url, http):
        http.fault = Fault(200, body, {"content-type": "application/json"})  # type: ignore[attr-defined]
        for debug in ([], ["--debug"]):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "caudal",
                    "fetch",
                    "buggy",
                    "balance",
                    "--base-url",
                    base_url,
                    *debug,
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 7, done.stderr
            assert "AttributeError" in done.stderr and "not the provider's fault" in done.stderr
            assert ("Traceback" in done.stderr) == bool(debug), done.stderr
            if debug:  # the developer sees the frame of the bug
                assert "buggy_read" in done.stderr

"""The generated blocks committed in README.md and docs/ are what the code generates now."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYNC = ROOT / "docs" / "_gen" / "sync.py"


def _sync(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUDAL_")}
    return subprocess.run(
        [sys.executable, str(SYNC), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_committed_blocks_match_the_code() -> None:
    done = _sync("--check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_block_is_closed_and_every_page_reads_complete() -> None:
    sys.path.insert(0, str(SYNC.parent.parent))
    try:
        from _gen.sync import CLOSE, OPEN, pages
    finally:
        sys.path.remove(str(SYNC.parent.parent))
    found = 0
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for match in OPEN.finditer(text):
            found += 1
            close = text.find(CLOSE.format(name=match.group(1)), match.end())
            assert close != -1, f"{page.name}: block {match.group(1)!r} is not closed"
            assert text[match.end() : close].strip(), f"{page.name}: {match.group(1)} is empty"
    assert found >= 15


def test_a_stale_block_is_caught() -> None:
    """The check compares for real: an edited block is reported, naming the file."""
    sys.path.insert(0, str(SYNC.parent.parent))
    try:
        from _gen.sync import expand
    finally:
        sys.path.remove(str(SYNC.parent.parent))

    def make(name: str, argument: str | None) -> str | None:
        return f"fresh {name} {argument}" if name != "unknown" else None

    text = (
        "intro\n<!-- caudal:one -->\n\nstale\n\n<!-- /caudal:one -->\n"
        "<!-- caudal:two arg -->\nafter\n<!-- caudal:unknown -->\nkept\n"
    )
    assert expand(text, make) == (
        "intro\n<!-- caudal:one -->\n\nfresh one None\n\n<!-- /caudal:one -->\n"
        "<!-- caudal:two arg -->\n\nfresh two arg\n\n<!-- /caudal:two -->\nafter\n"
        "<!-- caudal:unknown -->\nkept\n"
    )

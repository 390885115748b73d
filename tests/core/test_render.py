"""Records in a terminal: one row per record, and no id cut however narrow the terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from caudal import registry
from caudal.cli._render import render_outcome

BODY = """[{
  "id": "0b94bdf9-3719-43a9-81e7-be95d2318595",
  "link": "0b94bdf9-3719-43a9-81e7-be95d2318595",
  "account_id": "c4bfecf9-4eb6-4920-9f9f-e1f1e60ef321",
  "account_internal_identification": "92792126019929279212650822221989319252576",
  "collected_at": "2024-05-21T08:32:00Z",
  "created_at": "2024-05-21T08:32:00Z",
  "last_updated_at": "2021-05-21T08:30:00-03:00",
  "currency": "USD",
  "available": 1000.02,
  "blocked": 7.5,
  "automatically_invested": 12345678.09
}]"""
"""Belvo's documented balance object (its blocked and invested figures changed to tell apart)."""
ACCOUNT = "c4bfecf9-4eb6-4920-9f9f-e1f1e60ef321"


def _printed(width: int) -> str:
    result = registry.get("belvo.br").parse("balance", BODY)  # no credentials needed to map
    out = io.StringIO()
    render_outcome(Console(file=out, width=width, color_system=None), result)
    return out.getvalue()


def test_a_wide_terminal_gets_one_row_per_record() -> None:
    text = _printed(200)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert len(rows) == 3
    assert all(ACCOUNT in row and "2021-05-21T08:30:00-03:00" in row for row in rows)
    assert [r.split("│")[4].strip() for r in rows] == ["1000.02 USD", "7.5 USD", "12345678.09 USD"]


@pytest.mark.parametrize("width", [40, 60, 100])
def test_a_narrow_terminal_gets_one_block_per_record_with_whole_ids(width: int) -> None:
    text = _printed(width)
    assert "…" not in text
    assert text.count(ACCOUNT) == 3
    assert text.count("2021-05-21T08:30:00-03:00") == 3
    assert "amount: 12345678.09 USD" in text

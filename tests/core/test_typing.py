"""Editors and mypy see precise types for the capability methods generated from descriptors.

mypy runs on a small file that calls them; `reveal_type` lines must show the record type, and
a deliberate mismatch must be an error (so the check cannot pass by everything being `Any`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

CALLS = """
from caudal import registry, Balance, Transaction, Account, Loan, Pending, Result

conn = registry.get("belvo.br")
reveal_type(conn.balance(link="x"))
reveal_type(conn.balance(link="x", callback_url="https://example.org/cb"))
reveal_type(conn.transactions(link="x"))
reveal_type(conn.iter_transactions(link="x"))
reveal_type(conn.aiter_accounts(link="x"))
ok: Result[Transaction] = conn.transactions(link="x")
wrong: Result[Loan] = conn.accounts(link="x")
conn.transaction(link="x")


async def main() -> None:
    reveal_type(await conn.aaccounts(link="x"))
"""


@pytest.mark.slow
def test_capability_methods_have_precise_types(tmp_path: Path) -> None:
    from mypy import api

    source = tmp_path / "calls.py"
    source.write_text(CALLS)
    out, _, _ = api.run(
        ["--strict", "--no-incremental", "--python-executable", sys.executable, str(source)]
    )
    lines = [line.split(": ", 1)[1] for line in out.splitlines() if ": " in line]
    assert (
        'note: Revealed type is "caudal.model._outcomes.Result[caudal.model._records.Balance]"'
        in lines
    )
    assert 'note: Revealed type is "caudal.model._outcomes.Pending"' in lines
    assert (
        'note: Revealed type is "caudal.model._outcomes.Result[caudal.model._accounts.Transaction]"'
        in lines
    )
    assert (
        'note: Revealed type is "typing.Iterator[caudal.model._accounts.Transaction]"' in lines
        or 'note: Revealed type is "collections.abc.Iterator[caudal.model._accounts.Transaction]"'
        in lines
    )
    assert any("AsyncIterator[caudal.model._accounts.Account]" in line for line in lines)
    assert (
        'note: Revealed type is "caudal.model._outcomes.Result[caudal.model._accounts.Account]"'
        in lines
    )
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 2, out
    assert "Result[Account]" in errors[0] and "Result[Loan]" in errors[0]
    assert '"Connector" has no attribute "transaction"' in errors[1]

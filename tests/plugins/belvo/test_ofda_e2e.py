"""belvo.br accounts and transactions against the emulator over real HTTP: fetch, stored pages,
streaming, challenges, errors. Expected counts are worked out by hand from the emulator's
documented seeding (three transactions a day back from 2025-02-24)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from caudal import (
    Challenge,
    ChallengeRequired,
    Connector,
    MappingError,
    ProviderError,
    TransactionDirection,
    TransportError,
    registry,
)
from caudal.sandbox import Sandbox
from caudal_belvo.emulator import MFA_LINK, MFA_TOKEN

from .examples import requests_seen, unique

FEBRUARY = {"date_from": "2025-02-01", "date_to": "2025-02-24"}
"""24 days: 72 transactions of a long enough history."""


@pytest.fixture
def paged(sandbox: Sandbox) -> Iterator[Connector]:
    settings = sandbox.settings("belvo.br")
    with registry.get("belvo.br", **settings, backoff=0.01, max_backoff=0.05) as connector:
        yield connector


def test_fetched_transactions_are_the_date_range(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("many-250")
    result = conn.transactions(link=link, **FEBRUARY)
    assert len(result) == 72
    assert {t.value_date.isoformat() for t in result} == {
        f"2025-02-{day:02d}" for day in range(1, 25)
    }
    assert requests_seen(sandbox, link) == {"POST": 1}


def test_signs_follow_the_direction_and_unknown_is_kept_as_sent(conn: Connector) -> None:
    result = conn.transactions(
        link=unique("many-600"), date_from="2024-11-01", date_to="2025-02-24"
    )
    directions = {t.direction for t in result}
    assert directions == set(TransactionDirection)  # the seeded history has all three
    for t in result:
        if t.direction is TransactionDirection.OUTFLOW:
            assert t.amount.amount < 0 and t.provider_direction == "OUTFLOW"
        else:
            assert t.amount.amount > 0
        assert t.transacted_at is not None and t.transacted_at.utcoffset() is not None
    flagged = [
        t.counterparty.party
        for t in result
        if t.counterparty is not None and t.counterparty.party is not None
    ]
    assert {(p.tax_id, p.tax_id_valid) for p in flagged} == {
        ("11144477735", True),
        ("11222333000181", True),
        ("11144477736", False),
    }


def test_one_account_only(conn: Connector) -> None:
    link = unique("many-300")
    accounts = conn.accounts(link=link)
    first = accounts.items[0].account_id
    mine = conn.transactions(link=link, account=first, **FEBRUARY)
    assert len(mine) > 0 and {t.account_id for t in mine} == {first}
    everything = conn.transactions(link=link, **FEBRUARY)
    assert [t for t in everything if t.account_id == first] == list(mine)


def test_stored_transactions_follow_every_page(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("many-2500")
    result = conn.transactions(link=link, stored=True)
    assert len(result) == 2500
    assert len({t.transaction_id for t in result}) == 2500
    assert requests_seen(sandbox, link) == {"GET": 3}  # pages of 1000, 1000 and 500
    assert result.references == {"count": "2500"}


def test_stored_with_a_small_page_and_a_date_filter(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("many-2500")
    result = conn.transactions(link=link, stored=True, page_size=10, **FEBRUARY)
    assert len(result) == 72
    assert requests_seen(sandbox, link) == {"GET": 8}


def test_fetched_and_stored_agree(conn: Connector) -> None:
    link = unique("many-90")
    fetched = conn.transactions(link=link, **FEBRUARY)
    stored = conn.transactions(link=link, stored=True, page_size=7, **FEBRUARY)
    assert list(stored) == list(fetched)
    assert list(conn.accounts(link=link, stored=True)) == list(conn.accounts(link=link))


def test_streaming_asks_for_a_page_only_when_needed(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("many-2500")
    stream = conn.iter_transactions(link=link, stored=True)
    first = next(stream)
    assert first.value_date.isoformat() == "2025-02-24"
    assert requests_seen(sandbox, link) == {"GET": 1}
    assert sum(1 for _ in stream) == 2499
    assert requests_seen(sandbox, link) == {"GET": 3}


def test_async_streaming_and_gathering(sandbox: Sandbox) -> None:
    async def run() -> tuple[int, int]:
        async with sandbox.connect("belvo.br") as conn:
            link = unique("many-1500")
            streamed = [
                t.transaction_id async for t in conn.aiter_transactions(link=link, stored=True)
            ]
            gathered = await conn.atransactions(link=link, stored=True)
            return len(streamed), len(gathered)

    assert asyncio.run(run()) == (1500, 1500)


def test_a_looping_provider_is_an_error_not_a_hang(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("loop")
    with pytest.raises(MappingError, match="repeats an earlier page"):
        conn.transactions(link=link, stored=True, page_size=5)
    assert requests_seen(sandbox, link) == {"GET": 1}


def test_a_foreign_next_link_is_never_followed(conn: Connector) -> None:
    with pytest.raises(MappingError, match=r"elsewhere\.example"):
        conn.accounts(link=unique("foreign"), stored=True, page_size=1)


def test_max_pages_bounds_a_call(sandbox: Sandbox) -> None:
    conn = sandbox.connect("belvo.br", max_pages=2)
    with conn, pytest.raises(TransportError, match="more than 2 pages"):
        conn.transactions(link=unique("many-2500"), stored=True)


def test_transactions_need_a_range_unless_stored(conn: Connector) -> None:
    from caudal import ConfigurationError

    with pytest.raises(ConfigurationError, match="date_from and date_to are required"):
        conn.transactions(link="x")
    with pytest.raises(ConfigurationError, match="date_from must not be after date_to"):
        conn.transactions(link="x", date_from="2025-02-02", date_to="2025-02-01")


@pytest.mark.parametrize("capability", ["accounts", "transactions"])
def test_a_challenge_is_answered_and_resumed(
    conn: Connector, sandbox: Sandbox, capability: str
) -> None:
    params = {"link": MFA_LINK, **(FEBRUARY if capability == "transactions" else {})}
    with pytest.raises(ChallengeRequired) as caught:
        conn.call(capability, params)
    kept = Challenge.model_validate_json(caught.value.challenge.model_dump_json())
    assert kept.capability == capability and kept.expires_at > datetime.now(UTC)
    result = conn.resume(kept, MFA_TOKEN)
    assert result.capability == capability and len(result) > 0
    if capability == "transactions":
        assert {t.value_date.month for t in result} == {2}  # the range travelled in the session
        assert all(t.value_date.year == 2025 for t in result)


@pytest.mark.parametrize(("status", "code"), [(400, "invalid_link"), (500, "unexpected_error")])
def test_documented_errors(conn: Connector, sandbox: Sandbox, status: int, code: str) -> None:
    link = unique(f"error-{status}")
    with pytest.raises(ProviderError) as caught:
        conn.transactions(link=link, **FEBRUARY)
    assert (caught.value.code, caught.value.status) == (code, status)
    assert caught.value.capability == "transactions"
    assert requests_seen(sandbox, link) == {"POST": 1 if status == 400 else 3}


def test_a_transient_failure_on_a_page_is_retried(conn: Connector, sandbox: Sandbox) -> None:
    link = unique("flaky-1")
    assert len(conn.accounts(link=link, stored=True)) >= 1
    assert requests_seen(sandbox, link) == {"GET": 2}


def test_an_answer_that_is_not_paged_is_one_page(conn: Connector) -> None:
    link = unique("account")
    (page,) = list(conn.pages("balance", link=link))
    assert list(page) == list(conn.balance(link=link))
    fetched = list(conn.pages("transactions", link=link, **FEBRUARY))
    assert len(fetched) == 1  # a POST fetch is one bare array

"""Hypothesis strategies for Belvo bodies, derived from the raw models the connector reads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from caudal.testing import strategies as caudal_st
from caudal_belvo.raw import RawBalance, RawTokenRequired

BELVO_CURRENCIES = st.one_of(st.just("BRL"), caudal_st.currencies())


def long_amounts() -> st.SearchStrategy[Decimal]:
    """Belvo's figures: mostly two decimals, sometimes trailing zeros, many digits, negative."""
    many_digits = st.integers(0, 6).flatmap(
        lambda places: st.decimals(
            allow_nan=False,
            allow_infinity=False,
            places=places,
            min_value=-(Decimal(10) ** 28),
            max_value=Decimal(10) ** 28,
        )
    )
    return st.one_of(caudal_st.amounts("BRL", extra_places=2), many_digits)


AMOUNTS = {key: long_amounts() for key in ("available", "blocked", "automatically_invested")}


def balance_objects() -> st.SearchStrategy[dict[str, Any]]:
    """One 200/201 balance object, as JSON-ready values (numbers as Decimal)."""
    return caudal_st.from_model(RawBalance, {**AMOUNTS, "currency": BELVO_CURRENCIES})


def balance_bodies(min_size: int = 0) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A whole 200/201 body: an array of balance objects, one per account."""
    return st.lists(balance_objects(), min_size=min_size, max_size=4)


def token_required_bodies() -> st.SearchStrategy[list[dict[str, Any]]]:
    """A 428 body Belvo may send: session and a sane expiry, the rest anything of its type."""
    overrides = {
        "session": st.text(min_size=1, max_size=40),
        "expiry": st.integers(0, 10**7),
    }
    return st.lists(caudal_st.from_model(RawTokenRequired, overrides), min_size=1, max_size=2)


def account_bodies(min_size: int = 0) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A fetched accounts body: an array of OFDA accounts."""
    from caudal_belvo.raw_ofda import RawAccount

    account = caudal_st.from_model(RawAccount, {"currency": BELVO_CURRENCIES})
    return st.lists(account, min_size=min_size, max_size=3)


def transaction_bodies(min_size: int = 0) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A fetched transactions body: OFDA transactions, each with a currency."""
    from caudal_belvo.raw_ofda import RawTransaction

    overrides = {
        "currency": BELVO_CURRENCIES,
        "type": st.sampled_from(["INFLOW", "OUTFLOW", None, "OTHER"]),
        "status": st.sampled_from(["PROCESSED", "PENDING", "UNCATEGORIZED", None]),
        "mcc": st.one_of(st.none(), st.integers(0, 9999)),  # int32, documented as 4 digits
    }
    transaction = caudal_st.from_model(RawTransaction, overrides)
    return st.lists(transaction, min_size=min_size, max_size=3)

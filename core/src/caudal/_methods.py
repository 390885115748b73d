"""Typed capability methods of `Connector`, generated from `caudal.capabilities`.

Do not edit: regenerate with `make docs-sync` (a test fails while this file is stale). Each
method calls `Connector.call` / `acall` (or `records` / `arecords` for the page-by-page
iterators), so the behaviour lives in one place and only the types are spelled out here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast, overload

from .model import Account, Balance, Contribution, Loan, Transaction

if TYPE_CHECKING:
    from .model import Pending, Result

__all__ = ["CapabilityMethods"]


class CapabilityMethods:
    """The named capability methods; `Connector` inherits them."""

    if TYPE_CHECKING:

        def call(
            self,
            capability: str,
            params: dict[str, Any],
            *,
            callback_url: str | None = None,
            keep_raw: bool = False,
        ) -> Result[Any] | Pending: ...

        async def acall(
            self,
            capability: str,
            params: dict[str, Any],
            *,
            callback_url: str | None = None,
            keep_raw: bool = False,
        ) -> Result[Any] | Pending: ...

        def records(self, capability: str, params: dict[str, Any]) -> Iterator[Any]: ...

        def arecords(self, capability: str, params: dict[str, Any]) -> AsyncIterator[Any]: ...

    @overload
    def balance(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Balance]: ...
    @overload
    def balance(self, *, callback_url: str, keep_raw: bool = False, **params: Any) -> Pending: ...
    def balance(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Balance] | Pending:
        """Account balances: available, booked, blocked, invested figures.

        With `callback_url` the provider delivers later: a `Pending`.
        """
        outcome = self.call("balance", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Balance] | Pending", outcome)

    @overload
    async def abalance(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Balance]: ...
    @overload
    async def abalance(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    async def abalance(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Balance] | Pending:
        """Async twin of `balance`."""
        outcome = await self.acall("balance", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Balance] | Pending", outcome)

    @overload
    def contributions(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Contribution]: ...
    @overload
    def contributions(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    def contributions(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Contribution] | Pending:
        """Credited social-security contributions, one per accrual month and employer.

        With `callback_url` the provider delivers later: a `Pending`.
        """
        outcome = self.call("contributions", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Contribution] | Pending", outcome)

    @overload
    async def acontributions(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Contribution]: ...
    @overload
    async def acontributions(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    async def acontributions(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Contribution] | Pending:
        """Async twin of `contributions`."""
        outcome = await self.acall(
            "contributions", params, callback_url=callback_url, keep_raw=keep_raw
        )
        return cast("Result[Contribution] | Pending", outcome)

    @overload
    def loans(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Loan]: ...
    @overload
    def loans(self, *, callback_url: str, keep_raw: bool = False, **params: Any) -> Pending: ...
    def loans(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Loan] | Pending:
        """The account holder's loans: outstanding and granted amounts, instalments.

        With `callback_url` the provider delivers later: a `Pending`.
        """
        outcome = self.call("loans", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Loan] | Pending", outcome)

    @overload
    async def aloans(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Loan]: ...
    @overload
    async def aloans(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    async def aloans(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Loan] | Pending:
        """Async twin of `loans`."""
        outcome = await self.acall("loans", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Loan] | Pending", outcome)

    @overload
    def accounts(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Account]: ...
    @overload
    def accounts(self, *, callback_url: str, keep_raw: bool = False, **params: Any) -> Pending: ...
    def accounts(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Account] | Pending:
        """The holder's accounts: category, number, balances and limits.

        With `callback_url` the provider delivers later: a `Pending`.
        """
        outcome = self.call("accounts", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Account] | Pending", outcome)

    @overload
    async def aaccounts(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Account]: ...
    @overload
    async def aaccounts(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    async def aaccounts(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Account] | Pending:
        """Async twin of `accounts`."""
        outcome = await self.acall("accounts", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Account] | Pending", outcome)

    def iter_accounts(self, **params: Any) -> Iterator[Account]:
        """`accounts` record by record, fetched page by page (memory: one page at a time)."""
        return self.records("accounts", params)

    def aiter_accounts(self, **params: Any) -> AsyncIterator[Account]:
        """Async twin of `iter_accounts`: `async for record in conn.aiter_accounts(...)`."""
        return self.arecords("accounts", params)

    @overload
    def transactions(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Transaction]: ...
    @overload
    def transactions(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    def transactions(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Transaction] | Pending:
        """An account's transactions, money in positive and money out negative.

        With `callback_url` the provider delivers later: a `Pending`.
        """
        outcome = self.call("transactions", params, callback_url=callback_url, keep_raw=keep_raw)
        return cast("Result[Transaction] | Pending", outcome)

    @overload
    async def atransactions(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Transaction]: ...
    @overload
    async def atransactions(
        self, *, callback_url: str, keep_raw: bool = False, **params: Any
    ) -> Pending: ...
    async def atransactions(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Transaction] | Pending:
        """Async twin of `transactions`."""
        outcome = await self.acall(
            "transactions", params, callback_url=callback_url, keep_raw=keep_raw
        )
        return cast("Result[Transaction] | Pending", outcome)

    def iter_transactions(self, **params: Any) -> Iterator[Transaction]:
        """`transactions` record by record, fetched page by page (memory: one page at a time)."""
        return self.records("transactions", params)

    def aiter_transactions(self, **params: Any) -> AsyncIterator[Transaction]:
        """Async twin of `iter_transactions`: `async for record in conn.aiter_transactions(...)`."""
        return self.arecords("transactions", params)

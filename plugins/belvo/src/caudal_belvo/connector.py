"""The `belvo.br` connector: a Brazilian Open Finance link's accounts, balances and
transactions through Belvo.

    conn = registry.get("belvo.br", secret_id=..., secret_password=...)
    try:
        result = conn.balance(link="c81a1dea-6dd6-4999-8b9f-541ee8197058")
    except ChallengeRequired as e:
        keep(e.challenge.model_dump_json())      # ask the end user for the token
        ...
        result = conn.resume(Challenge.model_validate_json(kept), token=token)

    accounts = conn.accounts(link=link)                      # POST /api/accounts/
    moves = conn.transactions(link=link, date_from="2025-02-01", date_to="2025-02-24")
    stored = conn.transactions(link=link, stored=True)       # GET, every page followed
    for t in conn.iter_transactions(link=link, stored=True): # one page in memory at a time
        ...

`balance` reads `POST /api/br/balances/` (three figures per account, below). `accounts` and
`transactions` read Belvo's Open Finance ("OFDA") `/api/accounts/` and `/api/transactions/`:
by default `POST` (Belvo fetches from the institution; a bare array; `save_data` as for
balances), or with `stored=True` `GET` (what Belvo already holds, in pages of `page_size`, up
to 1000, every `next` link followed on Belvo's own origin only, at most `max_pages` pages).
A transaction's amount is signed by Belvo's `type` (INFLOW positive, OUTFLOW negative, null:
`unknown`, kept as sent, never guessed); PROCESSED is `booked`, PENDING `pending`; an
account's `current` balance is signed by `balance_type` (LIABILITY negative); counterparty
CPF/CNPJ are checked and flagged, never refused. A challenge on any of the three is answered
with `conn.resume` (`PATCH` on that capability's path).

Sans-I/O like every connector: it describes the request and reads the reply; the core runtime
sends it, retries what Belvo says is transient (408, 500) and never what cannot change (400,
401, 403).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from caudal import (
    Balance,
    Call,
    Challenge,
    ConfigurationError,
    Connector,
    Operation,
    Reply,
    Request,
    Result,
    RetryAdvice,
    TransportError,
    capability,
)

from .errors import error_for
from .mapping import BALANCE_PROVENANCE, read_balances
from .mapping_ofda import (
    ACCOUNTS_PROVENANCE,
    TRANSACTIONS_PROVENANCE,
    next_link,
    read_accounts,
    read_transactions,
)
from .raw import BalancesRequest, RawResumeRequest
from .raw_ofda import AccountsQuery, AccountsRequest, TransactionsQuery, TransactionsRequest
from .settings import BelvoSettings

__all__ = [
    "ACCOUNTS_PATH",
    "BALANCES_PATH",
    "TRANSACTIONS_PATH",
    "AccountParams",
    "BalanceParams",
    "BelvoBrConnector",
    "TransactionParams",
]

BALANCES_PATH = "/api/br/balances/"
ACCOUNTS_PATH = "/api/accounts/"
TRANSACTIONS_PATH = "/api/transactions/"
PATHS = {"balance": BALANCES_PATH, "accounts": ACCOUNTS_PATH, "transactions": TRANSACTIONS_PATH}
"""Where each capability is asked, and where its challenge is answered (`PATCH`)."""
PAGE_SIZE = 1000
"""Belvo's largest page (it clamps larger ones): the fewest requests for stored data."""


class BalanceParams(BaseModel):
    """Parameters of `conn.balance(...)`.

    `link`: the Belvo link id. `account_id`: only that account (Belvo recommends it).
    `save_data`: whether Belvo persists the balances (Belvo's default, true, answers 201;
    false answers 200 and keeps nothing); left out, Belvo's default applies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    account_id: str | None = Field(default=None, min_length=1)
    save_data: bool | None = None


class AccountParams(BaseModel):
    """Parameters of `conn.accounts(...)`.

    `link`: the Belvo link id. `stored=False` (the default) fetches from the institution
    (`POST`, a bare array; `save_data` as for balances); `stored=True` reads what Belvo already
    holds (`GET`, every page followed, `page_size` up to 1000).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    save_data: bool | None = None
    stored: bool = False
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=1000)


class TransactionParams(BaseModel):
    """Parameters of `conn.transactions(...)`.

    `link`; `date_from` and `date_to` (`YYYY-MM-DD`, required to fetch from the institution;
    with `stored=True` they filter `value_date` and may be left out); `account`: only that
    account. `stored`, `save_data`, `page_size` as for accounts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    date_from: date | None = None
    date_to: date | None = None
    account: str | None = Field(default=None, min_length=1)
    save_data: bool | None = None
    stored: bool = False
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=1000)

    @model_validator(mode="after")
    def _a_range(self) -> Self:
        if not self.stored and (self.date_from is None or self.date_to is None):
            raise ValueError("date_from and date_to are required (unless stored=True)")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self


def accounts_request(call: Call[AccountParams]) -> Request:
    """`POST /api/accounts/` (fetch), or `GET /api/accounts/?link=` (stored, paged)."""
    assert call.params is not None
    p = call.params
    if p.stored:
        query = AccountsQuery(link=p.link, page_size=p.page_size)
        return Request("GET", ACCOUNTS_PATH, params=_query(query))
    body = AccountsRequest(link=p.link, save_data=p.save_data)
    return Request("POST", ACCOUNTS_PATH, json=body.model_dump(exclude_none=True))


def transactions_request(call: Call[TransactionParams]) -> Request:
    """`POST /api/transactions/` (fetch), or `GET /api/transactions/?link=` (stored, paged)."""
    assert call.params is not None
    p = call.params
    if p.stored:
        query = TransactionsQuery(
            link=p.link,
            account=p.account,
            value_date__gte=p.date_from,
            value_date__lte=p.date_to,
            page_size=p.page_size,
        )
        return Request("GET", TRANSACTIONS_PATH, params=_query(query))
    assert p.date_from is not None and p.date_to is not None  # the params model checked it
    body = TransactionsRequest(
        link=p.link,
        account=p.account,
        date_from=p.date_from,
        date_to=p.date_to,
        save_data=p.save_data,
    )
    return Request("POST", TRANSACTIONS_PATH, json=body.model_dump(mode="json", exclude_none=True))


def _query(query: BaseModel) -> dict[str, str]:
    return {k: str(v) for k, v in query.model_dump(mode="json", exclude_none=True).items()}


def balances_request(call: Call[BalanceParams]) -> Request:
    """`POST /api/br/balances/` with only the parameters the caller gave."""
    assert call.params is not None  # the runtime always validates parameters first
    body = BalancesRequest.model_validate(call.params.model_dump(exclude_none=True))
    return Request("POST", BALANCES_PATH, json=body.model_dump(exclude_none=True))


def read_reply(reply: Reply, call: Call[Any]) -> Result[Balance]:
    """200 and 201 carry the balances; an error status is Belvo's (or a proxy's) error."""
    return _read_with(read_balances, reply, call)


def read_accounts_reply(reply: Reply, call: Call[Any]) -> Result[Any]:
    """200 and 201 carry accounts (an array, or a page); else Belvo's error."""
    return _read_with(read_accounts, reply, call)


def read_transactions_reply(reply: Reply, call: Call[Any]) -> Result[Any]:
    """200 and 201 carry transactions (an array, or a page); else Belvo's error."""
    return _read_with(read_transactions, reply, call)


def _read_with(read: Any, reply: Reply, call: Call[Any]) -> Result[Any]:
    if reply.status in (200, 201):
        result: Result[Any] = read(reply, call)
        return result
    if reply.status < 400:
        # Undocumented (a 204, a redirect we do not follow): reading it as balances could
        # report an empty account list that is not one.
        raise TransportError(
            f"HTTP {reply.status} is not an answer Belvo documents (200 or 201 carry the data)",
            connector=call.connector,
            capability=call.capability,
            status=reply.status,
            retry=RetryAdvice.NEVER,
        )
    raise error_for(reply, call)


class BelvoBrConnector(Connector):
    """Belvo Brazil (Open Finance Brasil): a link's accounts, their balances and transactions."""

    name = "belvo.br"
    title = "Belvo Brazil"
    settings_class = BelvoSettings
    settings: BelvoSettings
    provenance = (BALANCE_PROVENANCE, ACCOUNTS_PROVENANCE, TRANSACTIONS_PROVENANCE)

    @capability("balance")
    def _balance(self) -> Operation[BalanceParams]:
        return Operation(BalanceParams, request=balances_request, read=read_reply)

    @capability("accounts")
    def _accounts(self) -> Operation[AccountParams]:
        return Operation(
            AccountParams,
            request=accounts_request,
            read=read_accounts_reply,
            next_page=next_link,
        )

    @capability("transactions")
    def _transactions(self) -> Operation[TransactionParams]:
        return Operation(
            TransactionParams,
            request=transactions_request,
            read=read_transactions_reply,
            next_page=next_link,
        )

    def http_auth(self) -> httpx.Auth:
        """HTTP basic auth with the Belvo secret key id and password."""
        return httpx.BasicAuth(
            self.settings.secret_id.get_secret_value(),
            self.settings.secret_password.get_secret_value(),
        )

    def resume_request(self, challenge: Challenge, token: str) -> Request:
        """`PATCH <the capability's path> {session, token, link}`: Belvo continues the original
        request. The session remembers what was asked (account, dates, save_data), so only
        these three travel.
        """
        link = challenge.link or challenge.params.get("link")
        if not isinstance(link, str) or not link:
            raise ConfigurationError(
                "challenge has no link to resume",
                connector=self.name,
                capability=challenge.capability,
            )
        body = RawResumeRequest(session=challenge.session, token=token, link=link)
        path = PATHS.get(challenge.capability)
        if path is None:
            raise ConfigurationError(
                "challenge names a capability this connector does not resume",
                connector=self.name,
                capability=challenge.capability,
            )
        return Request("PATCH", path, json=body.model_dump())

"""The emulator's Open Finance accounts and transactions: `/api/accounts/`, `/api/transactions/`.

`POST` fetches (a bare array, 201, or 200 with `save_data=false`), `GET` lists what is stored
(pages of `page_size`, default 100, at most 1000, linked by absolute `next` URLs), `PATCH`
answers a challenge. The link id picks the scenario exactly as for balances (`error-<status>`,
`html-<status>`, `flaky-<n>`, `slow-<s>`, `mfa-...`, `expired-mfa`, `empty`), plus:

- `many-<n>[-...]`: a link with n transactions (up to 2,000,000), generated on demand page by
  page (transaction i is a pure function of the link without n, and of i: a shorter history of
  the same link is the start of a longer one), so a page of a huge history costs what a page
  costs;
- `loop[-...]`: a `GET` whose `next` link points at the page itself (a broken provider);
- `foreign[-...]`: a `GET` whose `next` link points at another host.

Transaction i of a link has `value_date` = 2025-02-24 minus i // 3 days, so a date range is a
contiguous run of indexes; it belongs to the link's account i mod (number of accounts).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from .raw_ofda import (
    AccountsRequest,
    RawAccount,
    RawAccountBalance,
    RawAccountRef,
    RawCardBill,
    RawCounterparty,
    RawCreditCardData,
    RawCreditData,
    RawInstitution,
    RawMerchant,
    RawOverdraft,
    RawTransaction,
    TransactionsRequest,
)

if TYPE_CHECKING:
    from .emulator import Belvo

__all__ = [
    "ANCHOR",
    "MAX_TRANSACTIONS",
    "OFDA_CASES",
    "Ofda",
    "seeded_ofda_accounts",
    "transaction_at",
    "transaction_count",
]

ANCHOR = date(2025, 2, 24)
"""The newest `value_date` of every seeded history."""
PER_DAY = 3
MAX_TRANSACTIONS = 2_000_000
DEFAULT_PAGE = 100
MAX_PAGE = 1000
_DAY0 = date(2000, 1, 1)
_COLLECTED = datetime(2025, 2, 24, 8, 45, 50, 406032, tzinfo=UTC)

OFDA_CASES: dict[str, str] = {
    "accounts and transactions": (
        "POST /api/accounts/ or /api/transactions/ (link, date_from, date_to, account): a bare "
        "array seeded from the link id; GET lists them in pages (page_size up to 1000) linked "
        "by absolute next URLs; every balance scenario above applies to them too"
    ),
    "long history": "link many-<n>[-...]: n transactions (up to 2,000,000), paged on demand",
    "endless pages": "link loop[-...]: GET pages whose next link is the page itself",
    "foreign next link": "link foreign[-...]: GET pages whose next link is another host",
}

# -- seeded data ----------------------------------------------------------------------------------

_CATEGORIES = (
    ("CHECKING_ACCOUNT", "ASSET", "CONTA_DEPOSITO_A_VISTA", "INDIVIDUAL"),
    ("SAVINGS_ACCOUNT", "ASSET", "CONTA_POUPANCA", "INDIVIDUAL"),
    ("CREDIT_CARD", "LIABILITY", "CARTAO_CREDITO", "TITULAR"),
    ("LOAN_ACCOUNT", "LIABILITY", "EMPRESTIMO", "CREDITO_PESSOAL_SEM_CONSIGNACAO"),
)
_DESCRIPTIONS = {
    "INFLOW": ("PIX RECEBIDO", "TED RECEBIDA", "SALARIO"),
    "OUTFLOW": ("PIX ENVIADO", "PGTO BOLETO", "COMPRA CARTAO", "SAQUE 24H", "TARIFA PACOTE"),
    None: ("LANCAMENTO",),
}
_OPERATIONS = ("PIX", "TED", "BOLETO", "CARTAO", "SAQUE", "TARIFA_SERVICOS_AVULSOS")
_DOCUMENTS = (
    ("INDIVIDUAL", "11144477735"),  # a valid CPF
    ("COMPANY", "11222333000181"),  # a valid CNPJ
    ("INDIVIDUAL", "11144477736"),  # a CPF whose check digit fails: kept, flagged
    (None, None),
)


def _amount(rng: random.Random, top: int) -> Decimal:
    cents = rng.randint(1, top * 100)
    if rng.random() < 0.2:
        cents -= cents % 10  # a trailing zero, kept as sent
    return Decimal(cents).scaleb(-2)


def _uuid(rng: random.Random) -> str:
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _seed(link: str) -> str:
    """What the data is seeded from: the link, without a `many-<n>` count, so a shorter
    history of the same link (`many-10-x`) is the start of a longer one (`many-1000-x`)."""
    word, _, rest = link.partition("-")
    count, _, tail = rest.partition("-")
    return f"many--{tail}" if word == "many" and count.isdigit() else link


def seeded_ofda_accounts(link: str) -> list[RawAccount]:
    """The accounts of `link` (1 to 3; always the same for the same link id)."""
    rng = random.Random(f"belvo.br:ofda:{_seed(link)}")
    return [_account(rng, link, n) for n in range(rng.randint(1, 3))]


def _account(rng: random.Random, link: str, n: int) -> RawAccount:
    category, balance_type, kind, subtype = _CATEGORIES[(n + rng.randint(0, 3)) % 4]
    card = category == "CREDIT_CARD"
    limit = _amount(rng, 20_000) if card else None
    current = _amount(rng, 15_000)
    return RawAccount(
        id=_uuid(rng),
        link=link,
        institution=RawInstitution(name="ofmockbank_br_retail", type="bank"),
        collected_at=_COLLECTED,
        created_at=_COLLECTED + timedelta(seconds=1),
        category=category,
        balance_type=balance_type,
        type=kind,
        subtype=subtype,
        name=f"Conta {n + 1}",
        number=f"{rng.randint(0, 99_999_999):08d}",  # leading zeros are part of it
        agency=None if card else f"{rng.randint(1, 9999):04d}",
        check_digit=None if card else str(rng.randint(0, 9)),
        currency="BRL",
        internal_identification=f"ACC-{rng.randint(0, 10**12)}",
        balance=RawAccountBalance(
            current=current,
            available=(limit - current if limit and limit > current else Decimal("0.00"))
            if card
            else _amount(rng, 15_000),
            blocked=Decimal("0.00"),
        ),
        overdraft=RawOverdraft(
            arranged=Decimal("1000.00"), used=Decimal("0.00"), unarranged=Decimal("0.00")
        )
        if category == "CHECKING_ACCOUNT"
        else None,
        credit_data=RawCreditData(collected_at=_COLLECTED, credit_limit=limit, network="VISA")
        if card
        else None,
    )


def transaction_count(link: str) -> int:
    """How many transactions the link's history holds."""
    word, _, rest = link.partition("-")
    if word == "empty":
        return 0
    arg = rest.partition("-")[0]
    if word == "many" and arg.isdigit():
        return min(int(arg), MAX_TRANSACTIONS)
    return random.Random(f"belvo.br:ofda:count:{link}").randint(8, 60)


def transaction_at(link: str, i: int, accounts: list[RawAccount]) -> RawTransaction:
    """Transaction number `i` of `link` (newest first), always the same."""
    rng = random.Random(f"belvo.br:ofda:{_seed(link)}:{i}")
    account = accounts[i % len(accounts)]
    card = account.category == "CREDIT_CARD"
    roll = rng.random()
    direction = "INFLOW" if roll < 0.4 else "OUTFLOW" if roll < 0.95 else None
    day = ANCHOR - timedelta(days=i // PER_DAY)
    at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        milliseconds=rng.randint(0, 86_399_999)
    )
    kind, document = _DOCUMENTS[rng.randint(0, 3)]
    amount = _amount(rng, 5_000)
    return RawTransaction(
        id=_uuid(rng),
        internal_identification=f"TX{i:012d}",
        account=RawAccountRef(id=account.id, currency=account.currency),
        collected_at=_COLLECTED,
        created_at=_COLLECTED,
        value_date=day,
        transacted_at=at,
        accounting_date=day,
        amount=amount,
        local_currency_amount=amount if card else None,
        currency="BRL",
        description=rng.choice(_DESCRIPTIONS[direction]),
        status="PENDING" if rng.random() < 0.1 else "PROCESSED",
        type=direction,
        counterparty=None
        if document is None
        else RawCounterparty(
            type=kind,
            document_number=document,
            clearing_code=f"{rng.randint(1, 999):03d}",
            agency=f"{rng.randint(1, 9999):04d}",
            number=f"{rng.randint(0, 10**10):010d}",
            check_digit=str(rng.randint(0, 9)),
        ),
        payment_type="INSTALLMENT" if card and rng.random() < 0.3 else "FULL",
        operation_type="CARTAO" if card else rng.choice(_OPERATIONS),
        mcc=rng.choice((742, 5411, 5812, 4121)) if card else None,
        merchant=RawMerchant(merchant_name="Mercado Livre") if card else None,
        credit_card_data=RawCreditCardData(
            collected_at=_COLLECTED,
            card_number=account.number[-4:] if account.number else None,
            installment_identifier=f"PARCELA_{i}",
            number_of_installments=rng.randint(1, 12),
            credit_card_bill=RawCardBill(id=_uuid(rng)),
        )
        if card
        else None,
    )


def indexes(
    link: str,
    accounts: list[RawAccount],
    account: str | None,
    date_from: date | None,
    date_to: date | None,
) -> range:
    """The transaction indexes a request selects: a range (a date range is contiguous, an
    account a stride of it), never a list, so a huge history costs nothing until paged."""
    count = transaction_count(link)
    low = 0 if date_to is None else max(0, (ANCHOR - date_to).days * PER_DAY)
    high = count if date_from is None else min(count, ((ANCHOR - date_from).days + 1) * PER_DAY)
    chosen = range(low, max(low, high))
    if account is None:
        return chosen
    ids = [a.id for a in accounts]
    if account not in ids:
        return range(0)
    slot = ids.index(account)
    first = next((i for i in range(low, low + len(ids)) if i % len(ids) == slot), high)
    return range(first, max(first, high), len(ids))


# -- sessions: what a challenge was about, sealed as for balances ---------------------------------

_SEAL_KEY = b"caudal-belvo-sandbox-ofda-sessions"
_SAVE = {None: 0, True: 1, False: 2}


def _days(value: date | None) -> int:
    return 0 if value is None else (value - _DAY0).days + 1


def _day(number: int) -> date | None:
    return None if number == 0 else _DAY0 + timedelta(days=number - 1)


def _mac(resource: str, link: str, head: bytes) -> bytes:
    return hmac.new(_SEAL_KEY, f"{resource}:{link}".encode() + head, hashlib.sha256).digest()[:6]


def seal(resource: str, asked: AccountsRequest | TransactionsRequest, expiry: int) -> str:
    """A 32-hex session carrying save_data, the account slot, the dates and a deadline."""
    slot = 0
    if isinstance(asked, TransactionsRequest) and asked.account is not None:
        ids = [a.id for a in seeded_ofda_accounts(asked.link)]
        slot = ids.index(asked.account) + 1 if asked.account in ids else 63
    dates = (
        (asked.date_from, asked.date_to) if isinstance(asked, TransactionsRequest) else (None,) * 2
    )
    head = (
        bytes([_SAVE[asked.save_data] | slot << 2])
        + (int(time.time()) + expiry).to_bytes(4, "big")
        + _days(dates[0]).to_bytes(2, "big")
        + _days(dates[1]).to_bytes(2, "big")
        + secrets.token_bytes(1)
    )
    return (head + _mac(resource, asked.link, head)).hex()


def unseal(resource: str, session: str, link: str) -> dict[str, Any] | None:
    """The request body a live session of `link` completes; None if forged or expired."""
    try:
        raw = bytes.fromhex(session)
    except ValueError:
        return None
    head, mac = raw[:10], raw[10:]
    if len(raw) != 16 or not hmac.compare_digest(mac, _mac(resource, link, head)):
        return None
    if int.from_bytes(head[1:5], "big") <= time.time():
        return None
    save = {v: k for k, v in _SAVE.items()}.get(head[0] & 3)
    asked: dict[str, Any] = {"link": link, "save_data": save}
    if resource == "transactions":
        slot = head[0] >> 2
        accounts = seeded_ofda_accounts(link)
        asked["account"] = (
            None if slot == 0 else accounts[slot - 1].id if slot <= len(accounts) else "unknown"
        )
        asked["date_from"] = _day(int.from_bytes(head[5:7], "big"))
        asked["date_to"] = _day(int.from_bytes(head[7:9], "big"))
    return asked


# -- the routes -----------------------------------------------------------------------------------

Scenario = Callable[
    [str, int, Callable[[int], Response], Callable[[], Response]], Awaitable[Response]
]
"""`Belvo.scenario(link, attempt, challenge, success)`: the link's scenario, shared with
balances."""


class Ofda:
    """`/api/accounts/` and `/api/transactions/` over the balance emulator's state and helpers."""

    def __init__(self, belvo: Belvo) -> None:
        self.belvo = belvo

    async def accounts(self, request: Request) -> Response:
        return await self._route(request, "accounts")

    async def transactions(self, request: Request) -> Response:
        return await self._route(request, "transactions")

    async def _route(self, request: Request, resource: str) -> Response:
        from .emulator import _error

        if request.method == "GET":
            return await self._list(request, resource)
        try:
            body = await request.json()
        except ValueError:
            self.belvo.state.count(request.method, "")
            return _error(400, "invalid", "The request body is not valid JSON.")
        link = str(body.get("link", "")) if isinstance(body, dict) else ""
        attempt = self.belvo.state.count(request.method, link)
        if not self.belvo.authorized(request):
            return _error(401)
        if request.method == "PATCH":
            return self._resume(resource, body)
        model = AccountsRequest if resource == "accounts" else TransactionsRequest
        try:
            asked = model.model_validate(body)
        except ValidationError as exc:
            return _error(400, "invalid", _problem(exc))
        if isinstance(asked, TransactionsRequest) and asked.date_to > datetime.now(UTC).date():
            return _error(400, "invalid", "date_to: must not be after today.")
        return await self.belvo.scenario(
            asked.link,
            attempt,
            lambda expiry: self._challenge(resource, asked, expiry),
            lambda: self._fetched(resource, asked),
        )

    def _challenge(
        self, resource: str, asked: AccountsRequest | TransactionsRequest, expiry: int
    ) -> Response:
        return self.belvo.challenge_answer(seal(resource, asked, expiry), asked.link, expiry)

    def _resume(self, resource: str, body: Any) -> Response:
        from .emulator import MFA_EXPIRY, MFA_TOKEN, _error
        from .raw import RawResumeRequest

        try:
            answer = RawResumeRequest.model_validate(body)
        except ValidationError as exc:
            return _error(400, "invalid", _problem(exc))
        asked = unseal(resource, answer.session, answer.link)
        used = self.belvo.state.used_sessions
        if asked is None or answer.session in used:
            return _error(
                400, "session_expired", "The MFA session has expired or is not of this link."
            )
        used.add(answer.session)
        model = AccountsRequest if resource == "accounts" else TransactionsRequest
        again = model.model_validate(asked)
        if answer.token != MFA_TOKEN:
            return self._challenge(resource, again, MFA_EXPIRY)
        return self._fetched(resource, again)

    def _fetched(self, resource: str, asked: AccountsRequest | TransactionsRequest) -> Response:
        from .emulator import _answer

        status = 200 if asked.save_data is False else 201
        accounts = seeded_ofda_accounts(asked.link)
        if isinstance(asked, AccountsRequest):
            listed = [] if asked.link.startswith("empty") else accounts
            return _answer(status, [a.model_dump() for a in listed])
        chosen = indexes(asked.link, accounts, asked.account, asked.date_from, asked.date_to)
        return _answer(
            status, [transaction_at(asked.link, i, accounts).model_dump() for i in chosen]
        )

    async def _list(self, request: Request, resource: str) -> Response:
        from .emulator import _answer, _error

        query = request.query_params
        link = query.get("link")
        attempt = self.belvo.state.count("GET", link or "")
        if not self.belvo.authorized(request):
            return _error(401)
        if resource == "transactions" and not link:
            return _error(400, "required", "link: This field is required.")
        try:
            page = int(query.get("page", "1"))
            size = min(int(query.get("page_size", str(DEFAULT_PAGE))), MAX_PAGE)
            gte, lte = (_date(query.get(k)) for k in ("value_date__gte", "value_date__lte"))
        except ValueError:
            return _error(400, "invalid", "page, page_size or a date filter is not valid.")
        if page < 1 or size < 1:
            return _error(400, "invalid", "page and page_size start at 1.")

        def listed() -> Response:
            accounts = seeded_ofda_accounts(link or "")
            items: Any
            if resource == "accounts":
                items = [] if (link or "").startswith("empty") else accounts
            else:
                items = indexes(link or "", accounts, query.get("account"), gte, lte)
            chunk = items[(page - 1) * size : page * size]
            if resource == "transactions":
                chunk = [transaction_at(link or "", i, accounts) for i in chunk]
            chunk = [record.model_dump() for record in chunk]  # nulls written, as Belvo does
            more = page * size < len(items)
            return _answer(200, _page(request, link or "", page, len(items), more, chunk))

        return await self.belvo.scenario(link or "", attempt, lambda _: listed(), listed)


def _page(
    request: Request, link: str, page: int, count: int, more: bool, results: list[Any]
) -> dict[str, Any]:
    word = link.partition("-")[0]
    following: str | None = str(request.url.include_query_params(page=page + 1)) if more else None
    if word == "loop":
        following = str(request.url)
    elif word == "foreign":
        following = f"https://elsewhere.example/api/transactions/?link={link}&page={page + 1}"
    previous = str(request.url.include_query_params(page=page - 1)) if page > 1 else None
    return {"count": count, "next": following, "previous": previous, "results": results}


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"

"""A small connector and its emulator, defined in the tests: the core is tested without plugins.

The emulator counts requests per scenario so retry tests can prove how often the runtime asked.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter
from pydantic_settings import SettingsConfigDict
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from caudal import (
    AuthenticationError,
    Balance,
    BalanceKind,
    Call,
    Connector,
    ConnectorSettings,
    Money,
    Operation,
    Pending,
    ProviderError,
    Reply,
    Request,
    Result,
    RetryAdvice,
    capability,
)
from caudal.mapping import map_items, mapping_errors, validate
from caudal.model import CurrencyCode, ExactDecimal, OffsetDateTime, minor_units
from caudal.provenance import Provenance, Sign, as_is, ignored, kind, money
from caudal.runtime import parse_retry_after
from caudal.sandbox import Emulator
from caudal.testing import Golden

TOY_KEY = "toy-secret-key-123"


class RawBalance(BaseModel):
    """One raw toy balance: the shape the emulator sends."""

    model_config = ConfigDict(extra="ignore")

    account: str
    amount: Decimal
    currency: CurrencyCode
    at: str


RAW_BODY = TypeAdapter(list[RawBalance])


class ToySettings(ConnectorSettings):
    model_config = SettingsConfigDict(env_prefix="CAUDAL_TOY_", extra="forbid", frozen=True)

    base_url: str = "http://127.0.0.1:9"
    api_key: SecretStr | None = None


class BalanceParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = "ok"


class ToyConnector(Connector):
    """A toy provider: one balance endpoint, errors on demand."""

    name = "toy"
    title = "Toy provider"
    settings_class = ToySettings

    def http_headers(self) -> dict[str, str]:
        key = self.settings.api_key  # type: ignore[attr-defined]
        return {"x-api-key": key.get_secret_value()} if key else {}

    @capability("balance")
    def balance_operation(self) -> Operation[BalanceParams]:
        return Operation(BalanceParams, request=self._request, read=read_balance)

    def _request(self, call: Call[BalanceParams]) -> Request:
        assert call.params is not None
        return Request("GET", f"/balances/{call.params.scenario}")


def read_balance(reply: Reply, call: Call[Any]) -> Result[Balance]:
    """Map the toy body; 5xx and 429 are retryable provider errors, 401 authentication."""
    if reply.status == 401:
        raise AuthenticationError(
            "bad key", connector=call.connector, capability=call.capability, status=401
        )
    if reply.status >= 400:
        retry = RetryAdvice.NOW if reply.status >= 500 or reply.status == 429 else RetryAdvice.NEVER
        raise ProviderError(
            f"HTTP {reply.status}",
            connector=call.connector,
            capability=call.capability,
            status=reply.status,
            retry=retry,
            retry_after=parse_retry_after(reply.header("retry-after")),
        )
    return balances_result(validate(RAW_BODY, reply.body, call), call, reply.body)


def balances_result(raws: list[RawBalance], call: Call[Any], body: bytes) -> Result[Balance]:
    """Canonical balances from validated raw ones."""
    items = []
    for i, raw in enumerate(raws):
        with mapping_errors(call, f"$[{i}]"):
            items.append(
                Balance(
                    account_id=raw.account,
                    kind=BalanceKind.AVAILABLE,
                    provider_kind="available",
                    amount=Money(amount=raw.amount, currency=raw.currency),
                    as_of=raw.at,
                )
            )
    return Result(
        connector=call.connector,
        capability=call.capability,
        items=tuple(items),
        raw=body.decode() if call.keep_raw else None,
    )


BODY = (
    b'[{"account": "007", "amount": 1000.1234567890123456789, "currency": "BRL",'
    b' "at": "2024-05-21T08:30:00-0300"}, {"account": "008", "amount": 1.10,'
    b' "currency": "CLP", "at": "2024-05-21T08:30:00+00:00"}]'
)

hits: Counter[str] = Counter()


async def balances(request: HttpRequest) -> Response:
    scenario = request.path_params["scenario"]
    hits[scenario] += 1
    if request.headers.get("x-api-key") not in (None, TOY_KEY):
        return JSONResponse({"error": "bad key"}, status_code=401)
    if scenario == "ok":
        return Response(BODY, media_type="application/json")
    if scenario == "flaky" and hits[scenario] % 3:
        return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=502)
    if scenario == "flaky":
        return Response(BODY, media_type="application/json")
    if scenario == "down":
        return PlainTextResponse("<html>503</html>", status_code=503)
    if scenario == "throttled":
        return PlainTextResponse("slow down", status_code=429, headers={"retry-after": "1"})
    if scenario == "throttled-long":
        return PlainTextResponse("slow down", status_code=429, headers={"retry-after": "3600"})
    if scenario == "slow":
        await asyncio.sleep(1.0)
        return Response(BODY, media_type="application/json")
    if scenario == "huge":
        return Response(b"[" + b" " * 4096 + b"]", media_type="application/json")
    if scenario == "html":
        return PlainTextResponse("<html>not json</html>", status_code=200)
    if scenario == "bad-currency":
        return Response(BODY.replace(b'"CLP"', b'"XYZ"'), media_type="application/json")
    if scenario == "bad-date":
        return Response(BODY.replace(b"-0300", b" nope"), media_type="application/json")
    return JSONResponse({"error": "unknown scenario"}, status_code=400)


def emulator() -> Emulator:
    """The toy provider's emulator, served by the sandbox under /toy."""
    return Emulator(
        name="toy",
        routes=[Route("/balances/{scenario}", balances, methods=["GET"])],
        settings={"toy": {"api_key": TOY_KEY, "backoff": 0.01, "max_backoff": 0.05}},
        call_params={"toy": {"balance": {"scenario": "ok"}}},
    )


# -- an asynchronous toy: 202 now, the result POSTed to the callback URL later -------------------


class AsyncParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = "ok"
    delay: float = 0.1


class RawAck(BaseModel):
    operation: str
    deadline: str


class RawDelivery(BaseModel):
    operation: str
    balances: list[RawBalance]


ACK = TypeAdapter(RawAck)
DELIVERY = TypeAdapter(RawDelivery)


class ToyAsyncConnector(Connector):
    """A toy provider that answers 202 and delivers to a callback URL."""

    name = "toy.async"
    settings_class = ToySettings

    @capability("balance")
    def balance_operation(self) -> Operation[AsyncParams]:
        return Operation(AsyncParams, request=self._request, read=read_async, callbacks=True)

    def _request(self, call: Call[AsyncParams]) -> Request:
        assert call.params is not None
        body = {"callback": call.callback_url, **call.params.model_dump()}
        return Request("POST", "/async/balances", json=body)


def read_async(reply: Reply, call: Call[Any]) -> Result[Balance] | Pending:
    """202 -> Pending; a delivery body -> Result with the provider's operation id."""
    if reply.status == 202:
        ack = validate(ACK, reply.body, call)
        return Pending(
            connector=call.connector,
            capability=call.capability,
            operation_id=ack.operation,
            deadline=ack.deadline,
        )
    delivery = validate(DELIVERY, reply.body, call)
    inner = read_balance(
        Reply(200, json_dumps([b.model_dump(mode="json") for b in delivery.balances])), call
    )
    return inner.model_copy(update={"operation_id": delivery.operation})


def json_dumps(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


JSON_HEADERS = {"content-type": "application/json"}
callback_answers: list[tuple[str, int, str]] = []
"""(operation, status, body) of every callback POST the async emulator made."""


async def _deliver(url: str, operation: str, scenario: str, delay: float) -> None:
    import httpx

    await asyncio.sleep(delay)
    good = BODY.decode()
    body = f'{{"operation": "{operation}", "balances": {good}}}'
    if scenario == "bad":
        body = body.replace('"BRL"', '{"oops": 1}')
    if scenario == "wrong-operation":
        body = body.replace(operation, "someone-elses-operation")
    times = 2 if scenario == "twice" else 1
    async with httpx.AsyncClient() as client:
        for _ in range(times):
            response = await client.post(
                url, content=body, headers={"content-type": "application/json"}
            )
            callback_answers.append((operation, response.status_code, response.text))


async def async_balances(request: HttpRequest) -> Response:
    import uuid
    from datetime import UTC, datetime, timedelta

    payload = await request.json()
    operation = str(uuid.uuid4())
    if payload["scenario"] != "never":
        task = asyncio.get_running_loop().create_task(
            _deliver(payload["callback"], operation, payload["scenario"], payload["delay"])
        )
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    deadline = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    return JSONResponse({"operation": operation, "deadline": deadline}, status_code=202)


_tasks: set[asyncio.Task[None]] = set()


def async_emulator() -> Emulator:
    """The asynchronous toy's emulator, under /toyasync."""
    return Emulator(
        name="toyasync",
        routes=[Route("/async/balances", async_balances, methods=["POST"])],
        settings={"toy.async": {}},
    )


# -- a provider that sends integer minor units, a sign indicator and its own kinds ---------------

TOY_KINDS: dict[str, BalanceKind] = {
    "ClosingBooked": BalanceKind.BOOKED,
    "Available": BalanceKind.AVAILABLE,
    "Hold": BalanceKind.BLOCKED,
}
"""The toy ledger's `type` -> canonical kind; any other word is `other`."""


class RawLedgerEntry(BaseModel):
    """One ledger balance: USD 123456 with `currency` USD means 1234.56 dollars."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    account: str
    branch: str
    amount_minor: Annotated[int, Field(ge=0, lt=10**32)]
    """Bounded as caudal bounds every amount (`caudal.model.MAX_INTEGER_DIGITS`)."""
    units: ExactDecimal
    currency: CurrencyCode
    direction: Literal["CR", "DR"]
    type: str
    at: OffsetDateTime
    created: OffsetDateTime


class RawLedger(BaseModel):
    """The whole ledger body: one page of entries and the next page's cursor."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    entries: list[RawLedgerEntry]
    next: str | None = None


LEDGER = TypeAdapter(RawLedger)

LEDGER_PROVENANCE = Provenance(
    "balance",
    raw=RawLedger,
    items="$.entries[*]",
    maps=(
        as_is("account", "account_id"),
        money(
            "amount_minor",
            "amount",
            currency_from="currency",
            minor_units=True,
            sign=Sign("direction", negative="DR", positive="CR"),
        ),
        kind("type", "kind", TOY_KINDS, default=BalanceKind.OTHER),
        as_is("type", "provider_kind"),
        as_is("at", "as_of"),
        as_is("units", "units"),
    ),
    ignored=(
        ignored("branch", "the branch code has no canonical field"),
        ignored("created", "when the account was opened, not when the balance was read"),
        ignored("$.next", "the next page's cursor: paging, not data"),
    ),
)


def _ledger_balance(entry: RawLedgerEntry) -> Balance:
    # scaleb is exact and keeps the currency's places: 123400 cents are 1234.00, not 1234.
    amount = Decimal(entry.amount_minor).scaleb(-(minor_units(entry.currency) or 0))
    if entry.direction == "DR" and amount:
        amount = amount.copy_negate()
    return Balance(
        account_id=entry.account,
        kind=TOY_KINDS.get(entry.type, BalanceKind.OTHER),
        provider_kind=entry.type,
        amount=Money(amount=amount, currency=entry.currency),
        as_of=entry.at,
        units=entry.units,
    )


def read_ledger(reply: Reply, call: Call[Any]) -> Result[Balance]:
    """One Balance per ledger entry: minor units divided by the currency's exponent, signed."""
    ledger = validate(LEDGER, reply.body, call)
    items = map_items(ledger.entries, _ledger_balance, call, "$.entries")
    return Result(connector=call.connector, capability=call.capability, items=tuple(items))


class ToyLedgerConnector(Connector):
    """A toy provider sending amounts as integer minor units (the reported real case)."""

    name = "toy.ledger"
    title = "Toy ledger"
    settings_class = ToySettings
    provenance = (LEDGER_PROVENANCE,)

    @capability("balance")
    def balance_operation(self) -> Operation[BalanceParams]:
        return Operation(BalanceParams, request=self._request, read=read_ledger)

    def _request(self, call: Call[BalanceParams]) -> Request:
        return Request("GET", "/ledger")


LEDGER_EXAMPLE = Golden(
    body=(
        '{"entries": ['
        '{"account": "0042", "branch": "7", "amount_minor": 123456, "units": 10.50,'
        ' "currency": "USD", "direction": "CR", "type": "ClosingBooked",'
        ' "at": "2026-01-31T23:59:59-06:00", "created": "2019-03-01T09:00:00-06:00"},'
        '{"account": "0042", "branch": "7", "amount_minor": 12345, "units": 0,'
        ' "currency": "CLF", "direction": "DR", "type": "Hold",'
        ' "at": "2026-01-31T23:59:59-06:00", "created": "2019-03-01T09:00:00-06:00"},'
        '{"account": "0043", "branch": "7", "amount_minor": 98765432109876543210, "units": 1,'
        ' "currency": "USD", "direction": "CR", "type": "Interim",'
        ' "at": "2026-02-01T00:00:00+00:00", "created": "2019-03-01T09:00:00-06:00"}'
        '], "next": "page-2"}'
    ),
    records=[
        Balance(
            account_id="0042",
            kind=BalanceKind.BOOKED,
            provider_kind="ClosingBooked",
            amount=Money(amount=Decimal("1234.56"), currency="USD"),
            as_of=datetime(2026, 1, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-6))),
            units=Decimal("10.50"),
        ),
        Balance(
            account_id="0042",
            kind=BalanceKind.BLOCKED,
            provider_kind="Hold",
            amount=Money(amount=Decimal("-1.2345"), currency="CLF"),
            as_of=datetime(2026, 1, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-6))),
            units=Decimal("0"),
        ),
        Balance(
            account_id="0043",
            kind=BalanceKind.OTHER,
            provider_kind="Interim",
            amount=Money(amount=Decimal("987654321098765432.10"), currency="USD"),
            as_of=datetime(2026, 2, 1, tzinfo=UTC),
            units=Decimal("1"),
        ),
    ],
    source="hand-written: USD 123456 cents are 1234.56; CLF 12345 ten-thousandths are 1.2345",
)

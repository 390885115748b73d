"""A small connector and its emulator, defined in the tests: the core is tested without plugins.

The emulator counts requests per scenario so retry tests can prove how often the runtime asked.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, TypeAdapter
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
from caudal.mapping import mapping_errors, validate
from caudal.model import CurrencyCode
from caudal.runtime import parse_retry_after
from caudal.sandbox import Emulator

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

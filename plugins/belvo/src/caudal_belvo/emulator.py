"""An emulator of Belvo's `POST`/`PATCH /api/br/balances/` for caudal's sandbox.

Served under `/belvo` by `caudal sandbox serve` and `caudal.sandbox.serve()`. Answers are built
from the same raw models the connector reads, seeded from the link id (the same link always
gives the same accounts). The link id chooses the scenario; anything after the scenario word
(`error-500-3f2a`) is free, so a test can use a link of its own and count its requests at
`GET /belvo/_emulator/requests`. See `CASES`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import secrets
import time
import uuid
from base64 import b64encode
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from caudal import AuthenticationError, ProviderError, TransportError
from caudal.sandbox import ChallengeCase, Emulator, ErrorCase

from .emulator_ofda import OFDA_CASES, Ofda
from .raw import (
    BalancesQuery,
    BalancesRequest,
    RawBalance,
    RawError,
    RawResumeRequest,
    RawTokenGenerationData,
    RawTokenRequired,
)

__all__ = [
    "CASES",
    "EXAMPLE_LINK",
    "MFA_LINK",
    "MFA_TOKEN",
    "emulator",
    "seal",
    "seeded_accounts",
    "unseal",
]

SECRET_ID = "caudal-sandbox-id"
SECRET_PASSWORD = "caudal-sandbox-password"
EXAMPLE_LINK = "c81a1dea-6dd6-4999-8b9f-541ee8197058"
"""The link id of Belvo's documentation: an ordinary link with seeded accounts."""
MFA_LINK = "mfa-demo"
MFA_TOKEN = "123456"
"""The token that answers every challenge of this emulator."""
MFA_EXPIRY = 9600
MAX_SLOW = 60.0

DOCUMENTED: dict[int, tuple[str, str]] = {
    400: ("invalid_link", "The link provided is invalid."),
    401: ("authentication_failed", "Credentials provided are invalid."),
    403: ("access_to_resource_denied", "You don't have access to this resource."),
    408: (
        "request_timeout",
        "The request timed out, you can retry asking for less data by changing your query "
        "parameters",
    ),
    428: ("token_required", "A MFA token is required by the institution to login"),
    500: (
        "unexpected_error",
        "Belvo is unable to process the request due to an internal system issue or to an "
        "unsupported response from an institution",
    ),
}

CASES: dict[str, str] = {
    "success": (
        f"any other link id, e.g. {EXAMPLE_LINK}: 1 to 3 accounts seeded from the link id "
        "(mostly BRL, odd cents, trailing zeros, sometimes a negative available); 201, or 200 "
        "with save_data=false; account_id=<one of its accounts> gives only that one"
    ),
    "no accounts": "link empty[-...]: an empty array",
    "401 authentication_failed": "wrong secret id or password, or link error-401[-...]",
    "error on demand": (
        "link error-<status>[-...] (400 to 599): Belvo's documented error (400 invalid_link, 403 "
        "access_to_resource_denied, 408 request_timeout, 500 unexpected_error) on every "
        "attempt; any other status answers code emulated_<status>"
    ),
    "broken proxy": "link html-<status>[-...] (e.g. html-502): an HTML page, not JSON",
    "transient failure": "link flaky-<n>[-...]: the first n POSTs answer 500, then success",
    "slow answer": f"link slow-<seconds>[-...] (e.g. slow-2.5, at most {MAX_SLOW:g}): then success",
    "428 token_required": (
        f"link {MFA_LINK} (or mfa-...): a challenge; PATCH /api/br/balances/ with its session, "
        f"the link and token {MFA_TOKEN} answers the balances (200/201 as first asked); any "
        "other token answers 428 again with a new session"
    ),
    "expired challenge": "link expired-mfa[-...]: a challenge whose session expires at once",
    "request counts": 'GET /belvo/_emulator/requests: {"<link>": {"POST": n, "PATCH": n}}',
    **OFDA_CASES,
}


@dataclass
class State:
    """Everything the emulator remembers between requests (one per served sandbox)."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    used_sessions: set[str] = field(default_factory=set)

    def count(self, method: str, link: str) -> int:
        """Record one request for `link`; the number of such requests so far."""
        self.requests[(link, method)] += 1
        return self.requests[(link, method)]


# -- seeded data ----------------------------------------------------------------------------------

_EPOCH = datetime(2024, 5, 21, 8, 32, tzinfo=UTC)
_BRASILIA = timezone(timedelta(hours=-3))


def _amount(rng: random.Random, top: int) -> Decimal:
    """Two decimals, odd cents mostly; a third end in a zero, some in `.00` (kept as sent)."""
    cents = rng.randint(0, top * 100)
    roll = rng.random()
    if roll < 0.15:
        cents -= cents % 100
    elif roll < 0.35:
        cents -= cents % 10
    return Decimal(cents).scaleb(-2)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seeded_accounts(link: str) -> list[RawBalance]:
    """The accounts of `link`: always the same for the same link id."""
    rng = random.Random(f"belvo.br:{link}")  # a str seed is stable across processes
    collected = _EPOCH + timedelta(minutes=rng.randint(0, 60 * 24 * 365))
    return [_account(rng, link, collected) for _ in range(rng.randint(1, 3))]


def _account(rng: random.Random, link: str, collected: datetime) -> RawBalance:
    available = _amount(rng, 250_000)
    if rng.random() < 0.25:
        available = -_amount(rng, 3_000)  # overdrawn: Belvo sends it negative
    invested = _amount(rng, 50_000)
    if rng.random() < 0.5:
        invested += max(available, Decimal(0))  # Open Finance Brasil: may include available
    updated = collected - timedelta(minutes=rng.randint(0, 60 * 48))
    return RawBalance(
        id=_uuid(rng),
        link=link,
        account_id=_uuid(rng),
        account_internal_identification="".join(rng.choices("0123456789", k=40)),
        collected_at=collected,
        created_at=collected + timedelta(seconds=rng.randint(0, 5)),
        last_updated_at=updated.astimezone(_BRASILIA) if rng.random() < 0.5 else updated,
        currency="BRL" if rng.random() < 0.85 else "USD",
        available=available,
        blocked=_amount(rng, 2_000) if rng.random() < 0.5 else Decimal("0.00"),
        automatically_invested=invested,
    )


# -- JSON as Belvo writes it ----------------------------------------------------------------------


def json_text(value: Any) -> str:
    """JSON with every Decimal written as a number digit for digit and UTC as `Z`."""
    if isinstance(value, BaseModel):
        return json_text(value.model_dump(exclude_none=True))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return json.dumps(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    return json.dumps(value)


def _answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json_text(value), status, headers, media_type="application/json")


def _error(status: int, code: str | None = None, message: str | None = None) -> Response:
    known_code, known_message = DOCUMENTED.get(status, (f"emulated_{status}", f"HTTP {status}"))
    body = RawError(code=code or known_code, message=message or known_message, request_id=_rid())
    return _answer(status, [body])


def _rid() -> str:
    return uuid.uuid4().hex


# -- challenge sessions ----------------------------------------------------------------------------
#
# A session is sealed, not stored: it carries what the original request asked (which account,
# save_data) and its deadline, signed with the link. So `caudal fetch --sandbox` in one process
# and `caudal resume --sandbox` in the next (each with its own emulator) walk one challenge.
# Layout, 16 bytes as 32 hex digits like Belvo's: options, deadline (Unix seconds), nonce, MAC.

_SEAL_KEY = b"caudal-belvo-sandbox-sessions"  # not a secret: the emulator trusts only itself
_SAVE = {None: 0, True: 1, False: 2}
_UNKNOWN_ACCOUNT = 7


def _account_slot(asked: BalancesRequest) -> int:
    if asked.account_id is None:
        return 0
    ids = [a.account_id for a in seeded_accounts(asked.link)]
    return ids.index(asked.account_id) + 1 if asked.account_id in ids else _UNKNOWN_ACCOUNT


def _mac(link: str, head: bytes) -> bytes:
    return hmac.new(_SEAL_KEY, link.encode() + head, hashlib.sha256).digest()[:8]


def seal(asked: BalancesRequest, expiry: int) -> str:
    """A new session id for a challenge on `asked`, valid for `expiry` seconds."""
    options = _SAVE[asked.save_data] | _account_slot(asked) << 2
    deadline = int(time.time()) + expiry
    head = bytes([options]) + deadline.to_bytes(4, "big") + secrets.token_bytes(3)
    return (head + _mac(asked.link, head)).hex()


def unseal(session: str, link: str) -> BalancesRequest | None:
    """The request a live session of `link` completes; None if forged, foreign or expired."""
    try:
        raw = bytes.fromhex(session)
    except ValueError:
        return None
    head, mac = raw[:8], raw[8:]
    if len(raw) != 16 or not hmac.compare_digest(mac, _mac(link, head)):
        return None
    if int.from_bytes(head[1:5], "big") <= time.time():
        return None
    save = {v: k for k, v in _SAVE.items()}.get(head[0] & 3)
    slot = head[0] >> 2
    account_id = None
    if slot:
        accounts = seeded_accounts(link)
        account_id = accounts[slot - 1].account_id if slot <= len(accounts) else "unknown-account"
    return BalancesRequest(link=link, account_id=account_id, save_data=save)


# -- the endpoint ---------------------------------------------------------------------------------


class Belvo:
    """The routes' behaviour over one `State`."""

    def __init__(self, state: State) -> None:
        self.state = state
        credentials = f"{SECRET_ID}:{SECRET_PASSWORD}".encode()
        self._authorization = "Basic " + b64encode(credentials).decode()

    def authorized(self, request: Request) -> bool:
        """Whether the request carries the sandbox's secret keys (HTTP basic)."""
        return self._authorized(request)

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), self._authorization.encode())

    async def balances(self, request: Request) -> Response:
        """`POST` asks for balances, `PATCH` answers a challenge."""
        try:
            body = json.loads(await request.body())
        except ValueError:
            self.state.count(request.method, "")
            return _error(400, "invalid", "The request body is not valid JSON.")
        if request.method == "PATCH":
            return await self._resume(request, body)
        return await self._ask(request, body)

    async def _ask(self, request: Request, body: Any) -> Response:
        link = body.get("link", "") if isinstance(body, dict) else ""
        attempt = self.state.count("POST", str(link))
        if not self._authorized(request):
            return _error(401)
        try:
            asked = BalancesRequest.model_validate(body)
            query = BalancesQuery.model_validate(dict(request.query_params))
        except ValidationError as exc:
            return _error(400, "invalid", _problem(exc))
        return await self._scenario(asked, query, attempt)

    async def _scenario(
        self, asked: BalancesRequest, query: BalancesQuery, attempt: int
    ) -> Response:
        return await self.scenario(
            asked.link,
            attempt,
            lambda expiry: self._challenge(asked, expiry=expiry),
            lambda: _balances(asked, query),
        )

    async def scenario(
        self,
        link: str,
        attempt: int,
        challenge: Callable[[int], Response],
        success: Callable[[], Response],
    ) -> Response:
        """What the link id asks for (see `CASES`), for any resource: an error, a broken
        proxy, a transient failure, a slow answer, a challenge (`challenge(expiry)`), or
        `success()`."""
        word, _, rest = link.partition("-")
        arg = rest.partition("-")[0]
        status = int(arg) if arg.isdigit() and 400 <= int(arg) <= 599 else None
        if word == "error" and status:
            return _error(status)
        if word == "html" and status:
            return HTMLResponse(f"<html><body><h1>{status} Proxy Error</h1></body></html>", status)
        if word == "flaky" and arg.isdigit() and attempt <= int(arg):
            return _error(500)
        if word == "slow":
            await asyncio.sleep(min(_seconds(arg), MAX_SLOW))
        if word == "mfa":
            return challenge(MFA_EXPIRY)
        if word == "expired" and arg == "mfa":
            return challenge(0)
        return success()

    def _challenge(self, asked: BalancesRequest, expiry: int) -> Response:
        return self.challenge_answer(seal(asked, expiry), asked.link, expiry)

    def challenge_answer(self, session: str, link: str, expiry: int) -> Response:
        """The documented 428 `token_required` body for a sealed `session`."""
        code, message = DOCUMENTED[428]
        body = RawTokenRequired(
            code=code,
            message=message,
            request_id=_rid(),
            session=session,
            expiry=expiry,
            link=link,
            token_generation_data=RawTokenGenerationData(
                instructions=f"Use this code to generate the token (caudal sandbox: {MFA_TOKEN})",
                type="numeric",
                value="12345",
                expects_user_input=True,
            ),
        )
        return _answer(428, [body])

    async def _resume(self, request: Request, body: Any) -> Response:
        link = body.get("link", "") if isinstance(body, dict) else ""
        self.state.count("PATCH", str(link))
        if not self._authorized(request):
            return _error(401)
        try:
            answer = RawResumeRequest.model_validate(body)
        except ValidationError as exc:
            return _error(400, "invalid", _problem(exc))
        asked = unseal(answer.session, answer.link)
        if asked is None or answer.session in self.state.used_sessions:
            return _error(
                400, "session_expired", "The MFA session has expired or is not of this link."
            )
        self.state.used_sessions.add(answer.session)  # one answer per session, right or wrong
        if answer.token != MFA_TOKEN:
            return self._challenge(asked, expiry=MFA_EXPIRY)
        return _balances(asked, BalancesQuery())

    async def requests(self, request: Request) -> JSONResponse:
        """How many requests each link received, by method (tests prove retries with it)."""
        counts: dict[str, dict[str, int]] = {}
        for (link, method), n in self.state.requests.items():
            counts.setdefault(link, {})[method] = n
        return JSONResponse(counts)


def _seconds(text: str) -> float:
    try:
        return max(float(text), 0.0)
    except ValueError:
        return 1.0


def _problem(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"


def _balances(asked: BalancesRequest, query: BalancesQuery) -> Response:
    accounts = [] if asked.link.partition("-")[0] == "empty" else seeded_accounts(asked.link)
    if asked.account_id is not None:
        accounts = [a for a in accounts if a.account_id == asked.account_id]
    status = 200 if asked.save_data is False else 201
    return _answer(status, [_filtered(a, query) for a in accounts])


def _filtered(account: RawBalance, query: BalancesQuery) -> dict[str, Any]:
    """Belvo's response filters: `fields=a,b` keeps only those keys, `omit=a,b` drops them."""
    data = account.model_dump()
    if query.fields:
        keep = {f.strip() for f in query.fields.split(",")}
        data = {k: v for k, v in data.items() if k in keep}
    if query.omit:
        drop = {f.strip() for f in query.omit.split(",")}
        data = {k: v for k, v in data.items() if k not in drop}
    return data


def _error_cases() -> list[ErrorCase]:
    """Every documented error, asked for on purpose (the conformance suite checks each)."""
    cases = [
        ErrorCase("belvo.br", "balance", {"link": f"error-{status}"}, ProviderError, code)
        for status, (code, _) in DOCUMENTED.items()
        if status not in (401, 428)  # 401 comes from wrong keys; 428 is a challenge case
    ]
    wrong_keys = {"secret_password": "not-the-sandbox-password"}
    return [
        *cases,
        ErrorCase(
            "belvo.br",
            "balance",
            {"link": EXAMPLE_LINK},
            AuthenticationError,
            "authentication_failed",
            wrong_keys,
        ),
        ErrorCase("belvo.br", "balance", {"link": "html-502"}, TransportError),
        *_ofda_error_cases(),
    ]


def _ofda_error_cases() -> list[ErrorCase]:
    """The documented errors of accounts and transactions, fetched and stored."""
    dates = {"date_from": "2025-02-01", "date_to": "2025-02-24"}
    cases = []
    for capability, more in (("accounts", {}), ("transactions", dates)):
        for status in (400, 408, 500):
            code = DOCUMENTED[status][0]
            params = {"link": f"error-{status}", **more}
            cases.append(ErrorCase("belvo.br", capability, params, ProviderError, code))
        stored = {"link": "error-500", "stored": True}
        cases.append(ErrorCase("belvo.br", capability, stored, ProviderError, "unexpected_error"))
        cases.append(
            ErrorCase(
                "belvo.br",
                capability,
                {"link": EXAMPLE_LINK, **more},
                AuthenticationError,
                "authentication_failed",
                {"secret_password": "not-the-sandbox-password"},
            )
        )
    return cases


def emulator() -> Emulator:
    """The Belvo emulator with fresh state (entry point `belvo` in group `caudal.sandbox`)."""
    belvo = Belvo(State())
    ofda = Ofda(belvo)
    methods = ["GET", "POST", "PATCH"]
    return Emulator(
        name="belvo",
        routes=[
            Route("/api/br/balances/", belvo.balances, methods=["POST", "PATCH"]),
            Route("/api/accounts/", ofda.accounts, methods=methods),
            Route("/api/transactions/", ofda.transactions, methods=methods),
            Route("/_emulator/requests", belvo.requests, methods=["GET"]),
        ],
        settings={"belvo.br": {"secret_id": SECRET_ID, "secret_password": SECRET_PASSWORD}},
        cases=CASES,
        call_params={
            "belvo.br": {
                "balance": {"link": EXAMPLE_LINK},
                "accounts": {"link": EXAMPLE_LINK},
                "transactions": {
                    "link": EXAMPLE_LINK,
                    "date_from": "2025-02-21",
                    "date_to": "2025-02-24",
                },
            }
        },
        challenges=[
            ChallengeCase("belvo.br", capability, {"link": MFA_LINK, **more}, MFA_TOKEN)
            for capability, more in (
                ("balance", {}),
                ("accounts", {}),
                ("transactions", {"date_from": "2025-02-01", "date_to": "2025-02-24"}),
            )
        ],
        errors=_error_cases(),
    )

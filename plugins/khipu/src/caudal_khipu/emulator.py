"""An emulator of Khipu's four open-data endpoints for caudal's sandbox (served under `/khipu`).

It reads requests with the same raw models the connectors write, answers with data built from
the same raw models the connectors read (`seeded`), and writes JSON the way Khipu does: amounts
as JSON numbers digit for digit, date-times with `-0400`-style offsets.

The end user's login name (`credential={"Username": ...}`, or the AccountLink token, or `jwt`
without a credential) chooses the scenario; see `CASES`. Anything after the scenario's own
parts is free (`flaky-2-test17`), so each test can use a username of its own; request counts
per username are at `GET /khipu/_emulator/requests`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
import uuid
from base64 import b64decode
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from caudal import AuthenticationError, MappingError, ProviderError, TransportError
from caudal.sandbox import Emulator, ErrorCase

from . import afc, bancosecurity, raw, seeded
from .base import Endpoint

__all__ = [
    "CALL_PARAMS",
    "CASES",
    "DEMO_CREDENTIAL",
    "SANDBOX_API_KEY",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "SANDBOX_JWT",
    "ERROR_TYPES",
    "emulator",
    "error_cases",
    "error_envelope",
    "khipu_json",
]

log = logging.getLogger("caudal_khipu.emulator")

SANDBOX_API_KEY = "caudal-sandbox-khipu-api-key"
SANDBOX_JWT = "caudal-sandbox-khipu-jwt"
SANDBOX_CLIENT_ID = "caudal-sandbox-client"
SANDBOX_CLIENT_SECRET = "caudal-sandbox-client-secret"
DEMO_CREDENTIAL = {"Username": "demo", "Password": "demo"}
TOKEN_LIFETIME = 3600
CALLBACK_DELAY = 0.2
MAX_SLOW = 60.0
_CHILE_WINTER = timezone(timedelta(hours=-4))
_INCOMPLETE = "Información incompleta: el sitio no mostró todos los productos."

ERROR_TYPES = (
    "RETRY_IMMEDIATELY",
    "DO_NOT_RETRY",
    "WAIT_4_HOURS_BEFORE_RETRY",
    "RETRY_AFTER_NOTIFICATION",
)
"""Every `Error.Type` Khipu documents."""

_DEFAULT_TYPES = {
    "A": "DO_NOT_RETRY",
    "E0": "RETRY_IMMEDIATELY",
    "E1": "RETRY_AFTER_NOTIFICATION",
    "E2": "WAIT_4_HOURS_BEFORE_RETRY",
    "E3": "DO_NOT_RETRY",
    "E4": "DO_NOT_RETRY",
    "D": "RETRY_IMMEDIATELY",
    "T": "RETRY_IMMEDIATELY",
    "F": "RETRY_IMMEDIATELY",
    "I": "RETRY_IMMEDIATELY",
    "P": "DO_NOT_RETRY",
}
_DESCRIPTIONS = {
    "A": "Error de autenticación: el token JWT está vencido, revocado o no es válido.",
    "E0": "Error genérico.",
    "E1": "Credenciales inválidas o cuenta bloqueada en el servicio destino.",
    "E2": "El servicio destino utilizado para la extracción de datos no se encuentra disponible.",
    "E3": "No se encontraron datos para lo solicitado.",
    "E4": "Valores de parámetros inválidos.",
    "D": "Falta información para completar el proceso.",
    "T": "Tiempo de espera agotado en el servicio destino.",
    "F": "Error al construir la respuesta.",
    "I": "Error de infraestructura.",
    "P": "Error en los parámetros de la solicitud.",
}

CASES: dict[str, str] = {
    "success": (
        "any other username, e.g. demo: data seeded from the username (and account number, "
        "period), HTTP 200; with CallbackUrl: 202, then the result POSTed to it"
    ),
    "error envelope": (
        "username error-<CODE>[-<TYPE>][-...], e.g. error-E201, error-E201-RETRY_IMMEDIATELY, "
        "error-X999-SOME_NEW_TYPE: Status ERROR in an HTTP 200 (or in the callback), with "
        "Khipu's usual Type for the code family unless TYPE is given"
    ),
    "one per Type": (
        "error-E000-RETRY_IMMEDIATELY, error-E101-DO_NOT_RETRY, "
        "error-E201-WAIT_4_HOURS_BEFORE_RETRY, error-E102-RETRY_AFTER_NOTIFICATION"
    ),
    "transient failure": (
        "username flaky-<n>[-...]: the first n requests answer I001 RETRY_IMMEDIATELY"
    ),
    "slow answer": f"username slow-<seconds>[-...] (at most {MAX_SLOW:g} s): then success",
    "no data": "username nodata[-...]: Status OK with Data null (a no_data ProviderError)",
    "empty arrays": "username empty[-...]: Status OK with empty arrays",
    "notes": "username notes[-...]: data plus an AdditionalInformation remark",
    "invalid RUTs": "username invalid-rut[-...]: every employer RUT is the docs' 11.222.333-4",
    "HTTP failure": (
        "username http-<status>[-...] (e.g. http-502): an HTML error page with that status; "
        "429 and 503 carry Retry-After: 1"
    ),
    "broken body": "username broken[-...]: HTTP 200 with truncated JSON",
    "401": "a wrong x-api-key, bearer token or client credentials",
    "bad request": (
        "a body that is not JSON: HTTP 400; missing RequestData fields: P001 envelope; "
        "API key without AccountCredential: P002 envelope"
    ),
    "OAuth2": (
        f"POST /khipu/oauth2/token with client_id={SANDBOX_CLIENT_ID} and client_secret="
        f"{SANDBOX_CLIENT_SECRET} (form or basic auth): a bearer token for {TOKEN_LIFETIME} s; "
        "scope=expires-<n> asks for an n-second token; the fixed JWT "
        f"{SANDBOX_JWT} is accepted too"
    ),
    "request counts": (
        'GET /khipu/_emulator/requests: {"<username>": {"<endpoint path>": n}, '
        '"oauth2/token": {"<client_id>": n}}'
    ),
}


# -- JSON as Khipu writes it ----------------------------------------------------------------


def khipu_json(value: Any) -> str:
    """JSON as Khipu writes it: Decimals digit for digit, date-times like `...T17:32:28-0400`."""
    if isinstance(value, BaseModel):
        return khipu_json(value.model_dump())
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("JSON has no NaN or Infinity")
        return str(value)
    if isinstance(value, datetime):
        return json.dumps(value.strftime("%Y-%m-%dT%H:%M:%S%z"))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, SecretStr):
        return json.dumps(str(value))
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{khipu_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(khipu_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _json_response(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(khipu_json(value).encode(), status, headers, media_type="application/json")


# -- envelopes --------------------------------------------------------------------------------


def _operation_id() -> str:
    return str(uuid.uuid4())


def _ok(operation_id: str, data: BaseModel | None, note: str | None = None) -> raw.Envelope[Any]:
    return raw.Envelope[Any](
        OperationId=operation_id, Status="OK", Data=data, AdditionalInformation=note
    )


def _family(code: str) -> str:
    return code[:2] if code.startswith("E") else code[:1]


def error_envelope(
    operation_id: str, code: str, error_type: str | None = None
) -> raw.Envelope[Any]:
    """An ERROR envelope as Khipu sends it (HTTP 200), with the family's usual Type by default."""
    family = _family(code)
    return raw.Envelope[Any](
        OperationId=operation_id,
        Status="ERROR",
        Data=None,
        Error=raw.ErrorDetail(
            Code=code,
            Type=error_type or _DEFAULT_TYPES.get(family, "DO_NOT_RETRY"),
            Description=_DESCRIPTIONS.get(family, f"Error {code}."),
        ),
    )


def _accepted(operation_id: str) -> raw.Envelope[Any]:
    deadline = datetime.now(UTC).astimezone(_CHILE_WINTER) + timedelta(minutes=5)
    return raw.Envelope[Any](
        OperationId=operation_id,
        Status="OK",
        Data=None,
        AdditionalInformation="Data will be sent to the callback URL.",
        LifeSpan=deadline.replace(microsecond=0),
    )


# -- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """What the username asks for: a word (`error`, `slow`, ...) and its arguments."""

    word: str
    args: tuple[str, ...]

    @classmethod
    def of(cls, username: str) -> Scenario:
        word, *args = username.split("-")
        if word.lower() == "invalid" and args[:1] == ["rut"]:
            return cls("invalid-rut", tuple(args[1:]))
        return cls(word.lower(), tuple(args))

    def arg(self, index: int, default: str = "") -> str:
        return self.args[index] if len(self.args) > index else default


def _seconds(text: str) -> float:
    try:
        return min(max(float(text), 0.0), MAX_SLOW)
    except ValueError:
        return 1.0


DataFor = Callable[[Any, str, Scenario], BaseModel]


def _afc_balance(_: Any, seed: str, s: Scenario) -> BaseModel:
    return seeded.afc_balance(seed, empty=s.word == "empty", invalid_ruts=s.word == "invalid-rut")


def _afc_contributions(data: Any, seed: str, s: Scenario) -> BaseModel:
    return seeded.afc_contributions(
        seed, data.Period, empty=s.word == "empty", invalid_ruts=s.word == "invalid-rut"
    )


def _bank_balances(data: Any, seed: str, s: Scenario) -> BaseModel:
    return seeded.bank_balances(seed, data.AccountNumber, data.Currency, empty=s.word == "empty")


def _bank_loans(_: Any, seed: str, s: Scenario) -> BaseModel:
    return seeded.bank_loans(seed, empty=s.word == "empty")


_SERVICES: tuple[tuple[Endpoint[Any, Any], DataFor], ...] = (
    (afc.BALANCE, _afc_balance),
    (afc.CONTRIBUTIONS, _afc_contributions),
    (bancosecurity.BALANCE, _bank_balances),
    (bancosecurity.LOANS, _bank_loans),
)


# -- state and auth -------------------------------------------------------------------------------


@dataclass
class State:
    """What the emulator remembers between requests (one per served sandbox)."""

    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    tokens: dict[str, float] = field(default_factory=dict)
    deliveries: set[asyncio.Task[None]] = field(default_factory=set)

    def count(self, who: str, path: str) -> int:
        """Record one request; how many `who` has made to `path` so far."""
        self.requests[(who, path)] += 1
        return self.requests[(who, path)]


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


# -- the service ----------------------------------------------------------------------------------


class Khipu:
    """The routes' behaviour over one `State`."""

    def __init__(self, state: State) -> None:
        self.state = state

    def _auth_mode(self, request: Request) -> str | None:
        key = request.headers.get("x-api-key")
        bearer = request.headers.get("authorization", "")
        if key is not None:
            return "api_key" if _same(key, SANDBOX_API_KEY) else None
        if bearer.startswith("Bearer "):
            token = bearer.removeprefix("Bearer ")
            expires = self.state.tokens.get(token)
            if _same(token, SANDBOX_JWT) or (expires is not None and expires > time.monotonic()):
                return "jwt"
        return None

    def service(
        self, endpoint: Endpoint[Any, Any], data_for: DataFor
    ) -> Callable[[Request], Awaitable[Response]]:
        """The route handler of one Khipu endpoint."""

        async def handle(request: Request) -> Response:
            return await self._handle(request, endpoint, data_for)

        return handle

    async def _handle(
        self, request: Request, endpoint: Endpoint[Any, Any], data_for: DataFor
    ) -> Response:
        mode = self._auth_mode(request)
        if mode is None:
            self.state.count("", endpoint.path)
            return JSONResponse({"message": "Unauthorized"}, 401)
        try:
            payload = json.loads(await request.body(), parse_float=Decimal)
        except ValueError:
            return JSONResponse({"message": "Bad request: the body is not JSON"}, 400)
        try:
            body = endpoint.body.model_validate(payload)
        except ValidationError:
            return _json_response(error_envelope(_operation_id(), "P001"))
        who = _username(body.RequestData.AccountCredential, mode)
        if who is None:
            return _json_response(error_envelope(_operation_id(), "P002"))
        attempt = self.state.count(who, endpoint.path)
        scenario = Scenario.of(who)
        immediate = _http_failure(scenario)
        if immediate is not None:
            return immediate
        operation_id = _operation_id()
        if body.CallbackUrl:
            delay = _seconds(scenario.arg(0)) if scenario.word == "slow" else CALLBACK_DELAY
            answer = _answer(operation_id, body.RequestData, who, scenario, attempt, data_for)
            self._deliver_later(body.CallbackUrl, answer, delay)
            return _json_response(_accepted(operation_id), 202)
        if scenario.word == "slow":
            await asyncio.sleep(_seconds(scenario.arg(0)))
        text = _answer(operation_id, body.RequestData, who, scenario, attempt, data_for)
        return Response(text.encode(), 200, media_type="application/json")

    def _deliver_later(self, url: str, body: str, delay: float) -> None:
        task = asyncio.create_task(_deliver(url, body, delay))
        self.state.deliveries.add(task)
        task.add_done_callback(self.state.deliveries.discard)

    async def token(self, request: Request) -> Response:
        """OAuth2 client-credentials grant."""
        # Parsed by hand: starlette's form parser needs python-multipart, not a caudal dependency.
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
        client_id, secret = _client_credentials(request, form)
        self.state.count("oauth2/token", client_id)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if not (_same(client_id, SANDBOX_CLIENT_ID) and _same(secret, SANDBOX_CLIENT_SECRET)):
            return JSONResponse({"error": "invalid_client"}, 401)
        scope = str(form.get("scope") or "")
        lifetime = TOKEN_LIFETIME
        if scope.startswith("expires-"):
            lifetime = int(_seconds(scope.removeprefix("expires-")))
        token = "sbx-" + secrets.token_urlsafe(24)
        self.state.tokens[token] = time.monotonic() + lifetime
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": lifetime})

    async def requests(self, request: Request) -> JSONResponse:
        """How many requests each username made, per endpoint path (tests prove retries with it)."""
        counts: dict[str, dict[str, int]] = {}
        for (who, path), n in self.state.requests.items():
            counts.setdefault(who, {})[path] = n
        return JSONResponse(counts)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        try:
            user, _, password = b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return "", ""
        return user, password
    return str(form.get("client_id") or ""), str(form.get("client_secret") or "")


def _username(credential: Any, mode: str) -> str | None:
    """The seed and scenario of a request; None when API-key auth lacks the credential."""
    if isinstance(credential, raw.LoginCredential):
        return credential.Username
    if isinstance(credential, SecretStr):
        return credential.get_secret_value()
    return "jwt" if mode == "jwt" else None


def _http_failure(scenario: Scenario) -> Response | None:
    if scenario.word != "http" or not scenario.arg(0).isdigit():
        return None
    status = int(scenario.arg(0))
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    page = f"<html><body><h1>{status}</h1><p>upstream error</p></body></html>"
    return HTMLResponse(page, status, headers)


def _answer(
    operation_id: str,
    request_data: Any,
    who: str,
    scenario: Scenario,
    attempt: int,
    data_for: DataFor,
) -> str:
    """The body of a (sync or callback) answer, as JSON text."""
    if scenario.word == "error" and scenario.arg(0):
        code = scenario.arg(0).upper()
        given = scenario.arg(1)
        return khipu_json(error_envelope(operation_id, code, given if "_" in given else None))
    if scenario.word == "flaky" and scenario.arg(0).isdigit() and attempt <= int(scenario.arg(0)):
        return khipu_json(error_envelope(operation_id, "I001", "RETRY_IMMEDIATELY"))
    if scenario.word == "broken":
        return khipu_json(_ok(operation_id, data_for(request_data, who, scenario)))[:-7]
    if scenario.word == "nodata":
        return khipu_json(_ok(operation_id, None, "No se encontraron datos para la cuenta."))
    if isinstance(request_data, raw.ContributionsRequestData) and _bad_period(request_data.Period):
        return khipu_json(error_envelope(operation_id, "E401", "DO_NOT_RETRY"))
    note = _INCOMPLETE if scenario.word == "notes" else None
    return khipu_json(_ok(operation_id, data_for(request_data, who, scenario), note))


def _bad_period(period: str | None) -> bool:
    return period is not None and not (period.isdigit() and len(period) == 4)


async def _deliver(url: str, body: str, delay: float) -> None:
    """POST the result to the callback URL, unsigned and without auth, as Khipu does."""
    await asyncio.sleep(delay)
    try:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
            await client.post(
                url, content=body.encode(), headers={"content-type": "application/json"}
            )
    except httpx.HTTPError as exc:
        log.warning("callback delivery to %s failed: %s", url.split("?")[0], type(exc).__name__)


CALL_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "afc.cl": {
        "balance": {"credential": DEMO_CREDENTIAL},
        "contributions": {"credential": DEMO_CREDENTIAL, "period": "2024"},
    },
    "bancosecurity.cl": {
        "balance": {"credential": DEMO_CREDENTIAL, "account_number": "11887755"},
        "loans": {"credential": DEMO_CREDENTIAL},
    },
}
"""Per connector and capability, the parameters of a call that succeeds."""

FAMILY_CODES = (
    "A000",
    "E000",
    "E101",
    "E201",
    "E301",
    "E401",
    "D000",
    "T000",
    "F000",
    "I001",
    "P001",
)
"""One code of every documented family, each answered with that family's usual Type."""


def _as(params: dict[str, Any], username: str) -> dict[str, Any]:
    return {**params, "credential": {"Username": username, "Password": "x"}}


def error_cases() -> list[ErrorCase]:
    """Every documented error, for every capability, with the typed error it must raise."""
    cases = []
    for connector, capabilities in CALL_PARAMS.items():
        for capability, params in capabilities.items():
            case = partial(ErrorCase, connector, capability)
            for code in FAMILY_CODES:
                kind = AuthenticationError if code.startswith("A") else ProviderError
                cases.append(case(_as(params, f"error-{code}"), kind, code=code))
            for error_type in ERROR_TYPES:
                cases.append(case(_as(params, f"error-E201-{error_type}"), ProviderError, "E201"))
            cases += [
                case(params, AuthenticationError, settings={"api_key": "not-the-sandbox-key"}),
                # an HTML page is not Khipu speaking: read by its status (caudal.status_error)
                case(_as(params, "http-502"), TransportError),
                case(_as(params, "broken"), MappingError),
                case(_as(params, "nodata"), ProviderError),
            ]
    return cases


def emulator() -> Emulator:
    """The Khipu emulator with fresh state (entry point `khipu` in group `caudal.sandbox`)."""
    khipu = Khipu(State())
    routes = [
        Route(endpoint.path, khipu.service(endpoint, data_for), methods=["POST"])
        for endpoint, data_for in _SERVICES
    ]
    routes += [
        Route("/oauth2/token", khipu.token, methods=["POST"]),
        Route("/_emulator/requests", khipu.requests, methods=["GET"]),
    ]
    keyed = {"api_key": SANDBOX_API_KEY}
    return Emulator(
        name="khipu",
        routes=routes,
        settings={"afc.cl": keyed, "bancosecurity.cl": keyed},
        cases=CASES,
        call_params=CALL_PARAMS,
        errors=error_cases(),
    )

"""What every Khipu connector shares: settings, auth, request bodies and envelope reading.

A Khipu service is described once, as an `Endpoint` (path, parameter model, request and
response models, record mapper); `KhipuConnector.khipu_operation` turns it into the
`caudal.Operation` the runtime runs. The sandbox emulator reads the same `Endpoint`s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, Generic, TypeVar, cast, get_args, get_origin

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from caudal import (
    AuthenticationError,
    Call,
    ConfigurationError,
    Connector,
    Operation,
    Pending,
    Reply,
    Request,
    Result,
    RetryAdvice,
)
from caudal.model import Record
from caudal.provenance import Ignored, Map, Provenance, as_is, ignored

from . import raw
from .auth import ClientCredentialsAuth, auth_for
from .envelope import read_envelope
from .settings import KhipuSettings

__all__ = ["Endpoint", "KhipuConnector", "KhipuParams", "khipu_provenance"]

P = TypeVar("P", bound="KhipuParams")
D = TypeVar("D")


class KhipuParams(BaseModel):
    """Parameters every Khipu capability takes.

    `credential` is the end user's login at the institution, `{"Username": ..., "Password": ...}`,
    or an AccountLink token string. Required with API-key auth; optional with a bearer token.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    credential: raw.LoginCredential | raw.AccountLinkToken | None = None

    def request_fields(self) -> dict[str, Any]:
        """The endpoint's own `RequestData` fields (besides `AccountCredential`)."""
        return {}


@dataclass(frozen=True, slots=True)
class Endpoint(Generic[P, D]):
    """One Khipu service: how to ask (path, parameters, request body) and how to read."""

    path: str
    params: type[P]
    body: type[raw.RequestBody[Any]]
    data: type[D]
    items: tuple[str, ...]
    """Keys from `Data` to the list the records are built from (`("Loan",)`)."""
    records: Callable[[D, Iterable[Any], Call[Any]], Sequence[Record]]
    """`records(data, items, call)`: `data` without the list, which comes as `items`, its raw
    models validated one at a time as they are iterated (`caudal.mapping.stream_items`)."""
    envelope: TypeAdapter[raw.Envelope[D]] = field(init=False, repr=False, compare=False)
    item: TypeAdapter[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once per endpoint, at import: a TypeAdapter per call would cost more than the body.
        adapter: TypeAdapter[raw.Envelope[D]] = TypeAdapter(raw.Envelope[self.data])  # type: ignore[name-defined]
        object.__setattr__(self, "envelope", adapter)
        object.__setattr__(self, "item", TypeAdapter(_item_model(self.data, self.items)))


def _item_model(data: type[Any], keys: tuple[str, ...]) -> type[BaseModel]:
    """The raw model of the items at `keys` under `data`, read from the models' own fields."""
    model: Any = data
    for key in keys:
        fields = (
            model.model_fields if isinstance(model, type) and issubclass(model, BaseModel) else {}
        )
        if key not in fields:
            raise TypeError(f"{data.__name__} has no list at {'.'.join(keys)}")
        model = fields[key].annotation
    args = get_args(model)
    if get_origin(model) is not list or not args or not issubclass(args[0], BaseModel):
        raise TypeError(f"{data.__name__}.{'.'.join(keys)} is not a list of raw models")
    return cast(type[BaseModel], args[0])


ENVELOPE_IGNORED = (
    ignored("$.Status", "always OK in a body that gives records (an ERROR body raises)"),
    ignored("$.Error", "null in a body that gives records (an ERROR body raises)"),
    ignored("$.LifeSpan", "only meaningful in a 202 acknowledgement (Pending.deadline)"),
    ignored("$.AdditionalInformation", "a remark, carried as Result.notes, not a record field"),
)
"""Khipu's envelope fields that no record carries, and why."""


def khipu_provenance(
    capability: str,
    data: type[Any],
    items: str,
    maps: Sequence[Map],
    ignored: Sequence[Ignored] = (),
) -> Provenance:
    """A Khipu capability's declared provenance: `Data`'s fields, plus the shared envelope."""
    return Provenance(
        capability,
        raw=raw.Envelope[data],  # type: ignore[valid-type]
        items=items,
        maps=(*maps, as_is("$.OperationId", "result.operation_id")),
        ignored=(*ignored, *ENVELOPE_IGNORED),
    )


class _RedactedBody(dict[str, Any]):
    """A request body whose repr hides it: it carries the end user's password or token."""

    def __repr__(self) -> str:
        return f"<request body with keys {sorted(self)}; values hidden>"


class KhipuConnector(Connector):
    """Base of the Khipu connectors: auth from `KhipuSettings`, Khipu's envelope and errors."""

    settings_class: ClassVar[type[KhipuSettings]] = KhipuSettings
    settings: KhipuSettings
    _auth: httpx.Auth | None = None

    def http_auth(self) -> httpx.Auth | None:
        """Bearer token, OAuth2 client credentials or API key, as the settings say."""
        self._auth = auth_for(self.settings, self.name)
        return self._auth

    def khipu_operation(self, endpoint: Endpoint[P, Any]) -> Operation[P]:
        """The runtime operation for one Khipu endpoint; every Khipu call accepts callbacks."""
        return Operation(
            endpoint.params,
            request=partial(self._request, endpoint),
            read=partial(self._read, endpoint),
            callbacks=True,
        )

    def _request(self, endpoint: Endpoint[P, Any], call: Call[P]) -> Request:
        params = call.params
        assert params is not None  # the runtime always validates parameters first
        mode = self.settings.auth_mode(self.name)
        if mode == "api_key" and params.credential is None:
            raise ConfigurationError(
                "credential= is required with API-key auth: the end user's "
                '{"Username": ..., "Password": ...} at the institution, or an AccountLink token',
                connector=self.name,
                capability=call.capability,
            )
        data = {"AccountCredential": params.credential, **params.request_fields()}
        try:
            body = endpoint.body.model_validate(
                {"RequestData": data, "CallbackUrl": call.callback_url}
            )
        except ValidationError as exc:  # the parameters passed their model: a bug, but typed
            raise ConfigurationError(
                f"cannot build the request body: {exc.errors(include_input=False)[0]['msg']}",
                connector=self.name,
                capability=call.capability,
            ) from None
        json = body.model_dump(mode="json", exclude_none=True, context=raw.REVEAL_SECRETS)
        return Request("POST", endpoint.path, json=_RedactedBody(json))

    def _read(
        self, endpoint: Endpoint[Any, D], reply: Reply, call: Call[Any]
    ) -> Result[Any] | Pending:
        try:
            return read_envelope(reply, call, endpoint)
        except AuthenticationError as error:
            self._after_auth_error(error)
            raise

    def _after_auth_error(self, error: AuthenticationError) -> None:
        # Khipu's A000 (token expired or revoked) arrives in a 200 body, out of the auth flow's
        # sight: drop the cached token so the retry fetches a fresh one.
        if isinstance(self._auth, ClientCredentialsAuth) and error.status in (200, None):
            self._auth.invalidate()
            error.retry = RetryAdvice.NOW

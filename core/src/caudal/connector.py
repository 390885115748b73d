"""The `Connector` base class: one provider endpoint family behind the canonical capabilities.

A subclass names itself, declares its settings, and implements capability hooks that return
`Operation`s. Everything else (validation of parameters, the sync and async runtimes, retries,
`parse`, challenges) is inherited, so two connectors behave the same way in every respect that
is not about their provider's JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, overload

import pluggy
from pydantic import BaseModel, ValidationError

from . import capabilities as _capabilities
from ._explain import problems
from ._telemetry import call_span
from .capabilities import CAPABILITIES, PROJECT
from .errors import ChallengeExpired, ConfigurationError, MappingError, UnsupportedCapability
from .exchange import Call, Operation, Reply, Request
from .mapping import mapping_errors
from .model import Balance, Challenge, Contribution, Loan, Pending, Result
from .settings import ConnectorSettings

if TYPE_CHECKING:
    import httpx

    from .runtime import AsyncRunner, SyncRunner

__all__ = ["Connector", "capabilities_of"]


def capabilities_of(cls: type) -> frozenset[str]:
    """The capabilities a connector class implements, read from its hook markers (no instance)."""
    found = set()
    for klass in cls.__mro__:
        for attr in vars(klass).values():
            opts = getattr(attr, f"{PROJECT}_impl", None)
            if opts is not None and opts.get("specname") in CAPABILITIES:
                found.add(opts["specname"])
    return frozenset(found)


def _keeping_body(
    read: Callable[[Reply, Call[Any]], Result[Any] | Pending],
) -> Callable[[Reply, Call[Any]], Result[Any] | Pending]:
    """`read`, with a MappingError carrying the response body that did not fit (keep_raw)."""

    def read_keeping_body(reply: Reply, call: Call[Any]) -> Result[Any] | Pending:
        try:
            with mapping_errors(call):
                return read(reply, call)
        except MappingError as exc:
            exc.keep_body(reply.body)
            raise

    return read_keeping_body


class Connector:
    """Base class of every connector. Host apps get instances from `registry.get(name)`."""

    name: ClassVar[str]
    """The registry name, e.g. `afc.cl`; also the entry-point name."""
    title: ClassVar[str] = ""
    settings_class: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    def __init__(
        self,
        settings: ConnectorSettings | None = None,
        /,
        *,
        extensions: Sequence[object] = (),
        **overrides: Any,
    ) -> None:
        self._missing_settings: str | None = None
        if settings is None:
            try:
                settings = self.settings_class(**overrides)
            except ValidationError as exc:
                prefix = str(self.settings_class.model_config.get("env_prefix", ""))
                problem = problems(exc, self.settings_class, env_prefix=prefix)
                if any(e["type"] != "missing" for e in exc.errors()):
                    raise ConfigurationError(
                        f"invalid settings ({problem}); pass them to registry.get() "
                        "or set the environment variables named",
                        connector=self.name,
                    ) from None
                # Only missing ones (credentials, typically): `parse` needs none, so the error
                # waits for the first request that needs them.
                self._missing_settings = problem
        elif overrides:
            raise ConfigurationError(
                "pass either a settings object or overrides", connector=self.name
            )
        self._settings = settings
        self._hooks = pluggy.PluginManager(PROJECT)
        self._hooks.add_hookspecs(_capabilities)
        self._hooks.register(self, name=f"connector:{self.name}")
        for extension in extensions:
            self._hooks.register(extension)
        self._hooks.check_pending()
        self.capabilities: frozenset[str] = capabilities_of(type(self))
        self._operations: dict[str, Operation[Any]] = {}
        self._sync: SyncRunner | None = None
        self._async: AsyncRunner | None = None

    @property
    def settings(self) -> ConnectorSettings:
        """The validated settings; a ConfigurationError naming what is missing, if anything is."""
        if self._settings is None:
            raise ConfigurationError(
                f"missing settings ({self._missing_settings}); pass them to registry.get() "
                "or set the environment variables named (mapping a stored body with "
                "conn.parse needs none)",
                connector=self.name,
            )
        return self._settings

    # -- the runtimes, built on first use -------------------------------------------------------

    def _runners(self) -> tuple[SyncRunner, AsyncRunner]:
        # Built lazily: `parse` (a webhook receiver) needs no credentials and no HTTP stack,
        # and `import caudal` does not load httpx.
        if self._sync is None or self._async is None:
            from .runtime import AsyncRunner, SyncRunner

            auth, headers = self.http_auth(), self.http_headers()
            self._sync = SyncRunner(self.settings, auth, headers)
            self._async = AsyncRunner(self.settings, auth, headers)
        return self._sync, self._async

    # -- what subclasses may override ----------------------------------------------------------

    def http_auth(self) -> httpx.Auth | None:
        """The httpx auth flow for every request (basic, bearer, OAuth2 token fetch)."""
        return None

    def http_headers(self) -> dict[str, str]:
        """Headers sent with every request (API keys go here or in `http_auth`)."""
        return {}

    def resume_request(self, challenge: Challenge, token: str) -> Request:
        """The request that answers `challenge` with the end user's `token`."""
        raise UnsupportedCapability(
            "this connector never issues multi-factor challenges", connector=self.name
        )

    # -- the capability calls ------------------------------------------------------------------

    @overload
    def balance(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Balance]: ...
    @overload
    def balance(self, *, callback_url: str, keep_raw: bool = False, **params: Any) -> Pending: ...
    def balance(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Balance] | Pending:
        """Account balances. With `callback_url` the provider delivers later: a `Pending`."""
        return self.call("balance", params, callback_url=callback_url, keep_raw=keep_raw)

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
        return await self.acall("balance", params, callback_url=callback_url, keep_raw=keep_raw)

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
        """Credited social-security contributions."""
        return self.call("contributions", params, callback_url=callback_url, keep_raw=keep_raw)

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
        return await self.acall(
            "contributions", params, callback_url=callback_url, keep_raw=keep_raw
        )

    @overload
    def loans(
        self, *, callback_url: None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Loan]: ...
    @overload
    def loans(self, *, callback_url: str, keep_raw: bool = False, **params: Any) -> Pending: ...
    def loans(
        self, *, callback_url: str | None = None, keep_raw: bool = False, **params: Any
    ) -> Result[Loan] | Pending:
        """The account holder's loans."""
        return self.call("loans", params, callback_url=callback_url, keep_raw=keep_raw)

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
        return await self.acall("loans", params, callback_url=callback_url, keep_raw=keep_raw)

    # -- the generic machinery -----------------------------------------------------------------

    def operation(self, capability: str) -> Operation[Any]:
        """The operation for `capability`, through any extension wrappers.

        Asked of the hooks once per connector and capability: the plugins and extensions are
        fixed when the connector is built, and a hook call costs more than mapping a small body.
        """
        operation = self._operations.get(capability)
        if operation is None:
            if capability not in self.capabilities:
                offered = ", ".join(sorted(self.capabilities)) or "none"
                raise UnsupportedCapability(
                    f"does not offer {capability!r}; it offers: {offered}", connector=self.name
                )
            operation = getattr(self._hooks.hook, capability)(connector=self)
            self._operations[capability] = operation
        return operation

    def prepare(
        self,
        capability: str,
        params: dict[str, Any],
        *,
        callback_url: str | None = None,
        keep_raw: bool = False,
    ) -> tuple[Operation[Any], Call[Any], Request]:
        """Check the call's parameters and build its request, before any I/O."""
        operation = self.operation(capability)
        if callback_url is not None and not operation.callbacks:
            raise ConfigurationError(
                "the provider does not deliver results to a callback URL",
                connector=self.name,
                capability=capability,
            )
        call = Call(
            self.name,
            capability,
            self._params(operation, capability, params),
            callback_url,
            keep_raw,
        )
        return operation, call, operation.request(call)

    def _params(
        self, operation: Operation[Any], capability: str, params: dict[str, Any]
    ) -> BaseModel:
        try:
            validated: BaseModel = operation.params.model_validate(params)
            return validated
        except ValidationError as exc:
            accepted = ", ".join(operation.params.model_fields) or "none"
            raise ConfigurationError(
                f"invalid parameters ({problems(exc, operation.params)}); "
                f"accepted parameters: {accepted}",
                connector=self.name,
                capability=capability,
            ) from None

    def call(
        self,
        capability: str,
        params: dict[str, Any],
        *,
        callback_url: str | None = None,
        keep_raw: bool = False,
    ) -> Result[Any] | Pending:
        """Run `capability` synchronously (the named methods call this)."""
        operation, call, request = self.prepare(
            capability, params, callback_url=callback_url, keep_raw=keep_raw
        )
        with call_span(self.name, capability):
            return self._runners()[0].run(request, self._reader(operation, call), call)

    async def acall(
        self,
        capability: str,
        params: dict[str, Any],
        *,
        callback_url: str | None = None,
        keep_raw: bool = False,
    ) -> Result[Any] | Pending:
        """Run `capability` on the running event loop."""
        operation, call, request = self.prepare(
            capability, params, callback_url=callback_url, keep_raw=keep_raw
        )
        with call_span(self.name, capability):
            return await self._runners()[1].run(request, self._reader(operation, call), call)

    @staticmethod
    def _reader(
        operation: Operation[Any], call: Call[Any]
    ) -> Callable[[Reply, Call[Any]], Result[Any] | Pending]:
        return _keeping_body(operation.read) if call.keep_raw else operation.read

    def parse(self, capability: str, body: bytes | str, *, keep_raw: bool = False) -> Result[Any]:
        """Map a raw provider body (a callback delivery, a stored response) with no I/O."""
        operation = self.operation(capability)
        call: Call[Any] = Call(self.name, capability, None, None, keep_raw)
        from .runtime._http import read_reply

        raw = body.encode() if isinstance(body, str) else body
        reply = Reply(200, raw)
        return self._result(read_reply(reply, self._reader(operation, call), call), call)

    def _resume(
        self, challenge: Challenge, token: str, keep_raw: bool
    ) -> tuple[Operation[Any], Call[Any], Request]:
        if challenge.connector != self.name:
            raise ConfigurationError(
                f"challenge belongs to connector {challenge.connector!r}", connector=self.name
            )
        if challenge.expired():
            raise ChallengeExpired(
                f"challenge session expired at {challenge.expires_at.isoformat()}; call again",
                connector=self.name,
                capability=challenge.capability,
            )
        operation = self.operation(challenge.capability)
        params = self._params(operation, challenge.capability, dict(challenge.params))
        call = Call(self.name, challenge.capability, params, keep_raw=keep_raw)
        return operation, call, self.resume_request(challenge, token)

    def resume(self, challenge: Challenge, token: str, *, keep_raw: bool = False) -> Result[Any]:
        """Answer a multi-factor challenge with the end user's token and get the data."""
        operation, call, request = self._resume(challenge, token, keep_raw)
        read = self._reader(operation, call)
        with call_span(self.name, challenge.capability):
            return self._result(self._runners()[0].run(request, read, call), call)

    async def aresume(
        self, challenge: Challenge, token: str, *, keep_raw: bool = False
    ) -> Result[Any]:
        """Async twin of `resume`."""
        operation, call, request = self._resume(challenge, token, keep_raw)
        read = self._reader(operation, call)
        with call_span(self.name, challenge.capability):
            return self._result(await self._runners()[1].run(request, read, call), call)

    def _result(self, outcome: Result[Any] | Pending, call: Call[Any]) -> Result[Any]:
        if not isinstance(outcome, Result):
            raise MappingError(
                "body is an acknowledgement of a pending request, not a result",
                connector=call.connector,
                capability=call.capability,
            )
        return outcome

    # -- lifecycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the sync connection pool (the async one closes with `aclose`)."""
        if self._sync is not None:
            self._sync.close()

    async def aclose(self) -> None:
        """Close both connection pools."""
        if self._sync is not None:
            self._sync.close()
        if self._async is not None:
            await self._async.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        base_url = self._settings.base_url if self._settings is not None else None
        return f"<{type(self).__name__} {self.name!r} base_url={base_url!r}>"

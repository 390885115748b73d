"""The `Connector` base class: one provider endpoint family behind the canonical capabilities.

A subclass names itself, declares its settings, and implements capability hooks that return
`Operation`s. Everything else (validation of parameters, the sync and async runtimes, retries,
`parse`, challenges) is inherited, so two connectors behave the same way in every respect that
is not about their provider's JSON.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, Self, TypeVar

import pluggy
from pydantic import BaseModel, ValidationError

from . import capabilities as _capabilities
from ._explain import problems
from ._methods import CapabilityMethods
from ._telemetry import call_span
from .capabilities import CAPABILITIES, DESCRIPTORS, PROJECT
from .errors import (
    CaudalError,
    ChallengeExpired,
    ConfigurationError,
    MappingError,
    UnsupportedCapability,
    detached,
)
from .exchange import Call, Operation, Reply, Request
from .mapping import connector_bug, mapping_errors
from .model import Challenge, Pending, Result
from .settings import ConnectorSettings, shown_url

if TYPE_CHECKING:
    import httpx

    from .runtime import AsyncRunner, SyncRunner

__all__ = ["Connector", "capabilities_of"]

A = ParamSpec("A")
R = TypeVar("R")


def _detaching(method: Callable[A, R]) -> Callable[A, R]:
    """`method`, its caudal errors raised without cause or context (see `errors.detached`)."""

    @functools.wraps(method)
    def detaching(*args: A.args, **kwargs: A.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except CaudalError as error:
            raise detached(error)  # noqa: B904 - re-raising the same error: no new context

    return detaching


def _adetaching(
    method: Callable[A, Coroutine[Any, Any, R]],
) -> Callable[A, Coroutine[Any, Any, R]]:
    """Async twin of `_detaching`."""

    @functools.wraps(method)
    async def detaching(*args: A.args, **kwargs: A.kwargs) -> R:
        try:
            return await method(*args, **kwargs)
        except CaudalError as error:
            raise detached(error)  # noqa: B904 - re-raising the same error: no new context

    return detaching


Y = TypeVar("Y")


def _detaching_iter(method: Callable[A, Iterator[Y]]) -> Callable[A, Iterator[Y]]:
    """`_detaching` for a generator: its errors arise while the caller iterates."""

    @functools.wraps(method)
    def detaching(*args: A.args, **kwargs: A.kwargs) -> Iterator[Y]:
        try:
            yield from method(*args, **kwargs)
        except CaudalError as error:
            raise detached(error)  # noqa: B904 - re-raising the same error: no new context

    return detaching


def _adetaching_iter(method: Callable[A, AsyncIterator[Y]]) -> Callable[A, AsyncIterator[Y]]:
    """Async twin of `_detaching_iter`."""

    @functools.wraps(method)
    async def detaching(*args: A.args, **kwargs: A.kwargs) -> AsyncIterator[Y]:
        try:
            async for item in method(*args, **kwargs):
                yield item
        except CaudalError as error:
            raise detached(error)  # noqa: B904 - re-raising the same error: no new context

    return detaching


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


def _dynamic_method(connector: Connector, name: str) -> Callable[..., Any] | None:
    """`conn.NAME`, `conn.aNAME`, `conn.iter_NAME`, `conn.aiter_NAME` of a capability defined
    at run time (caudal's own have real methods), or None."""
    if name in DESCRIPTORS:
        return lambda *, callback_url=None, keep_raw=False, **params: connector.call(
            name, params, callback_url=callback_url, keep_raw=keep_raw
        )
    if name.startswith("a") and name[1:] in DESCRIPTORS:
        return lambda *, callback_url=None, keep_raw=False, **params: connector.acall(
            name[1:], params, callback_url=callback_url, keep_raw=keep_raw
        )
    for prefix, method in (("iter_", connector.records), ("aiter_", connector.arecords)):
        base = name.removeprefix(prefix)
        if base != name and base in DESCRIPTORS and DESCRIPTORS[base].paged:
            return lambda **params: method(base, params)
    return None


class Connector(CapabilityMethods):
    """Base class of every connector. Host apps get instances from `registry.get(name)`."""

    name: ClassVar[str]
    """The registry name, e.g. `afc.cl`; also the entry-point name."""
    title: ClassVar[str] = ""
    settings_class: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    @_detaching
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
        if extensions:
            from .registry import _check_extension

            for extension in extensions:
                # a misspelt hook: a PluginError naming the extension, never pluggy's error
                _check_extension(type(extension).__name__, None, extension)
                self._hooks.register(extension)
        self._hooks.check_pending()
        self.capabilities: frozenset[str] = capabilities_of(type(self))
        self._operations: dict[str, Operation[Any]] = {}
        self._sync: SyncRunner | None = None
        self._async: AsyncRunner | None = None

    @property
    @_detaching
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
    # caudal's own capabilities have typed methods in `CapabilityMethods` (generated from their
    # descriptors); one defined at run time gets the same methods, untyped, from here.

    if not TYPE_CHECKING:  # mypy keeps refusing misspelt attributes

        def __getattr__(self, name: str) -> Any:
            method = _dynamic_method(self, name)
            if method is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            return method

    # -- the generic machinery -----------------------------------------------------------------

    @_detaching
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

    @_detaching
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
        return operation, call, self._typed_request(operation, call)

    def _typed_request(self, operation: Operation[Any], call: Call[Any]) -> Request:
        """The connector's request; a failure that is not a typed caudal error is its bug."""
        try:
            return operation.request(call)
        except (CaudalError, MemoryError):
            raise
        except Exception as exc:
            # Its message is not shown: a request builder holds the end user's credentials.
            bug = connector_bug(exc, call, "building the request", show=False)
        raise bug

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

    @_detaching
    def call(
        self,
        capability: str,
        params: dict[str, Any],
        *,
        callback_url: str | None = None,
        keep_raw: bool = False,
    ) -> Result[Any] | Pending:
        """Run `capability` synchronously (the named methods call this); every page of it."""
        operation, call, request = self.prepare(
            capability, params, callback_url=callback_url, keep_raw=keep_raw
        )
        runner = self._runners()[0]
        read = self._reader(operation, call)
        with call_span(self.name, capability):
            if operation.next_page is None or callback_url is not None:
                return runner.run(request, read, call)
            from .runtime._pages import gather, pages

            deadline = time.monotonic() + self.settings.deadline  # one for every page
            return gather(list(pages(runner, operation, request, read, call, deadline)))

    @_adetaching
    async def acall(
        self,
        capability: str,
        params: dict[str, Any],
        *,
        callback_url: str | None = None,
        keep_raw: bool = False,
    ) -> Result[Any] | Pending:
        """Run `capability` on the running event loop; every page of it."""
        operation, call, request = self.prepare(
            capability, params, callback_url=callback_url, keep_raw=keep_raw
        )
        runner = self._runners()[1]
        read = self._reader(operation, call)
        with call_span(self.name, capability):
            if operation.next_page is None or callback_url is not None:
                return await runner.run(request, read, call)
            from .runtime._pages import apages, gather

            deadline = time.monotonic() + self.settings.deadline  # one for every page
            walk = apages(runner, operation, request, read, call, deadline)
            return gather([page async for page in walk])

    @_detaching_iter
    def pages(
        self, capability: str, /, *, keep_raw: bool = False, **params: Any
    ) -> Iterator[Result[Any]]:
        """`capability`'s answer page by page, each fetched when the loop asks for it.

        Memory holds one page at a time. An answer that is not paged is one page.
        """
        operation, call, request = self.prepare(capability, params, keep_raw=keep_raw)
        runner = self._runners()[0]
        read = self._reader(operation, call)
        if operation.next_page is None:
            yield self._result(runner.run(request, read, call), call)
            return
        from .runtime._pages import pages

        yield from pages(runner, operation, request, read, call)

    @_adetaching_iter
    async def apages(
        self, capability: str, /, *, keep_raw: bool = False, **params: Any
    ) -> AsyncIterator[Result[Any]]:
        """Async twin of `pages`: `async for page in conn.apages("transactions", ...)`."""
        operation, call, request = self.prepare(capability, params, keep_raw=keep_raw)
        runner = self._runners()[1]
        read = self._reader(operation, call)
        if operation.next_page is None:
            yield self._result(await runner.run(request, read, call), call)
            return
        from .runtime._pages import apages

        async for page in apages(runner, operation, request, read, call):
            yield page

    def records(self, capability: str, params: dict[str, Any]) -> Iterator[Any]:
        """The records of every page, one page in memory at a time (`iter_NAME` calls this)."""
        for page in self.pages(capability, **params):
            yield from page.items

    async def arecords(self, capability: str, params: dict[str, Any]) -> AsyncIterator[Any]:
        """Async twin of `records` (`aiter_NAME` calls this)."""
        async for page in self.apages(capability, **params):
            for item in page.items:
                yield item

    @staticmethod
    def _reader(
        operation: Operation[Any], call: Call[Any]
    ) -> Callable[[Reply, Call[Any]], Result[Any] | Pending]:
        return _keeping_body(operation.read) if call.keep_raw else operation.read

    @_detaching
    def parse(self, capability: str, body: bytes | str, *, keep_raw: bool = False) -> Result[Any]:
        """Map a raw provider body (a callback delivery, a stored response) with no I/O."""
        operation = self.operation(capability)
        call: Call[Any] = Call(self.name, capability, None, None, keep_raw)
        from .runtime._http import read_reply

        raw = body if isinstance(body, bytes) else _utf8(body, call)
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
        if not challenge.session or not isinstance(token, str) or not token:
            what = "challenge has an empty session" if not challenge.session else "token is empty"
            raise ConfigurationError(
                f"cannot resume: {what}", connector=self.name, capability=challenge.capability
            )
        operation = self.operation(challenge.capability)
        params = self._params(operation, challenge.capability, dict(challenge.params))
        call = Call(self.name, challenge.capability, params, keep_raw=keep_raw)
        return operation, call, self._resume_request(challenge, token, call)

    def _resume_request(self, challenge: Challenge, token: str, call: Call[Any]) -> Request:
        """`resume_request`, its faults typed: a value its models refuse is the caller's."""
        failure: CaudalError
        try:
            return self.resume_request(challenge, token)
        except (CaudalError, MemoryError):
            raise
        except ValidationError as exc:
            said = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'request'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)[:5]
            )
            failure = ConfigurationError(
                f"cannot resume: {said}",
                connector=self.name,
                capability=challenge.capability,
            )
        except Exception as exc:
            failure = connector_bug(exc, call, "building the resume request", show=False)
        raise failure

    @_detaching
    def resume(self, challenge: Challenge, token: str, *, keep_raw: bool = False) -> Result[Any]:
        """Answer a multi-factor challenge with the end user's token and get the data."""
        operation, call, request = self._resume(challenge, token, keep_raw)
        read = self._reader(operation, call)
        with call_span(self.name, challenge.capability):
            return self._result(self._runners()[0].run(request, read, call), call)

    @_adetaching
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
        # A base URL may carry credentials (`https://user:pass@host/?key=...`): never shown.
        base_url = shown_url(self._settings.base_url) if self._settings is not None else None
        return f"<{type(self).__name__} {self.name!r} base_url={base_url!r}>"


def _utf8(body: str, call: Call[Any]) -> bytes:
    """A `str` body as UTF-8; one that cannot be (a lone surrogate) is a MappingError."""
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as exc:
        problem = f"body is not valid text: {exc.reason} at character {exc.start}"
    raise MappingError(problem, connector=call.connector, capability=call.capability)

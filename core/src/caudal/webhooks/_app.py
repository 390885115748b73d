"""The webhook receiver: unguessable callback URLs, verified, matched and delivered once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import inspect
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import (
    CaudalError,
    ConfigurationError,
    ConnectorBug,
    MappingError,
    ProviderError,
)
from ..model import Pending, Result
from ._store import TERMINAL, PendingStore, SQLiteStore, Ticket, TicketState

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request as HttpRequest
    from starlette.responses import Response

    from ..connector import Connector
    from ..registry import Registry

__all__ = ["App", "Delivery"]

log = logging.getLogger("caudal.webhooks")


@dataclass(frozen=True)
class Delivery:
    """What the host app's handler receives: a Result, or the provider's error instead.

    A handler can run again for the same ticket after a crash in the middle of it (see
    docs/webhooks.md): key what it writes by `id`, stable across re-runs, to make it idempotent.
    """

    ticket: Ticket
    result: Result[Any] | None = None
    error: CaudalError | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def id(self) -> str:
        """The same for every hand-over of this operation's result, unique per request."""
        return self.ticket.nonce

    @property
    def attempt(self) -> int:
        """1 the first time; 2 or more when an earlier hand-over never finished."""
        return self.ticket.attempts


Handler = Callable[[Delivery], Awaitable[None] | None]


class _Refused(Exception):
    """A body that is not for the pending operation: answered, never handed over."""

    def __init__(self, status: int, what: str, problem: str | None = None) -> None:
        self.status, self.what, self.problem = status, what, problem
        super().__init__(what)


def clamp_deadline(
    deadline: datetime | None, now: datetime, default: timedelta, longest: timedelta
) -> datetime:
    """The moment to wait until: the provider's own deadline, kept within [now, now + longest].

    A provider may say `9999-12-31` (or a moment before now, from a skewed clock): unclamped,
    the first would overflow every later computation and keep a ticket for ever.
    """
    if deadline is None:
        return now + min(default, longest)
    try:
        moment = deadline.astimezone(UTC)
    except (OverflowError, ValueError):  # beyond datetime's range once converted to UTC
        moment = now + longest if deadline.year > now.year else now
    return min(max(moment, now), now + longest)


class App:
    """Receives provider callbacks for pending operations and hands each result over once.

        hooks = webhooks.App(secret=..., public_url="https://app.example/caudal-hooks",
                             handler=on_delivery, store=webhooks.SQLiteStore("hooks.db"))
        pending = hooks.request(conn, "balance", credential=...)
        # mount hooks.asgi at /caudal-hooks, or run it with uvicorn

    Callback URLs are `<public_url>/<nonce>.<mac>`, the MAC an HMAC-SHA256 of a random nonce
    under `secret`: providers like Khipu neither sign callbacks nor send auth headers, so the
    URL itself is the credential.
    """

    def __init__(
        self,
        *,
        secret: str | bytes,
        public_url: str,
        handler: Handler,
        store: PendingStore | None = None,
        registry: Registry | None = None,
        connect: Callable[[str], Connector] | None = None,
        ttl: timedelta = timedelta(hours=24),
        max_wait: timedelta = timedelta(days=7),
        grace: timedelta = timedelta(hours=1),
        lease: timedelta = timedelta(seconds=60),
        max_body_bytes: int = 8 * 1024 * 1024,
        body_timeout: float = 30.0,
    ) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ConfigurationError("webhook secret must be at least 16 bytes")
        if lease <= timedelta(0) or body_timeout <= 0 or max_body_bytes <= 0:
            raise ConfigurationError("lease, body_timeout and max_body_bytes must be positive")
        self._key = key
        self.public_url = public_url.rstrip("/")
        self._handler = handler
        self.store: PendingStore = store if store is not None else SQLiteStore()
        self._connectors: dict[str, Connector] = {}
        self._connect = connect or self._default_connect(registry)
        self.ttl, self.max_wait, self.grace, self.lease = ttl, max_wait, grace, lease
        self.max_body_bytes, self.body_timeout = max_body_bytes, body_timeout
        self._asgi: Starlette | None = None

    def __repr__(self) -> str:
        return f"<webhooks.App public_url={self.public_url!r}>"

    @staticmethod
    def _default_connect(registry: Registry | None) -> Callable[[str], Connector]:
        def connect(name: str) -> Connector:
            if registry is None:
                from .. import registry as default_registry

                return default_registry.get(name)
            return registry.get(name)

        return connect

    # -- issuing callback URLs ----------------------------------------------------------------

    def _mac(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def callback_url(self, connector: str, capability: str) -> tuple[str, Ticket]:
        """A fresh unguessable URL for one request, its ticket recorded before it is used.

        For a request you send yourself: pass the provider's answer to `expect` afterwards;
        until then a callback to this URL is answered 503 (not yet acknowledged).
        """
        nonce = secrets.token_urlsafe(18)
        now = datetime.now(UTC)
        ticket = Ticket(nonce, connector, capability, now, now + min(self.ttl, self.max_wait))
        self.store.add(ticket)
        return f"{self.public_url}/{nonce}.{self._mac(nonce)}", ticket

    def expect(self, ticket: Ticket, pending: Pending) -> None:
        """Record the operation the provider acknowledged for `ticket` (its id, its deadline)."""
        deadline = clamp_deadline(pending.deadline, datetime.now(UTC), self.ttl, self.max_wait)
        self.store.set_operation(ticket.nonce, pending.operation_id, deadline)

    def _remember(self, conn: Connector, ticket: Ticket, outcome: Pending | Result[Any]) -> Pending:
        if not isinstance(outcome, Pending):
            raise ConfigurationError(
                "the provider answered synchronously instead of accepting a callback",
                connector=conn.name,
                capability=ticket.capability,
            )
        self._connectors.setdefault(conn.name, conn)
        self.expect(ticket, outcome)
        return outcome

    def request(self, conn: Connector, capability: str, **params: Any) -> Pending:
        """Call `capability` asking for delivery here; the Result reaches the handler later."""
        url, ticket = self.callback_url(conn.name, capability)
        return self._remember(conn, ticket, conn.call(capability, params, callback_url=url))

    async def arequest(self, conn: Connector, capability: str, **params: Any) -> Pending:
        """Async twin of `request`."""
        url, ticket = self.callback_url(conn.name, capability)
        return self._remember(conn, ticket, await conn.acall(capability, params, callback_url=url))

    def overdue(self) -> list[Ticket]:
        """Unfinished operations past their deadline, whatever their state (each reported once).

        A ticket whose handler died under an expired lease is reported too; reporting changes
        nothing else, so a late delivery is still handed over.
        """
        return self.store.overdue(datetime.now(UTC))

    # -- receiving ------------------------------------------------------------------------------

    @property
    def asgi(self) -> Starlette:
        """The ASGI app to mount at `public_url`'s path (or to run with uvicorn).

        Run on its own, its lifespan re-delivers stranded claims at start-up and every lease;
        mounted inside another app (whose lifespan does not reach it), call `redeliver`.
        """
        if self._asgi is None:
            from starlette.applications import Starlette
            from starlette.routing import Route

            self._asgi = Starlette(
                routes=[Route("/{token}", self._receive, methods=["POST"])],
                lifespan=self._lifespan,
            )
        return self._asgi

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: object) -> AsyncIterator[None]:
        task = asyncio.create_task(self._redeliver_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _redeliver_forever(self) -> None:
        while True:
            try:
                await self.redeliver()
            except Exception:
                log.exception("re-delivering stranded webhook claims failed; trying again")
            await asyncio.sleep(self.lease.total_seconds())

    def _verify(self, token: str) -> str | None:
        nonce, _, mac = token.partition(".")
        if not nonce or not hmac.compare_digest(mac.encode(), self._mac(nonce).encode()):
            return None
        return nonce

    def _expired(self, ticket: Ticket) -> bool:
        try:
            return datetime.now(UTC) > ticket.deadline + self.grace
        except OverflowError:  # an unclamped deadline stored by caudal 0.1
            return False

    async def _read_body(self, request: HttpRequest) -> bytes:
        """The body, within `max_body_bytes` and `body_timeout` for the whole upload."""
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout):
                async for chunk in request.stream():
                    if len(body) + len(chunk) > self.max_body_bytes:
                        raise _Refused(413, "too large")
                    body += chunk
        except TimeoutError:
            raise _Refused(408, "upload too slow") from None
        return bytes(body)

    async def _receive(self, request: HttpRequest) -> Response:
        from starlette.responses import JSONResponse

        def answer(status: int, what: str) -> Response:
            return JSONResponse({"status": what}, status_code=status)

        nonce = self._verify(request.path_params["token"])
        if nonce is None:
            log.warning("webhook delivery with a forged or malformed token refused")
            return answer(403, "forbidden")
        ticket = self.store.get(nonce)
        if ticket is None:
            return answer(404, "unknown")
        if ticket.state in TERMINAL:
            return answer(200, "duplicate")
        if self._expired(ticket):
            return answer(410, "expired")
        if ticket.state is TicketState.DELIVERING and not ticket.stranded(datetime.now(UTC)):
            return answer(503, "delivery in progress")  # without reading what is sent
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return answer(413, "too large")  # refused before a byte of it is read
        if ticket.operation_id is None:
            # The callback overtook the provider's 202: nothing to match it against yet.
            return answer(503, "not yet acknowledged")
        try:
            body = await self._read_body(request)
        except _Refused as refused:
            return answer(refused.status, refused.what)
        try:
            delivery = await asyncio.to_thread(self._addressed, ticket, body)
        except _Refused as refused:
            if refused.problem is not None:
                self.store.keep_body(nonce, body, refused.problem)
            return answer(refused.status, refused.what)
        now = datetime.now(UTC)
        token = self.store.claim(nonce, body, now, now + self.lease)
        if token is None:
            current = self.store.get(nonce)
            if current is not None and current.state is TicketState.DELIVERING:
                return answer(503, "delivery in progress")
            return answer(200, "duplicate")
        claimed = self.store.get(nonce) or ticket
        return answer(*await self._hand_over(claimed, token, delivery, body))

    def _addressed(self, ticket: Ticket, body: bytes) -> Delivery:
        """The body as a Delivery if it is for the ticket's operation; else `_Refused`.

        Checked before anything is consumed: a body with an empty or another OperationId, an
        error envelope for another operation, or garbage leaves the ticket as it was, so the
        genuine result is still handed over when it comes.
        """
        expected = ticket.operation_id
        try:
            conn = self._connectors.get(ticket.connector) or self._connect(ticket.connector)
            self._connectors.setdefault(ticket.connector, conn)
            result = conn.parse(ticket.capability, body)
        except ProviderError as exc:
            # For a callback, the provider's error names its operation as the request id.
            if not exc.request_id or exc.request_id != expected:
                raise _Refused(409, "operation mismatch", f"error for {exc.request_id!r}") from None
            return Delivery(ticket, error=exc)
        except MappingError as exc:
            raise _Refused(422, "unmappable", str(exc)) from None
        except ConnectorBug as exc:
            # Our code's fault, not the provider's: kept pending (the provider retries) and
            # logged with the traceback the bug carries.
            log.error(
                "bug while mapping a webhook delivery; it stays pending: %s", exc, exc_info=exc
            )
            raise _Refused(500, "receiver error") from None
        except CaudalError as exc:
            log.error("webhook delivery not handled: %s", exc)
            raise _Refused(503, "receiver not ready") from None
        except Exception:
            log.exception("bug while mapping a webhook delivery; it stays pending")
            raise _Refused(500, "receiver error") from None
        if not result.operation_id or result.operation_id != expected:
            raise _Refused(
                409, "operation mismatch", f"result for {result.operation_id!r}"
            ) from None
        return Delivery(ticket, result=result)

    async def _hand_over(
        self, ticket: Ticket, token: str, delivery: Delivery, body: bytes
    ) -> tuple[int, str]:
        """Run the handler under the claim, renewing its lease, and record how it ended."""
        delivery = Delivery(ticket, delivery.result, delivery.error, delivery.received_at)
        failed = delivery.error is not None
        if failed:
            self.store.keep_body(ticket.nonce, body, str(delivery.error))
        renewing = asyncio.create_task(self._renew(ticket.nonce, token))
        try:
            await self._call_handler(delivery)
        except Exception:
            log.exception("webhook handler failed; the delivery stays pending for a retry")
            self.store.release(ticket.nonce, token)
            return 500, "handler failed"
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
        if not self.store.finish(
            ticket.nonce, token, TicketState.FAILED if failed else TicketState.DELIVERED
        ):
            log.warning("webhook claim was taken over while its handler ran (lease too short?)")
        return 200, "provider error delivered" if failed else "delivered"

    async def _call_handler(self, delivery: Delivery) -> None:
        # A plain function runs in a worker thread: a slow handler must not stall the loop.
        if inspect.iscoroutinefunction(self._handler) or inspect.iscoroutinefunction(
            getattr(self._handler, "__call__", None)  # noqa: B004
        ):
            await self._handler(delivery)  # type: ignore[misc]
            return
        outcome = await asyncio.to_thread(self._handler, delivery)
        if inspect.isawaitable(outcome):
            await outcome

    async def _renew(self, nonce: str, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            if not self.store.renew(nonce, token, datetime.now(UTC) + self.lease):
                log.warning("webhook lease for a running handler could not be renewed")
                return

    async def redeliver(self) -> int:
        """Hand over again every accepted delivery whose handler never finished.

        A claim whose process died stops being renewed; once its lease has run out the stored
        body is claimed anew and handed over (the handler runs again: see `Delivery.id`).
        Returns how many were handed over.
        """
        done = 0
        for ticket in self.store.stranded(datetime.now(UTC)):
            body = self.store.accepted_body(ticket.nonce)
            if body is None:
                continue
            try:
                delivery = await asyncio.to_thread(self._addressed, ticket, body)
            except _Refused as refused:
                log.error("stranded webhook delivery cannot be handed over: %s", refused.what)
                continue
            now = datetime.now(UTC)  # per ticket: an earlier handler may have taken minutes
            token = self.store.claim(ticket.nonce, body, now, now + self.lease)
            if token is None:
                continue  # someone else (a provider retry, another process) took it
            claimed = self.store.get(ticket.nonce) or ticket
            status, _ = await self._hand_over(claimed, token, delivery, body)
            done += status == 200
        return done

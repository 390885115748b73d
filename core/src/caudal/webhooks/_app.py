"""The webhook receiver: unguessable callback URLs, verified, matched and delivered once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import CaudalError, ConfigurationError, MappingError
from ..model import Pending, Result
from ._store import PendingStore, SQLiteStore, Ticket, TicketState

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
    """What the host app's handler receives, once per ticket: a Result or the error instead."""

    ticket: Ticket
    result: Result[Any] | None = None
    error: CaudalError | None = None
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


Handler = Callable[[Delivery], Awaitable[None] | None]


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
        grace: timedelta = timedelta(hours=1),
        max_body_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ConfigurationError("webhook secret must be at least 16 bytes")
        self._key = key
        self.public_url = public_url.rstrip("/")
        self._handler = handler
        self.store: PendingStore = store if store is not None else SQLiteStore()
        self._connectors: dict[str, Connector] = {}
        self._connect = connect or self._default_connect(registry)
        self.ttl, self.grace, self.max_body_bytes = ttl, grace, max_body_bytes
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
        """A fresh unguessable URL for one request, its ticket recorded before it is used."""
        nonce = secrets.token_urlsafe(18)
        now = datetime.now(UTC)
        ticket = Ticket(nonce, connector, capability, now, now + self.ttl)
        self.store.add(ticket)
        return f"{self.public_url}/{nonce}.{self._mac(nonce)}", ticket

    def _remember(self, conn: Connector, ticket: Ticket, outcome: Pending | Result[Any]) -> Pending:
        if not isinstance(outcome, Pending):
            raise ConfigurationError(
                "the provider answered synchronously instead of accepting a callback",
                connector=conn.name,
                capability=ticket.capability,
            )
        self._connectors.setdefault(conn.name, conn)
        self.store.set_operation(ticket.nonce, outcome.operation_id, outcome.deadline)
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
        """Operations still waiting past their deadline (each reported once)."""
        return self.store.overdue(datetime.now(UTC))

    # -- receiving ------------------------------------------------------------------------------

    @property
    def asgi(self) -> Starlette:
        """The ASGI app to mount at `public_url`'s path (or to run with uvicorn)."""
        if self._asgi is None:
            from starlette.applications import Starlette
            from starlette.routing import Route

            self._asgi = Starlette(routes=[Route("/{token}", self._receive, methods=["POST"])])
        return self._asgi

    def _verify(self, token: str) -> str | None:
        nonce, _, mac = token.partition(".")
        if not nonce or not hmac.compare_digest(mac.encode(), self._mac(nonce).encode()):
            return None
        return nonce

    async def _read_body(self, request: HttpRequest) -> bytes | None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

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
        if datetime.now(UTC) > ticket.deadline + self.grace:
            return answer(410, "expired")
        body = await self._read_body(request)
        if body is None:
            return answer(413, "too large")
        if ticket.state in (TicketState.DELIVERED, TicketState.FAILED):
            return answer(200, "duplicate")
        return await self._deliver(ticket, body, answer)

    def _parse(self, ticket: Ticket, body: bytes) -> Delivery:
        try:
            conn = self._connectors.get(ticket.connector) or self._connect(ticket.connector)
            self._connectors.setdefault(ticket.connector, conn)
            result = conn.parse(ticket.capability, body)
        except CaudalError as exc:
            return Delivery(ticket, error=exc)
        if (
            ticket.operation_id
            and result.operation_id
            and result.operation_id != ticket.operation_id
        ):
            return Delivery(
                ticket,
                error=MappingError(
                    f"OperationId {result.operation_id!r} does not match the pending operation",
                    connector=ticket.connector,
                    capability=ticket.capability,
                    path="$.OperationId",
                ),
            )
        return Delivery(ticket, result=result)

    async def _deliver(
        self, ticket: Ticket, body: bytes, answer: Callable[[int, str], Response]
    ) -> Response:
        delivery = await asyncio.to_thread(self._parse, ticket, body)
        if isinstance(delivery.error, MappingError) and delivery.error.path == "$.OperationId":
            return answer(409, "operation mismatch")
        if not self.store.claim(ticket.nonce):
            current = self.store.get(ticket.nonce)
            if current and current.state is TicketState.DELIVERING:
                return answer(503, "delivery in progress")
            return answer(200, "duplicate")
        failed = delivery.error is not None
        self.store.keep_body(ticket.nonce, body, str(delivery.error) if failed else None)
        try:
            # A plain function runs in a worker thread: a slow handler must not stall the loop.
            if inspect.iscoroutinefunction(self._handler) or inspect.iscoroutinefunction(
                getattr(self._handler, "__call__", None)  # noqa: B004
            ):
                await self._handler(delivery)  # type: ignore[misc]
            else:
                outcome = await asyncio.to_thread(self._handler, delivery)
                if inspect.isawaitable(outcome):
                    await outcome
        except Exception:
            log.exception("webhook handler failed; the delivery stays pending for a retry")
            self.store.release(ticket.nonce)
            return answer(500, "handler failed")
        self.store.finish(ticket.nonce, TicketState.FAILED if failed else TicketState.DELIVERED)
        return answer(200, "mapping failed" if failed else "delivered")

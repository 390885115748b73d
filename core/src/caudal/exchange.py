"""The sans-I/O contract between a connector and the runtime.

A connector never touches a socket. For each capability it hands the runtime an `Operation`:
which parameters the call takes, how to build the `Request`, and how to `read` the `Reply` into
canonical records. The runtime (sync or async) owns every connection, retry and timeout, and
`conn.parse` / the webhook app reuse the very same `read`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from .model import Pending, Result

__all__ = ["Call", "NoParams", "Operation", "Reply", "Request"]

P = TypeVar("P", bound=BaseModel)


class NoParams(BaseModel):
    """Parameters of a capability that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, relative to the connector's `base_url`."""

    method: str
    path: str
    json: Any = field(default=None, repr=False)
    params: Mapping[str, str] | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Bodies, queries and headers may carry end-user passwords and tokens: never in a repr."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The provider's answer, fully read: status, headers (lower-case names) and body bytes."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class Call(Generic[P]):
    """One capability call as the connector sees it.

    `params` is None when a body is parsed without a call behind it (`conn.parse`, webhooks).
    """

    connector: str
    capability: str
    params: P | None = None
    callback_url: str | None = None
    keep_raw: bool = False


@dataclass(frozen=True, slots=True)
class Operation(Generic[P]):
    """How one capability is fetched and read. `callbacks`: accepts `callback_url=`.

    `next_page`: for a paged answer, the link to the page after the one `read` gave (an
    absolute URL, or one relative to the page's), or None on the last page. The runtime
    follows it with a GET on the connector's own origin only, up to `max_pages` pages;
    `conn.NAME()` gathers every page into one `Result`, `conn.pages()` streams them.
    """

    params: type[P]
    request: Callable[[Call[P]], Request]
    read: Callable[[Reply, Call[P]], Result[Any] | Pending]
    callbacks: bool = False
    next_page: Callable[[Result[Any], Call[P]], str | None] | None = None

    def wrap_read(
        self,
        wrapper: Callable[
            [Callable[[Reply, Call[P]], Result[Any] | Pending], Reply, Call[P]],
            Result[Any] | Pending,
        ],
    ) -> Operation[P]:
        """A copy whose `read` goes through `wrapper(read, reply, call)`: for extension hooks."""
        inner = self.read
        return replace(self, read=lambda reply, call: wrapper(inner, reply, call))

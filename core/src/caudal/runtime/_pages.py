"""Following a paged answer: every page through the runner's own `run`, bounded and checked.

A connector's `Operation.next_page` names the link to the next page; this module decides
whether to follow it. Three rules protect the caller:

- a link is followed only on the connector's own origin (scheme, host and port of `base_url`,
  under its path): the runner's client sends the connector's credentials with every request,
  so a foreign link (a compromised or misconfigured provider) would hand them to another host;
- a walk that does not advance (a link already followed, the page's own URL) is an error, not
  an endless loop;
- at most `max_pages` pages (a setting): passing it is an error, never a silent truncation.

Each page is one `run` of the runner (its retries, its limits), so the sync and async walks
differ only in `await`. A call that gathers every page passes one `deadline` for all of them
(the call returns within its deadline, however many pages); a stream (`conn.pages`) gives each
page its own, since the caller decides how long it spends between pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import MappingError, RetryAdvice, TransportError
from ..exchange import Call, Operation, Request
from ..model import Pending, Result

if TYPE_CHECKING:
    from ..settings import ConnectorSettings
    from ._async import AsyncRunner
    from ._http import Reader
    from ._sync import SyncRunner

__all__ = ["PageWalk", "apages", "gather", "pages"]


class PageWalk:
    """The decisions of one walk through pages (no I/O): which request comes next, if any."""

    def __init__(self, settings: ConnectorSettings, call: Call[Any], first: httpx.URL) -> None:
        self._call = call
        self._max = settings.max_pages
        base = httpx.URL(settings.base_url)
        self._origin = (base.scheme, base.host, base.port)
        self._root = base.path.rstrip("/") + "/"
        self._current = first
        self._seen = {str(first)}
        self.count = 1

    def page(self, outcome: Result[Any] | Pending) -> Result[Any]:
        """The page's Result; a page answered with a pending acknowledgement is refused."""
        if not isinstance(outcome, Result):
            raise self._refused("a page was answered with a pending acknowledgement")
        return outcome

    def next_request(
        self, page: Result[Any], next_page: Callable[[Result[Any], Call[Any]], str | None]
    ) -> Request | None:
        """The GET for the page after `page`, or None when it was the last one."""
        link = next_page(page, self._call)
        if link is None:
            return None
        try:
            url = self._current.join(link)
        except httpx.InvalidURL:
            raise self._refused("the next-page link is not a URL") from None
        if (url.scheme, url.host, url.port) != self._origin or not (url.path + "/").startswith(
            self._root
        ):
            # Never show the link's query (it may carry tokens): its origin says enough.
            raise self._refused(
                f"the next-page link leads to {url.scheme}://{url.host}{url.path}, outside the "
                "connector's base URL; credentials are only sent there"
            )
        if str(url) in self._seen:
            raise self._refused(
                f"the next-page link repeats an earlier page (after page {self.count})"
            )
        if self.count >= self._max:
            raise TransportError(
                f"the answer has more than {self._max} pages (the max_pages setting); "
                "narrow the request or raise the setting",
                connector=self._call.connector,
                capability=self._call.capability,
                retry=RetryAdvice.NEVER,
            )
        self._seen.add(str(url))
        self._current = url
        self.count += 1
        return Request("GET", str(url))

    def _refused(self, why: str) -> MappingError:
        return MappingError(why, connector=self._call.connector, capability=self._call.capability)


def pages(
    runner: SyncRunner,
    operation: Operation[Any],
    request: Request,
    read: Reader,
    call: Call[Any],
    deadline: float | None = None,
) -> Iterator[Result[Any]]:
    """Each page's `Result`, fetched when the caller asks for it (one page in memory)."""
    assert operation.next_page is not None  # callers check the operation is paged
    walk = PageWalk(runner.settings, call, runner.url_of(request))
    following: Request | None = request
    while following is not None:
        page = walk.page(runner.run(following, read, call, deadline))
        following = walk.next_request(page, operation.next_page)
        yield page


async def apages(
    runner: AsyncRunner,
    operation: Operation[Any],
    request: Request,
    read: Reader,
    call: Call[Any],
    deadline: float | None = None,
) -> AsyncIterator[Result[Any]]:
    """Async twin of `pages`."""
    assert operation.next_page is not None
    walk = PageWalk(runner.settings, call, runner.url_of(request))
    following: Request | None = request
    while following is not None:
        page = walk.page(await runner.run(following, read, call, deadline))
        following = walk.next_request(page, operation.next_page)
        yield page


def gather(results: list[Result[Any]]) -> Result[Any]:
    """One `Result` of every page's records, in order (a page's notes once each).

    `raw`, when kept, is a JSON array of the pages' bodies; `references` are those every page
    shares (a page's own links, its next page, say nothing about the whole).
    """
    first = results[0]
    if len(results) == 1:
        return first
    items = tuple(item for result in results for item in result.items)
    notes = tuple(dict.fromkeys(note for result in results for note in result.notes))
    raws = [result.raw for result in results]
    raw = None if any(r is None for r in raws) else "[" + ",".join(r or "" for r in raws) + "]"
    shared = {
        key: value
        for key, value in first.references.items()
        if all(result.references.get(key) == value for result in results)
    }
    update = {"items": items, "notes": notes, "raw": raw, "references": shared}
    return first.model_copy(update=update)

"""Capabilities are pluggy hook specifications.

A connector implements the hooks of the capabilities it offers, each returning the `Operation`
that fetches and reads it; its capability set is derived from those hooks. Extension plugins
(entry-point group `caudal.extensions`) wrap the same hooks with `@hookimpl(wrapper=True)` to
add logging, metrics or redaction around every connector's operation. The hooks run once per
connector and capability (the connector keeps the `Operation`): a wrapper that must see every
call wraps the operation's `read` or `request` (`Operation.wrap_read`), as the tests' metrics
extension does.

Adding a capability: a hookspec here, its record model in `caudal.model`, its pair of methods
on `Connector`, and its docs; no provider changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from .model import Balance, Contribution, Loan

if TYPE_CHECKING:
    from collections.abc import Callable

    from .connector import Connector
    from .exchange import Operation

__all__ = ["CAPABILITIES", "capability", "hookimpl", "hookspec"]

PROJECT = "caudal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def balance(connector: Connector) -> Operation[Any] | None:
    """The operation that fetches the account balances (records: `Balance`)."""


@hookspec(firstresult=True)
def contributions(connector: Connector) -> Operation[Any] | None:
    """The operation that fetches credited social-security contributions (`Contribution`)."""


@hookspec(firstresult=True)
def loans(connector: Connector) -> Operation[Any] | None:
    """The operation that fetches the holder's loans (records: `Loan`)."""


CAPABILITIES: dict[str, type[Balance | Contribution | Loan]] = {
    "balance": Balance,
    "contributions": Contribution,
    "loans": Loan,
}
"""Every capability name and the record type its Results hold."""


def capability(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a connector method as the implementation of capability `name`.

    The method takes only `self` and returns an `Operation`; the public `conn.<name>()` call is
    provided by `Connector` and must not be shadowed, hence the separate method name.
    """
    if name not in CAPABILITIES:
        raise ValueError(f"unknown capability {name!r}; known: {', '.join(CAPABILITIES)}")
    marker: Callable[[Callable[..., Any]], Callable[..., Any]] = hookimpl(specname=name)
    return marker

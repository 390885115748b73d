"""Capabilities: one `Capability` descriptor each, from which everything else follows.

A descriptor names the capability, its record type, the parameters connectors commonly take
for it, a one-line doc and its CLI columns. `define(descriptor)` makes it real: a pluggy
hookspec of that name (connectors implement it with `@capability("name")`, returning the
`Operation` that fetches and reads it), an entry in `CAPABILITIES` (name -> record type), the
record in `caudal.model.json_schema()`, the connector's `name()` / `aname()` methods (and
`iter_name()` / `aiter_name()` for a paged one), the CLI table and the docs sections.

Adding a capability to caudal is: the descriptor (in `BUILTIN` below), its record model
(`caudal.model`) and its docs page; `make docs-sync` regenerates the typed connector methods
(`caudal._methods`) and the docs blocks from them.

Extension plugins (entry-point group `caudal.extensions`) wrap the same hooks with
`@hookimpl(wrapper=True)` to add logging, metrics or redaction around every connector's
operation. The hooks run once per connector and capability (the connector keeps the
`Operation`): a wrapper that must see every call wraps the operation's `read` or `request`
(`Operation.wrap_read`), as the tests' metrics extension does.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pluggy

from .model import Account, Balance, Contribution, Loan, Money, Record, Transaction

if TYPE_CHECKING:
    from .connector import Connector
    from .exchange import Operation

__all__ = [
    "BUILTIN",
    "CAPABILITIES",
    "DESCRIPTORS",
    "Capability",
    "Column",
    "capability",
    "define",
    "hookimpl",
    "hookspec",
    "undefine",
]

PROJECT = "caudal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

R = TypeVar("R", bound=Record)


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column of a capability's CLI table: a header and how a record fills its cell."""

    header: str
    cell: Callable[[R], str]
    numeric: bool = False
    """Right-aligned (amounts, units)."""


@dataclass(frozen=True, slots=True)
class Capability(Generic[R]):
    """Everything caudal needs to know about one capability, in one place.

    `parameters`: the parameters connectors commonly take for it (name -> one line), for the
    docs and the CLI help; each connector still validates its own parameters model.
    `paged`: answers may come in pages, so the connector gets `iter_NAME()` / `aiter_NAME()`
    that stream records page by page.
    """

    name: str
    record: type[R]
    doc: str
    parameters: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    columns: tuple[Column[R], ...] = ()
    paged: bool = False

    def __post_init__(self) -> None:
        # The name becomes a hook, an attribute and a method name (`a` + name, `iter_` + name).
        if not (self.name.isidentifier() and self.name.islower()) or keyword.iskeyword(self.name):
            raise ValueError(f"capability name {self.name!r} must be a lower-case identifier")
        doc = self.doc.strip()
        if self.name.startswith("_") or "\n" in doc or not 0 < len(doc) <= 80:
            raise ValueError(f"capability {self.name!r}: a public name and a one-line doc")
        if not (isinstance(self.record, type) and issubclass(self.record, Record)):
            raise TypeError(f"capability {self.name!r}: the record type must subclass Record")


DESCRIPTORS: dict[str, Capability[Any]] = {}
"""Every defined capability by name, in definition order."""

CAPABILITIES: dict[str, type[Record]] = {}
"""Every capability name and the record type its Results hold."""


def _hookspec(descriptor: Capability[Any]) -> Callable[..., Any]:
    def spec(connector: Connector) -> Operation[Any] | None:
        """Filled in below."""

    spec.__name__ = spec.__qualname__ = descriptor.name
    spec.__doc__ = (
        f"The operation that fetches {descriptor.doc[0].lower()}{descriptor.doc[1:]} "
        f"(records: `{descriptor.record.__name__}`)."
    )
    marked: Callable[..., Any] = hookspec(firstresult=True)(spec)
    return marked


def define(descriptor: Capability[R]) -> Capability[R]:
    """Make `descriptor` a capability: its hookspec, its `CAPABILITIES` entry, its methods.

    The hookspec is a function of this module named after the capability (pluggy reads this
    module's hookspecs), so connectors built afterwards can implement it.
    """
    name = descriptor.name
    if name in DESCRIPTORS or name in globals():
        raise ValueError(f"capability {name!r} is already defined (or clashes with a name here)")
    DESCRIPTORS[name] = descriptor
    CAPABILITIES[name] = descriptor.record
    globals()[name] = _hookspec(descriptor)
    return descriptor


def undefine(name: str) -> None:
    """Remove a capability `define` added (test suites that define a throwaway one)."""
    if name in BUILTIN:
        raise ValueError(f"{name!r} is one of caudal's own capabilities")
    DESCRIPTORS.pop(name, None)
    CAPABILITIES.pop(name, None)
    globals().pop(name, None)


def capability(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a connector method as the implementation of capability `name`.

    The method takes only `self` and returns an `Operation`; the public `conn.<name>()` call is
    provided by `Connector` and must not be shadowed, hence the separate method name.
    """
    if name not in CAPABILITIES:
        raise ValueError(f"unknown capability {name!r}; known: {', '.join(CAPABILITIES)}")
    marker: Callable[[Callable[..., Any]], Callable[..., Any]] = hookimpl(specname=name)
    return marker


# -- cells: how values read in a terminal ---------------------------------------------------------


def money_cell(value: Money | None) -> str:
    """`1234.50 BRL`, exactly the digits the record holds."""
    return "" if value is None else f"{value.amount} {value.currency}"


def when_cell(value: date | datetime | None) -> str:
    """ISO 8601, offset kept."""
    return "" if value is None else value.isoformat()


def text_cell(value: object) -> str:
    """The value as text, empty for None."""
    return "" if value is None else str(value)


def _kind(record: Balance) -> str:
    kind = record.kind.value
    return kind if kind == record.provider_kind else f"{kind} ({record.provider_kind})"


def _employer(record: Contribution) -> str:
    flag = "" if record.employer.tax_id_valid else " (check digit fails)"
    return f"{record.employer.name or ''} {record.employer.tax_id}{flag}".strip()


def _instalment(record: Loan) -> str:
    if not record.instalments_total:
        return ""
    return f"{record.current_instalment}/{record.instalments_total}"


def _account_number(record: Account) -> str:
    number = "-".join(p for p in (record.number, record.check_digit) if p)
    return "/".join(p for p in (record.agency, number) if p)


def _account_kind(record: Account) -> str:
    kind = record.category.value
    provider = record.provider_category
    return kind if provider in (None, kind) else f"{kind} ({provider})"


def _first_balance(record: Account) -> str:
    return money_cell(record.balances[0].amount) if record.balances else ""


def _transaction_when(record: Transaction) -> str:
    return when_cell(record.transacted_at or record.value_date)


def _status(record: Transaction) -> str:
    direction = record.direction.value if record.direction.value != "unknown" else "?"
    return f"{record.status.value}, {direction}"


# -- caudal's own capabilities ---------------------------------------------------------------------

BALANCE: Capability[Balance] = define(
    Capability(
        name="balance",
        record=Balance,
        doc="Account balances: available, booked, blocked, invested figures.",
        columns=(
            Column("account", lambda b: b.account_id or ""),
            Column("kind", _kind),
            Column("amount", lambda b: money_cell(b.amount), numeric=True),
            Column("units", lambda b: text_cell(b.units), numeric=True),
            Column("as of", lambda b: when_cell(b.as_of)),
        ),
    )
)
CONTRIBUTIONS: Capability[Contribution] = define(
    Capability(
        name="contributions",
        record=Contribution,
        doc="Credited social-security contributions, one per accrual month and employer.",
        columns=(
            Column("employer", _employer),
            Column("period", lambda c: c.period),
            Column("amount", lambda c: money_cell(c.amount), numeric=True),
            Column("taxable income", lambda c: money_cell(c.taxable_income), numeric=True),
            Column("paid on", lambda c: when_cell(c.paid_on)),
        ),
    )
)
LOANS: Capability[Loan] = define(
    Capability(
        name="loans",
        record=Loan,
        doc="The account holder's loans: outstanding and granted amounts, instalments.",
        columns=(
            Column("loan", lambda loan: loan.loan_id),
            Column("instalment", _instalment),
            Column("outstanding", lambda loan: money_cell(loan.outstanding), numeric=True),
            Column("granted", lambda loan: money_cell(loan.granted), numeric=True),
            Column("due on", lambda loan: when_cell(loan.due_on)),
        ),
    )
)

ACCOUNTS: Capability[Account] = define(
    Capability(
        name="accounts",
        record=Account,
        doc="The holder's accounts: category, number, balances and limits.",
        parameters={"link": "the end user's connection at the provider"},
        columns=(
            Column("account", lambda a: a.account_id),
            Column("category", _account_kind),
            Column("name", lambda a: a.name or ""),
            Column("number", _account_number),
            Column("balance", _first_balance, numeric=True),
            Column("credit limit", lambda a: money_cell(a.credit_limit), numeric=True),
        ),
        paged=True,
    )
)
TRANSACTIONS: Capability[Transaction] = define(
    Capability(
        name="transactions",
        record=Transaction,
        doc="An account's transactions, money in positive and money out negative.",
        parameters={
            "link": "the end user's connection at the provider",
            "date_from": "first day (YYYY-MM-DD)",
            "date_to": "last day (YYYY-MM-DD)",
            "account": "only this account",
        },
        columns=(
            Column("account", lambda t: t.account_id or ""),
            Column("when", _transaction_when),
            Column("description", lambda t: t.description or ""),
            Column("amount", lambda t: money_cell(t.amount), numeric=True),
            Column("status", _status),
        ),
        paged=True,
    )
)

BUILTIN: frozenset[str] = frozenset(DESCRIPTORS)
"""caudal's own capabilities (`caudal._methods` has their typed connector methods)."""

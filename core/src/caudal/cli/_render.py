"""How canonical records look in a terminal: one rich table per capability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from ..model import Balance, Contribution, Loan, Money, Pending, Result

if TYPE_CHECKING:
    from ..sandbox import Tour

__all__ = ["records_table", "render_outcome", "render_tour"]


def _money(m: Money | None) -> str:
    return "" if m is None else f"{m.amount} {m.currency}"


def _when(value: date | datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _units(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _rows(item: Any) -> list[str]:
    if isinstance(item, Balance):
        kind = (
            item.kind.value
            if item.kind.value == item.provider_kind
            else f"{item.kind.value} ({item.provider_kind})"
        )
        return [
            item.account_id or "",
            kind,
            _money(item.amount),
            _units(item.units),
            _when(item.as_of),
        ]
    if isinstance(item, Contribution):
        flag = "" if item.employer.tax_id_valid else " (check digit fails)"
        employer = f"{item.employer.name or ''} {item.employer.tax_id}{flag}"
        return [
            employer.strip(),
            item.period,
            _money(item.amount),
            _money(item.taxable_income),
            _when(item.paid_on),
        ]
    if isinstance(item, Loan):
        instalment = (
            f"{item.current_instalment}/{item.instalments_total}" if item.instalments_total else ""
        )
        return [
            item.loan_id,
            instalment,
            _money(item.outstanding),
            _money(item.granted),
            _when(item.due_on),
        ]
    return [str(item)]


HEADERS: dict[str, Sequence[str]] = {
    "balance": ("account", "kind", "amount", "units", "as of"),
    "contributions": ("employer", "period", "amount", "taxable income", "paid on"),
    "loans": ("loan", "instalment", "outstanding", "granted", "due on"),
}


def records_table(title: str, capability: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """A table of records, each row prefixed with the connector that produced it."""
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("connector", style="cyan")
    for header in HEADERS.get(capability, ("record",)):
        justify = (
            "right"
            if header in {"amount", "units", "outstanding", "granted", "taxable income"}
            else "left"
        )
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for connector, item in rows:
        table.add_row(connector, *_rows(item))
        for share in getattr(item, "breakdown", ()):
            flag = "" if share.employer.tax_id_valid else " (check digit fails)"
            who = f"  [dim]└ {share.employer.name or ''} {share.employer.tax_id}{flag}[/]"
            table.add_row(
                "", who, "", f"[dim]{_money(share.amount)}[/]", f"[dim]{share.units}[/]", ""
            )
    return table


def render_outcome(console: Console, outcome: Result[Any] | Pending) -> None:
    """Print a Result as a table (with its notes), or a Pending as one line."""
    if isinstance(outcome, Pending):
        deadline = f", delivered by {outcome.deadline.isoformat()}" if outcome.deadline else ""
        console.print(f"[yellow]pending[/] operation {outcome.operation_id}{deadline}")
        return
    title = f"{outcome.connector} {outcome.capability}: {len(outcome)} record(s)"
    console.print(
        records_table(title, outcome.capability, ((outcome.connector, i) for i in outcome))
    )
    for note in outcome.notes:
        console.print(f"[dim]note:[/] {note}")


def render_tour(console: Console, tour: Tour) -> None:
    """The demo: a table per capability across connectors, the callback, the challenge."""
    for capability in HEADERS:
        rows = [
            (r.connector, item) for r in tour.results if r.capability == capability for item in r
        ]
        if rows:
            console.print(records_table(capability, capability, rows))
    for failure in tour.failures:
        console.print(f"[red]failed:[/] {failure}")
    if tour.callback:
        cb = tour.callback
        console.print(
            f"[bold]asynchronous request[/]: {cb.pending.connector} {cb.pending.capability} "
            f"answered 202 (operation {cb.pending.operation_id}); "
            + (
                f"the callback reached the webhook app after {cb.waited_seconds:.2f}s"
                if cb.delivered
                else f"[red]no result[/]: {cb.error}"
            )
        )
        if cb.delivered:
            render_outcome(console, cb.delivered)
    if tour.challenge:
        ch = tour.challenge.challenge
        console.print(
            f"[bold]multi-factor challenge[/]: {ch.connector} {ch.capability} asked for a "
            f"{ch.method or 'token'} ({ch.instructions or 'no instructions'}); "
            + (
                "answered with the sandbox token"
                if tour.challenge.result
                else f"[red]{tour.challenge.error}[/]"
            )
        )
        if tour.challenge.result:
            render_outcome(console, tour.challenge.result)
    style = "green" if tour.ok else "red"
    console.print(f"[bold {style}]{tour.summary()}[/]")

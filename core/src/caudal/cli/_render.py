"""How canonical records look in a terminal: one rich table per capability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from ..capabilities import DESCRIPTORS, Column, money_cell, text_cell
from ..model import Pending, Result

if TYPE_CHECKING:
    from ..sandbox import Tour

__all__ = ["records_table", "render_outcome", "render_records", "render_tour"]


def _columns(capability: str) -> tuple[Column[Any], ...]:
    """The capability's columns from its descriptor; one `record` column for an unknown one."""
    descriptor = DESCRIPTORS.get(capability)
    if descriptor is None or not descriptor.columns:
        return (Column("record", str),)
    return descriptor.columns


def _rows(capability: str, item: Any) -> list[str]:
    return [column.cell(item) for column in _columns(capability)]


def _shares(item: Any) -> list[list[str]]:
    """A balance's per-employer breakdown: one row each, under the balance it belongs to."""
    rows = []
    for share in getattr(item, "breakdown", ()):
        flag = "" if share.employer.tax_id_valid else " (check digit fails)"
        who = f"└ {share.employer.name or ''} {share.employer.tax_id}{flag}"
        amount, units = money_cell(share.amount), text_cell(share.units)
        rows.append([who, "employer's share", amount, units, ""])
    return rows


def records_table(title: str, capability: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """A table of records, each row prefixed with the connector that produced it.

    No cell wraps: a wrapped id would read as a row of its own. `render_records` falls back to
    one block per record when the table is wider than the terminal, so no id is ever cut.
    """
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("connector", style="cyan", no_wrap=True)
    for column in _columns(capability):
        table.add_column(column.header, justify="right" if column.numeric else "left", no_wrap=True)
    for connector, item in rows:
        table.add_row(connector, *(escape(c) for c in _rows(capability, item)))
        for share in _shares(item):
            table.add_row("", *(f"[dim]{escape(c)}[/]" if c else "" for c in share))
    return table


def render_records(
    console: Console, title: str, capability: str, rows: Sequence[tuple[str, Any]]
) -> None:
    """The records as a table, or, when it would not fit the terminal, one block per record."""
    table = records_table(title, capability, rows)
    unbounded = console.options.update_width(100_000)  # its natural width, not one squeezed
    if Measurement.get(console, unbounded, table).maximum <= console.width:
        console.print(table)
        return
    headers = [column.header for column in _columns(capability)]
    console.print(f"[italic]{escape(title)}[/]", soft_wrap=True, highlight=False)
    for connector, item in rows:
        cells = _rows(capability, item)
        console.print(
            f"[cyan]{connector}[/] [bold]{escape(cells[0])}[/]", soft_wrap=True, highlight=False
        )
        for header, value in zip(headers[1:], cells[1:], strict=True):
            if value:
                console.print(f"  {header}: {escape(value)}", soft_wrap=True, highlight=False)
        for who, _, amount, units, _ in _shares(item):
            console.print(
                f"  [dim]{escape(who)}: {amount} ({units} units)[/]",
                soft_wrap=True,
                highlight=False,
            )


def render_outcome(console: Console, outcome: Result[Any] | Pending) -> None:
    """Print a Result as a table (with its notes), or a Pending as one line."""
    if isinstance(outcome, Pending):
        deadline = f", delivered by {outcome.deadline.isoformat()}" if outcome.deadline else ""
        console.print(f"[yellow]pending[/] operation {outcome.operation_id}{deadline}")
        return
    title = f"{outcome.connector} {outcome.capability}: {len(outcome)} record(s)"
    render_records(console, title, outcome.capability, [(outcome.connector, i) for i in outcome])
    for note in outcome.notes:
        console.print(f"[dim]note:[/] {note}")


def render_tour(console: Console, tour: Tour) -> None:
    """The demo: a table per capability across connectors, the callback, the challenge."""
    for capability in DESCRIPTORS:
        rows = [
            (r.connector, item) for r in tour.results if r.capability == capability for item in r
        ]
        if rows:
            render_records(console, capability, capability, rows)
    for name, why in tour.broken.items():
        console.print(f"[red]broken:[/] {escape(name)} could not load ({escape(why)})")
    for failure in tour.failures:
        if failure not in tour.broken.values():
            console.print(f"[red]failed:[/] {escape(failure)}")
    for name in tour.unserved:
        console.print(f"[dim]not toured: {escape(name)} (no sandbox emulator serves it)[/]")
    if tour.callback:
        cb = tour.callback
        console.print(
            f"[bold]asynchronous request[/]: {cb.pending.connector} {cb.pending.capability} "
            f"answered 202 (operation {cb.pending.operation_id}); "
            + (
                f"the result reached the webhook handler {cb.waited_seconds:.2f}s after the "
                "request was sent"
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

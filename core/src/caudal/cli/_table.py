"""The one table style of `list`, `doctor` and `about`: plain aligned columns, as `pip list`.

Plain text on purpose: `caudal list` is meant to be instant (rich would add a third to its
start-up), the columns survive a pipe and `grep`, and a cell is never cut or wrapped: a long
last column simply runs on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = ["columns"]


def columns(header: Sequence[str], rows: Iterable[Sequence[str | None]]) -> str:
    """Header, a dashed rule, then one line per row; an empty cell shows `-`."""
    cells = [list(header)] + [[c if c not in (None, "") else "-" for c in row] for row in rows]
    widths = [max(len(str(line[i])) for line in cells) for i in range(len(header))]
    lines = [cells[0], ["-" * w for w in widths], *cells[1:]]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )

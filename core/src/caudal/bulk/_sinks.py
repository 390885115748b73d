"""Where outcomes go, one per input id, each written exactly once across kills and resumes.

A sink is also the run's checkpoint: `completed(id)` is what a resumed run skips. The crash
window between "the outcome is stored" and "the id is marked done" is closed per sink:

- `SqliteSink`: the outcome row *is* the checkpoint (one table, the id its primary key), so
  storing it and marking it done is one transaction.
- `JsonlSink`: the checkpoint (a SQLite file beside the output) records each id with the file
  offset just past its line, and is the source of truth. A line appended but not yet
  checkpointed when the process died is adopted on resume if it is complete, and cut off if it
  is not; anything past the checkpoint that is not a whole outcome line is truncated.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

from ..errors import ConfigurationError
from ._outcome import Outcome

__all__ = ["JsonlSink", "Sink", "SqliteSink", "open_sink"]


@runtime_checkable
class Sink(Protocol):
    """What the bulk engines need of a result store (a host app may bring its own)."""

    def completed(self, ident: str) -> bool:
        """Whether `ident` already has its outcome stored (a resumed run skips it)."""
        ...

    def write(self, outcome: Outcome) -> None:
        """Store `outcome` and mark its id completed, atomically; an id is written once."""
        ...

    def close(self) -> None:
        """Flush and release the store."""
        ...


def _connect(path: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None)
        # WAL with synchronous=NORMAL: a commit survives the process being killed (the case a
        # resume is for) without an fsync per outcome.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot open {path} as SQLite: {exc}") from None
    return db


def _refuse_existing(path: Path, resume: bool, has_data: bool) -> None:
    if has_data and not resume:
        raise ConfigurationError(
            f"{path} already holds outcomes: resume that run (--resume) or choose another file"
        )


class _Closing(ABC):
    """`with sink:` closes it."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the store."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SqliteSink(_Closing):
    """Outcomes in a SQLite table `outcomes(id PRIMARY KEY, status, line)`; also the
    checkpoint (one transaction per outcome)."""

    def __init__(self, path: str | Path, *, resume: bool = False) -> None:
        self.path = Path(path)
        self._db = _connect(self.path)
        try:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS outcomes ("
                "id TEXT PRIMARY KEY, status TEXT NOT NULL, line TEXT NOT NULL)"
            )
            has_data = self._db.execute("SELECT 1 FROM outcomes LIMIT 1").fetchone() is not None
        except sqlite3.Error as exc:
            self._db.close()
            raise ConfigurationError(f"{self.path} is not a caudal bulk store: {exc}") from None
        if has_data and not resume:
            self._db.close()
        _refuse_existing(self.path, resume, has_data)

    def completed(self, ident: str) -> bool:
        query = "SELECT 1 FROM outcomes WHERE id = ?"
        return self._db.execute(query, (ident,)).fetchone() is not None

    def write(self, outcome: Outcome) -> None:
        try:
            self._db.execute(
                "INSERT INTO outcomes (id, status, line) VALUES (?, ?, ?)",
                (outcome.id, outcome.status, outcome.line),
            )
        except sqlite3.IntegrityError:
            raise ConfigurationError(f"{self.path}: id {outcome.id!r} written twice") from None

    def lines(self) -> list[str]:
        """Every stored line (for tests and small exports; a large store is read with SQL)."""
        return [row[0] for row in self._db.execute("SELECT line FROM outcomes ORDER BY rowid")]

    def close(self) -> None:
        self._db.close()


class JsonlSink(_Closing):
    """Outcomes appended to a JSONL file, one line each; the checkpoint is a SQLite file
    (`<out>.checkpoint` unless named) of ids and the offset just past each one's line."""

    def __init__(
        self, path: str | Path, *, checkpoint: str | Path | None = None, resume: bool = False
    ) -> None:
        self.path = Path(path)
        self.checkpoint = Path(checkpoint) if checkpoint else Path(f"{self.path}.checkpoint")
        self._db = _connect(self.checkpoint)
        self._db.execute("CREATE TABLE IF NOT EXISTS done (id TEXT PRIMARY KEY, end INTEGER)")
        marked = self._db.execute("SELECT max(end) FROM done").fetchone()[0]
        size = self.path.stat().st_size if self.path.exists() else 0
        try:
            _refuse_existing(self.path, resume, marked is not None or size > 0)
        except ConfigurationError:
            self._db.close()
            raise
        try:
            self._file = self.path.open("r+b" if self.path.exists() else "w+b")
        except OSError as exc:
            self._db.close()
            raise ConfigurationError(f"cannot write {self.path}: {exc.strerror}") from None
        self._reconcile(marked or 0, size)

    def _reconcile(self, marked: int, size: int) -> None:
        """Make the file end exactly at the checkpoint: adopt whole lines written past it
        (their outcome was stored, only the mark was lost), cut anything else."""
        if size < marked:
            self.close()
            raise ConfigurationError(
                f"{self.path} is shorter than its checkpoint says: it was changed outside caudal"
            )
        self._file.seek(marked)
        end = marked
        with self._db:
            for raw in iter(self._file.readline, b""):
                if not raw.endswith(b"\n"):
                    break
                try:
                    outcome = Outcome.from_line(raw.decode("utf-8"))
                except ValueError:
                    break
                if self.completed(outcome.id):
                    break
                end += len(raw)
                self._db.execute("INSERT INTO done (id, end) VALUES (?, ?)", (outcome.id, end))
        self._file.truncate(end)
        self._file.seek(end)

    def completed(self, ident: str) -> bool:
        return self._db.execute("SELECT 1 FROM done WHERE id = ?", (ident,)).fetchone() is not None

    def write(self, outcome: Outcome) -> None:
        if self.completed(outcome.id):
            raise ConfigurationError(f"{self.path}: id {outcome.id!r} written twice")
        self._file.write(outcome.line.encode("utf-8") + b"\n")
        self._file.flush()  # in the OS's hands: survives this process being killed
        end = self._file.tell()
        self._db.execute("INSERT INTO done (id, end) VALUES (?, ?)", (outcome.id, end))

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
        self._db.close()


def open_sink(path: str | Path, *, resume: bool = False) -> Sink:
    """A built-in sink chosen by the file's suffix: `.sqlite`/`.sqlite3`/`.db` or `.jsonl`."""
    suffix = Path(path).suffix.lower()
    if suffix in {".sqlite", ".sqlite3", ".db"}:
        return SqliteSink(path, resume=resume)
    if suffix in {".jsonl", ".ndjson"}:
        return JsonlSink(path, resume=resume)
    raise ConfigurationError(
        f"{path}: the output's suffix names its format: .jsonl (JSON lines) or .sqlite"
    )

"""Where pending operations wait for their callbacks: a small interface and its SQLite default.

The store is the source of truth for exactly-once delivery: a delivery is handed to the host
app only by the request that moves its ticket from `requested` to `delivering` in one atomic
statement. A restart between request and callback loses nothing because nothing lives only in
memory.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

__all__ = ["PendingStore", "SQLiteStore", "Ticket", "TicketState"]


def _utc(moment: datetime) -> str:
    # Stored in UTC so that SQL compares deadlines correctly as text.
    return moment.astimezone(UTC).isoformat()


class TicketState(StrEnum):
    """Where a ticket is in its life."""

    REQUESTED = "requested"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Ticket:
    """One callback URL handed to a provider, and what we expect to arrive at it."""

    nonce: str
    connector: str
    capability: str
    created_at: datetime
    deadline: datetime
    operation_id: str | None = None
    state: TicketState = TicketState.REQUESTED


class PendingStore(Protocol):
    """What the webhook app needs from storage (SQLite here; Redis or Postgres can follow)."""

    def add(self, ticket: Ticket) -> None:
        """Record a ticket before the provider is asked, so an early callback finds it."""

    def get(self, nonce: str) -> Ticket | None:
        """The ticket for `nonce`, if any."""

    def set_operation(self, nonce: str, operation_id: str, deadline: datetime | None) -> None:
        """Attach the provider's operation id (and its own deadline) once it answers 202."""

    def claim(self, nonce: str) -> bool:
        """Atomically move `requested` -> `delivering`; True for exactly one caller."""

    def finish(self, nonce: str, state: TicketState) -> None:
        """End a claimed delivery as `delivered` or `failed`."""

    def release(self, nonce: str) -> None:
        """Undo a claim whose handler failed, so the provider's retry can deliver."""

    def keep_body(self, nonce: str, body: bytes, problem: str | None) -> None:
        """Keep a delivered body (for inspection, always for one that failed mapping)."""

    def bodies(self, nonce: str) -> list[tuple[bytes, str | None]]:
        """Bodies kept for a ticket, oldest first, with the problem each had."""

    def overdue(self, now: datetime) -> list[Ticket]:
        """Mark and return tickets still waiting past their deadline."""


class SQLiteStore:
    """The default store: one SQLite file (or `:memory:` for tests), safe across threads."""

    def __init__(self, path: str | Path = "caudal-webhooks.sqlite3") -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS tickets (
                    nonce TEXT PRIMARY KEY, connector TEXT NOT NULL, capability TEXT NOT NULL,
                    created_at TEXT NOT NULL, deadline TEXT NOT NULL, operation_id TEXT,
                    state TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS bodies (
                    nonce TEXT NOT NULL, received_at TEXT NOT NULL, body BLOB NOT NULL,
                    problem TEXT);
                """
            )

    def _one(self, sql: str, *args: object) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def add(self, ticket: Ticket) -> None:
        self._one(
            "INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, ?)",
            ticket.nonce,
            ticket.connector,
            ticket.capability,
            _utc(ticket.created_at),
            _utc(ticket.deadline),
            ticket.operation_id,
            ticket.state.value,
        )

    def get(self, nonce: str) -> Ticket | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM tickets WHERE nonce = ?", (nonce,)).fetchone()
        if row is None:
            return None
        return Ticket(
            nonce=row[0],
            connector=row[1],
            capability=row[2],
            created_at=datetime.fromisoformat(row[3]),
            deadline=datetime.fromisoformat(row[4]),
            operation_id=row[5],
            state=TicketState(row[6]),
        )

    def set_operation(self, nonce: str, operation_id: str, deadline: datetime | None) -> None:
        if deadline is None:
            self._one("UPDATE tickets SET operation_id = ? WHERE nonce = ?", operation_id, nonce)
        else:
            self._one(
                "UPDATE tickets SET operation_id = ?, deadline = ? WHERE nonce = ?",
                operation_id,
                _utc(deadline),
                nonce,
            )

    def claim(self, nonce: str) -> bool:
        return (
            self._one(
                "UPDATE tickets SET state = 'delivering'"
                " WHERE nonce = ? AND state IN ('requested', 'overdue')",
                nonce,
            )
            == 1
        )

    def finish(self, nonce: str, state: TicketState) -> None:
        self._one("UPDATE tickets SET state = ? WHERE nonce = ?", state.value, nonce)

    def release(self, nonce: str) -> None:
        self._one(
            "UPDATE tickets SET state = 'requested' WHERE nonce = ? AND state = 'delivering'", nonce
        )

    def keep_body(self, nonce: str, body: bytes, problem: str | None) -> None:
        self._one(
            "INSERT INTO bodies VALUES (?, ?, ?, ?)",
            nonce,
            datetime.now(UTC).isoformat(),
            body,
            problem,
        )

    def bodies(self, nonce: str) -> list[tuple[bytes, str | None]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body, problem FROM bodies WHERE nonce = ? ORDER BY rowid", (nonce,)
            ).fetchall()
        return [(bytes(r[0]), r[1]) for r in rows]

    def overdue(self, now: datetime) -> list[Ticket]:
        with self._lock:
            rows = self._db.execute(
                "SELECT nonce FROM tickets WHERE state = 'requested' AND deadline < ?",
                (_utc(now),),
            ).fetchall()
            self._db.executemany(
                "UPDATE tickets SET state = 'overdue' WHERE nonce = ?", [(r[0],) for r in rows]
            )
        return [t for t in (self.get(r[0]) for r in rows) if t is not None]

    def close(self) -> None:
        with self._lock:
            self._db.close()

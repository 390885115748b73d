"""Where pending operations wait for their callbacks: a small interface and its SQLite default.

The store is the source of truth for exactly-once delivery. A delivery is handed to the host app
only under a *claim*: a lease, taken in one atomic step, that moves the ticket to `delivering`,
records the accepted body and names its holder by a fresh token. The holder renews the lease
while its handler runs and ends it with `finish` (or `release` when the handler failed). A
holder that dies stops renewing; once its lease has expired the ticket can be claimed again
(by the provider's retry or by `App.redeliver`), so a crash never strands a result. Every
step is conditional on the token, so a holder whose lease was taken over cannot end the new
holder's claim.

A second backend (Redis, Postgres) implements `PendingStore`; the store-conformance suite in
the test tree runs unchanged against any factory of one.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

__all__ = ["PendingStore", "SQLiteStore", "Ticket", "TicketState"]

KEPT_BODIES = 8
"""Refused bodies kept per ticket for inspection: whoever holds a URL cannot fill the disk."""


def _utc(moment: datetime) -> str:
    # Fixed width in UTC, so that SQL compares moments correctly as text.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class TicketState(StrEnum):
    """Where a ticket is in its life."""

    REQUESTED = "requested"
    """Waiting for its callback."""
    DELIVERING = "delivering"
    """Claimed: a handler has (or had, if its process died) the delivery; see `lease_until`."""
    DELIVERED = "delivered"
    """The handler finished with the Result."""
    FAILED = "failed"
    """The handler finished with the provider's error for the operation."""


TERMINAL = frozenset({TicketState.DELIVERED, TicketState.FAILED})


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
    attempts: int = 0
    """How many times a delivery was claimed: 2 or more means a handler ran (or began) before."""
    lease_until: datetime | None = None
    """While `delivering`: when the holder's lease runs out unless renewed."""

    def stranded(self, now: datetime) -> bool:
        """Claimed by a holder whose lease ran out: its process died or lost the store."""
        return (
            self.state is TicketState.DELIVERING
            and self.lease_until is not None
            and self.lease_until <= now
        )


class PendingStore(Protocol):
    """What the webhook app needs from storage. Every method is atomic on its own.

    Times are passed in (never read from a clock inside the store), so every backend agrees
    on what "expired" means and the conformance suite can drive time.
    """

    def add(self, ticket: Ticket) -> None:
        """Record a ticket before the provider is asked, so an early callback finds it."""

    def get(self, nonce: str) -> Ticket | None:
        """The ticket for `nonce`, if any."""

    def set_operation(self, nonce: str, operation_id: str, deadline: datetime) -> None:
        """Attach the provider's operation id and the (clamped) deadline once it answers 202."""

    def claim(self, nonce: str, body: bytes, now: datetime, lease_until: datetime) -> str | None:
        """Take the delivery: a token for exactly one caller, None for every other.

        Succeeds when the ticket is `requested`, or `delivering` with a lease that expired at
        or before `now`; stores `body` as the accepted one and counts the attempt.
        """

    def renew(self, nonce: str, token: str, lease_until: datetime) -> bool:
        """Extend the holder's lease; False if `token` no longer holds the ticket."""

    def finish(self, nonce: str, token: str, state: TicketState) -> bool:
        """End the claim as `delivered` or `failed`; False if `token` no longer holds it."""

    def release(self, nonce: str, token: str) -> bool:
        """Give a claim back (its handler failed): the ticket is `requested` again."""

    def accepted_body(self, nonce: str) -> bytes | None:
        """The body stored by the last claim: what a re-delivery hands over again."""

    def keep_body(self, nonce: str, body: bytes, problem: str | None) -> None:
        """Keep a body for inspection (refused or failed), at most `KEPT_BODIES` per ticket."""

    def bodies(self, nonce: str) -> list[tuple[bytes, str | None]]:
        """Bodies kept for a ticket, oldest first, with the problem each had."""

    def stranded(self, now: datetime) -> list[Ticket]:
        """Tickets `delivering` under a lease that expired at or before `now`."""

    def overdue(self, now: datetime) -> list[Ticket]:
        """Unfinished tickets past their deadline and not under a live lease, reported once.

        Reporting changes nothing else: a late delivery is still handed over.
        """


class SQLiteStore:
    """The default store: one SQLite file (or `:memory:` for tests), safe across threads and
    across processes on one machine (WAL, a busy timeout, every claim one UPDATE)."""

    def __init__(self, path: str | Path = "caudal-webhooks.sqlite3") -> None:
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # A claim acknowledged to a provider must survive a power cut, not only a crash.
            self._db.execute("PRAGMA synchronous=FULL")
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
            self._upgrade()

    def _upgrade(self) -> None:
        """Add the lease columns to a file written by caudal 0.1 (its tickets keep working)."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(tickets)")}
        for column, kind in (
            ("attempts", "INTEGER NOT NULL DEFAULT 0"),
            ("lease_until", "TEXT"),
            ("token", "TEXT"),
            ("body", "BLOB"),
            ("reported", "INTEGER NOT NULL DEFAULT 0"),
        ):
            if column not in have:
                self._db.execute(f"ALTER TABLE tickets ADD COLUMN {column} {kind}")
        # 0.1 marked reported tickets with a state of their own; they were waiting.
        self._db.execute(
            "UPDATE tickets SET state = 'requested', reported = 1 WHERE state = 'overdue'"
        )

    def _rows(self, sql: str, *args: object) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def add(self, ticket: Ticket) -> None:
        self._rows(
            "INSERT INTO tickets (nonce, connector, capability, created_at, deadline,"
            " operation_id, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ticket.nonce,
            ticket.connector,
            ticket.capability,
            _utc(ticket.created_at),
            _utc(ticket.deadline),
            ticket.operation_id,
            ticket.state.value,
        )

    _COLUMNS = (
        "nonce, connector, capability, created_at, deadline, operation_id, state,"
        " attempts, lease_until"
    )

    @staticmethod
    def _ticket(row: tuple[object, ...]) -> Ticket:
        return Ticket(
            nonce=str(row[0]),
            connector=str(row[1]),
            capability=str(row[2]),
            created_at=datetime.fromisoformat(str(row[3])),
            deadline=datetime.fromisoformat(str(row[4])),
            operation_id=None if row[5] is None else str(row[5]),
            state=TicketState(str(row[6])),
            attempts=int(row[7]),  # type: ignore[call-overload]
            lease_until=_moment(None if row[8] is None else str(row[8])),
        )

    def _select(self, where: str, *args: object) -> list[Ticket]:
        with self._lock:
            # Only this module's constant clauses are interpolated; values are bound.
            sql = f"SELECT {self._COLUMNS} FROM tickets WHERE {where}"  # noqa: S608
            rows = self._db.execute(sql, args)
            return [self._ticket(row) for row in rows.fetchall()]

    def get(self, nonce: str) -> Ticket | None:
        found = self._select("nonce = ?", nonce)
        return found[0] if found else None

    def set_operation(self, nonce: str, operation_id: str, deadline: datetime) -> None:
        self._rows(
            "UPDATE tickets SET operation_id = ?, deadline = ? WHERE nonce = ?",
            operation_id,
            _utc(deadline),
            nonce,
        )

    def claim(self, nonce: str, body: bytes, now: datetime, lease_until: datetime) -> str | None:
        token = secrets.token_hex(16)
        taken = self._rows(
            "UPDATE tickets SET state = 'delivering', token = ?, lease_until = ?, body = ?,"
            " attempts = attempts + 1 WHERE nonce = ? AND (state = 'requested'"
            " OR (state = 'delivering' AND lease_until <= ?))",
            token,
            _utc(lease_until),
            body,
            nonce,
            _utc(now),
        )
        return token if taken == 1 else None

    def renew(self, nonce: str, token: str, lease_until: datetime) -> bool:
        return (
            self._rows(
                "UPDATE tickets SET lease_until = ? WHERE nonce = ? AND token = ?"
                " AND state = 'delivering'",
                _utc(lease_until),
                nonce,
                token,
            )
            == 1
        )

    def finish(self, nonce: str, token: str, state: TicketState) -> bool:
        if state not in TERMINAL:
            raise ValueError(f"a claim finishes as delivered or failed, not {state}")
        return (
            self._rows(
                "UPDATE tickets SET state = ?, token = NULL, lease_until = NULL"
                " WHERE nonce = ? AND token = ? AND state = 'delivering'",
                state.value,
                nonce,
                token,
            )
            == 1
        )

    def release(self, nonce: str, token: str) -> bool:
        return (
            self._rows(
                "UPDATE tickets SET state = 'requested', token = NULL, lease_until = NULL"
                " WHERE nonce = ? AND token = ? AND state = 'delivering'",
                nonce,
                token,
            )
            == 1
        )

    def accepted_body(self, nonce: str) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM tickets WHERE nonce = ?", (nonce,)).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def keep_body(self, nonce: str, body: bytes, problem: str | None) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO bodies VALUES (?, ?, ?, ?)",
                    (nonce, _utc(datetime.now(UTC)), body, problem),
                )
                self._db.execute(
                    "DELETE FROM bodies WHERE nonce = ? AND rowid NOT IN (SELECT rowid FROM"
                    " bodies WHERE nonce = ? ORDER BY rowid DESC LIMIT ?)",
                    (nonce, nonce, KEPT_BODIES),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def bodies(self, nonce: str) -> list[tuple[bytes, str | None]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body, problem FROM bodies WHERE nonce = ? ORDER BY rowid", (nonce,)
            ).fetchall()
        return [(bytes(r[0]), r[1]) for r in rows]

    def stranded(self, now: datetime) -> list[Ticket]:
        return self._select("state = 'delivering' AND lease_until <= ?", _utc(now))

    def overdue(self, now: datetime) -> list[Ticket]:
        moment = _utc(now)
        where = (
            "reported = 0 AND deadline < ? AND (state = 'requested'"
            " OR (state = 'delivering' AND lease_until <= ?))"
        )
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                sql = f"SELECT {self._COLUMNS} FROM tickets WHERE {where}"  # noqa: S608
                rows = self._db.execute(sql, (moment, moment)).fetchall()
                self._db.executemany(
                    "UPDATE tickets SET reported = 1 WHERE nonce = ?", [(r[0],) for r in rows]
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return [self._ticket(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

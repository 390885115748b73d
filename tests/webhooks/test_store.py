"""The SQLite store keeps the PendingStore contract, in memory and on disk, and across processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from caudal.webhooks import SQLiteStore, TicketState

from .store_contract import LEASE, T0, PendingStoreContract, pending


class TestSQLiteInMemory(PendingStoreContract):
    @pytest.fixture
    def store(self) -> Iterator[SQLiteStore]:
        store = SQLiteStore(":memory:")
        yield store
        store.close()


class TestSQLiteFile(PendingStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        store = SQLiteStore(tmp_path / "hooks.sqlite3")
        yield store
        store.close()


def _claim_in_a_process(path: str, start: object, out: object) -> None:
    store = SQLiteStore(path)
    start.wait()  # type: ignore[attr-defined]
    out.put(store.claim("n1", b"x", T0, T0 + LEASE))  # type: ignore[attr-defined]


def test_processes_sharing_one_file_get_one_claim(tmp_path: Path) -> None:
    path = str(tmp_path / "hooks.sqlite3")
    pending(SQLiteStore(path))
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(4), context.Queue()
    workers = [
        context.Process(target=_claim_in_a_process, args=(path, start, out)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    tokens = [out.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(60)
    assert len([t for t in tokens if t]) == 1


def test_a_file_written_by_caudal_0_1_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE tickets (nonce TEXT PRIMARY KEY, connector TEXT NOT NULL,
            capability TEXT NOT NULL, created_at TEXT NOT NULL, deadline TEXT NOT NULL,
            operation_id TEXT, state TEXT NOT NULL);
        CREATE TABLE bodies (nonce TEXT NOT NULL, received_at TEXT NOT NULL, body BLOB NOT NULL,
            problem TEXT);
        INSERT INTO tickets VALUES ('w', 'toy.async', 'balance', '2026-05-21T12:00:00+00:00',
            '2026-05-21T13:00:00+00:00', 'op-w', 'requested');
        INSERT INTO tickets VALUES ('o', 'toy.async', 'balance', '2026-05-21T12:00:00+00:00',
            '2026-05-21T12:10:00+00:00', 'op-o', 'overdue');
        """
    )
    db.commit()
    db.close()
    store = SQLiteStore(path)
    waiting, reported = store.get("w"), store.get("o")
    assert waiting is not None and waiting.state is TicketState.REQUESTED
    assert reported is not None and reported.state is TicketState.REQUESTED
    assert store.overdue(T0.replace(hour=23)) == [waiting]  # 'o' was reported by 0.1 already
    assert store.claim("o", b"late", T0, T0 + LEASE)

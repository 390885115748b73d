"""The contract every `PendingStore` keeps, as a reusable test class.

A backend's tests subclass `PendingStoreContract` and give a `store` fixture that yields a fresh,
empty store (see test_store.py for SQLite). Nothing here knows how a store is built: a Redis or
Postgres store runs this suite unchanged. Times are passed in, so the suite drives the clock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from caudal.webhooks import PendingStore, Ticket, TicketState

T0 = datetime(2026, 5, 21, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def ticket(nonce: str = "n1", deadline: datetime = T0 + timedelta(hours=1), **kw: Any) -> Ticket:
    return Ticket(nonce, "toy.async", "balance", T0, deadline, **kw)


def pending(store: PendingStore, nonce: str = "n1", **kw: Any) -> Ticket:
    """A ticket added and acknowledged by the provider as operation `op-<nonce>`."""
    added = ticket(nonce, **kw)
    store.add(added)
    store.set_operation(nonce, f"op-{nonce}", added.deadline)
    found = store.get(nonce)
    assert found is not None
    return found


class PendingStoreContract:
    """Subclass with a `store` fixture yielding a fresh, empty store."""

    def test_a_ticket_reads_back_as_written(self, store: PendingStore) -> None:
        written = ticket(deadline=datetime(2026, 5, 21, 9, 0, tzinfo=UTC) + timedelta(hours=3))
        store.add(written)
        assert store.get("n1") == written
        assert store.get("missing") is None
        moved = datetime(2026, 5, 22, 1, 2, 3, 456789, tzinfo=UTC)
        store.set_operation("n1", "op-1", moved)
        found = store.get("n1")
        assert found is not None
        assert (found.operation_id, found.deadline, found.state) == (
            "op-1",
            moved,
            TicketState.REQUESTED,
        )
        assert (found.attempts, found.lease_until) == (0, None)

    def test_offsets_are_kept_as_the_same_moment(self, store: PendingStore) -> None:
        chile = datetime.fromisoformat("2026-05-21T08:30:00-04:00")
        store.add(ticket(deadline=chile))
        found = store.get("n1")
        assert found is not None and found.deadline == chile

    def test_one_claim_wins_and_stores_the_body(self, store: PendingStore) -> None:
        pending(store)
        token = store.claim("n1", b"first", T0, T0 + LEASE)
        assert token
        assert store.claim("n1", b"second", T0, T0 + LEASE) is None
        found = store.get("n1")
        assert found is not None
        assert (found.state, found.attempts, found.lease_until) == (
            TicketState.DELIVERING,
            1,
            T0 + LEASE,
        )
        assert store.accepted_body("n1") == b"first"

    def test_claims_from_many_threads_give_one_token(self, store: PendingStore) -> None:
        pending(store)
        tokens: list[str | None] = []
        start = threading.Barrier(8)

        def race() -> None:
            start.wait()
            tokens.append(store.claim("n1", b"x", T0, T0 + LEASE))

        threads = [threading.Thread(target=race) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len([t for t in tokens if t]) == 1

    def test_an_expired_lease_can_be_taken_over_a_live_one_cannot(
        self, store: PendingStore
    ) -> None:
        pending(store)
        first = store.claim("n1", b"body", T0, T0 + LEASE)
        assert first
        assert store.claim("n1", b"body", T0 + LEASE - timedelta(microseconds=1), T0) is None
        assert store.stranded(T0 + LEASE - timedelta(microseconds=1)) == []
        [stranded] = store.stranded(T0 + LEASE)
        assert stranded.nonce == "n1"
        second = store.claim("n1", b"again", T0 + LEASE, T0 + 2 * LEASE)
        assert second and second != first
        found = store.get("n1")
        assert found is not None and found.attempts == 2
        assert store.accepted_body("n1") == b"again"

    def test_a_renewed_lease_is_not_taken_over(self, store: PendingStore) -> None:
        pending(store)
        token = store.claim("n1", b"body", T0, T0 + LEASE)
        assert token and store.renew("n1", token, T0 + 3 * LEASE)
        assert store.claim("n1", b"body", T0 + 2 * LEASE, T0 + 4 * LEASE) is None
        assert store.stranded(T0 + 2 * LEASE) == []

    def test_a_taken_over_holder_can_neither_renew_finish_nor_release(
        self, store: PendingStore
    ) -> None:
        pending(store)
        old = store.claim("n1", b"body", T0, T0 + LEASE)
        new = store.claim("n1", b"body", T0 + LEASE, T0 + 2 * LEASE)
        assert old and new
        assert not store.renew("n1", old, T0 + 9 * LEASE)
        assert not store.release("n1", old)
        assert not store.finish("n1", old, TicketState.DELIVERED)
        found = store.get("n1")
        assert found is not None and found.state is TicketState.DELIVERING
        assert store.finish("n1", new, TicketState.DELIVERED)
        found = store.get("n1")
        assert found is not None and found.state is TicketState.DELIVERED

    def test_finished_tickets_cannot_be_claimed_again(self, store: PendingStore) -> None:
        for nonce, state in (("a", TicketState.DELIVERED), ("b", TicketState.FAILED)):
            pending(store, nonce)
            token = store.claim(nonce, b"x", T0, T0 + LEASE)
            assert token and store.finish(nonce, token, state)
            assert store.claim(nonce, b"x", T0 + 9 * LEASE, T0 + 10 * LEASE) is None
            found = store.get(nonce)
            assert found is not None and found.state is state
            assert not store.finish(nonce, token, state)

    def test_a_released_claim_is_claimable_at_once(self, store: PendingStore) -> None:
        pending(store)
        token = store.claim("n1", b"x", T0, T0 + LEASE)
        assert token and store.release("n1", token)
        found = store.get("n1")
        assert found is not None and found.state is TicketState.REQUESTED
        assert store.claim("n1", b"y", T0, T0 + LEASE)

    def test_refused_bodies_are_kept_oldest_first_and_bounded(self, store: PendingStore) -> None:
        pending(store)
        assert store.bodies("n1") == []
        for i in range(20):
            store.keep_body("n1", f"body {i}".encode(), f"problem {i}" if i % 2 else None)
        kept = store.bodies("n1")
        assert 1 <= len(kept) <= 8
        assert kept[-1] == (b"body 19", "problem 19")
        assert [int(b.split()[1]) for b, _ in kept] == sorted(int(b.split()[1]) for b, _ in kept)
        assert store.bodies("other") == []

    def test_overdue_reports_every_stuck_state_once(self, store: PendingStore) -> None:
        late = T0 + timedelta(minutes=10)
        pending(store, "waiting", deadline=late)
        pending(store, "stranded", deadline=late)
        pending(store, "handling", deadline=late)
        pending(store, "done", deadline=late)
        pending(store, "not-yet", deadline=late + timedelta(hours=1))
        assert store.claim("stranded", b"x", T0, T0 + LEASE)
        assert store.claim("handling", b"x", T0, late + timedelta(hours=9))
        done = store.claim("done", b"x", T0, T0 + LEASE)
        assert done and store.finish("done", done, TicketState.DELIVERED)
        after = late + timedelta(seconds=1)
        assert sorted(t.nonce for t in store.overdue(after)) == ["stranded", "waiting"]
        assert store.overdue(after) == []
        # Reporting changed nothing else: a late delivery is still handed over.
        assert store.claim("waiting", b"late", after, after + LEASE)
        assert store.claim("stranded", b"late", after, after + LEASE)

    def test_deadline_passing_is_exact_to_the_microsecond(self, store: PendingStore) -> None:
        deadline = T0 + timedelta(seconds=5)
        pending(store, deadline=deadline)
        assert store.overdue(deadline) == []
        assert [t.nonce for t in store.overdue(deadline + timedelta(microseconds=1))] == ["n1"]

    def test_finishing_only_in_a_final_state(self, store: PendingStore) -> None:
        pending(store)
        token = store.claim("n1", b"x", T0, T0 + LEASE)
        assert token
        with pytest.raises(ValueError, match="delivered or failed"):
            store.finish("n1", token, TicketState.REQUESTED)

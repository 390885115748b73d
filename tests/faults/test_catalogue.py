"""Every catalogued fault, against the core runtime (a toy connector) and the real connectors
(belvo.br, and afc.cl with its OAuth token endpoint), sync and async.

Each call must raise the catalogued caudal error (nothing half-returned: a call that raises
returns nothing), within its deadline plus `PACE.slack`, with its peak memory bounded by a
small multiple of `max_response_bytes` for the bodies that are about size, no secret in the
message, and never a request to the host a redirect points to.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from typing import Any

import pytest

from caudal import CaudalError, Connector, Registry, TransportError, registry
from tests.core.toy import BODY as TOY_BODY
from tests.core.toy import TOY_KEY, ToyConnector

from .catalogue import CASES, LIMIT, PACE, TOKEN_PATH, Case, token_ok, warm
from .conftest import OUTCOMES, Outcome
from .hostile import Fault, HostileServer, Wire, answer

SECRET = "hostile-secret-a81f0c"  # planted, to be looked for
TARGETS = ("core", "belvo.br", "afc.cl")
MEMORY_BOUND = 10
"""Peak memory of a call at most this many times `max_response_bytes` (plus a constant)."""
MEMORY_CONSTANT = 2 << 20


def connect(target: str, url: str, deadline: float = PACE.deadline) -> Connector:
    common: dict[str, Any] = {
        "base_url": url,
        "read_timeout": PACE.read_timeout,
        "connect_timeout": PACE.read_timeout,
        "deadline": deadline,
        "max_attempts": 3,
        "backoff": 0.02,
        "max_backoff": 0.1,
        "max_response_bytes": LIMIT,
        "max_connections": 8,  # one async pool per loop (each pool loads the CA bundle)
    }
    if target == "core":
        return Registry.of(ToyConnector).get("toy", api_key=TOY_KEY, **common)
    if target == "belvo.br":
        return registry.get("belvo.br", secret_id="hostile-id", secret_password=SECRET, **common)
    return registry.get(
        "afc.cl",
        client_id="hostile-client",
        client_secret=SECRET,
        oauth_url=url + TOKEN_PATH,
        **common,
    )


def invoke(conn: Connector, mode: str, target: str) -> object:
    params: dict[str, Any] = {"core": {"scenario": "ok"}, "belvo.br": {"link": "hostile-link"}}
    kwargs = params.get(target, {})
    if mode == "sync":
        return conn.balance(**kwargs)

    async def main() -> object:
        try:
            return await conn.abalance(**kwargs)
        finally:
            await conn.aclose()

    return asyncio.run(main())


def cases() -> list[Any]:
    chosen = []
    for case in CASES:
        for target in TARGETS if case.token is None else ("afc.cl",):
            for mode in ("sync", "async"):
                chosen.append(pytest.param(case, target, mode, id=f"{case.name}-{target}-{mode}"))
    return chosen


@pytest.mark.parametrize(("case", "target", "mode"), cases())
def test_fault(case: Case, target: str, mode: str, thief: HostileServer) -> None:
    routes = {TOKEN_PATH: case.token or token_ok, "*": case.data}
    warm()
    with HostileServer(routes, interval=PACE.interval) as server:
        conn = connect(target, server.url, case.deadline_s)
        if case.memory:
            tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            started = time.monotonic()
            with pytest.raises(CaudalError) as info:  # raising, the call returned nothing
                invoke(conn, mode, target)
            elapsed = time.monotonic() - started
            peak = tracemalloc.get_traced_memory()[1] - before if case.memory else None
        finally:
            if case.memory:
                tracemalloc.stop()
            conn.close()
    error = info.value
    OUTCOMES.append(
        Outcome(
            case.name,
            target,
            mode,
            case.expect.__name__,
            type(error).__name__,
            elapsed,
            case.deadline_s,
            peak,
        )
    )
    assert type(error) is case.expect, f"{type(error).__name__}: {error}"
    assert (error.connector, error.capability) == (conn.name, "balance")
    assert elapsed <= case.deadline_s + PACE.slack
    if peak is not None:
        assert peak <= MEMORY_BOUND * LIMIT + MEMORY_CONSTANT, f"peak {peak / LIMIT:.1f}x limit"
    assert SECRET not in str(error) and TOY_KEY not in str(error)
    if case.deadline:
        assert "deadline" in str(error) or "timed out" in str(error)
    data_hits = [s for s in server.seen if TOKEN_PATH not in s]
    if case.hits is not None:
        assert len(data_hits) == case.hits, server.seen
    assert len(data_hits) <= 3  # max_attempts
    assert thief.seen == []


def _good(wire: Wire) -> None:
    wire.send(answer(TOY_BODY))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_call_cut_at_its_deadline_leaves_the_pool_usable(mode: str) -> None:
    """A request abandoned mid-body (sync: the socket bound; async: cancellation) must give its
    pool slot back: with one connection, the next call would otherwise wait for ever."""
    routes: dict[str, Fault] = {"/balances/drip": CASES[0].data, "*": _good}
    with HostileServer(routes, interval=PACE.interval) as server:
        conn = Registry.of(ToyConnector).get(
            "toy", base_url=server.url, deadline=PACE.deadline, max_connections=1
        )

        async def both() -> tuple[BaseException | None, int]:
            first: BaseException | None = None
            try:
                try:
                    await conn.abalance(scenario="drip")
                except TransportError as e:
                    first = e
                return first, len(await conn.abalance(scenario="ok"))
            finally:
                await conn.aclose()

        started = time.monotonic()
        if mode == "sync":
            with pytest.raises(TransportError, match="deadline"):
                conn.balance(scenario="drip")
            assert len(conn.balance(scenario="ok")) == 2
        else:
            error, count = asyncio.run(both())
            assert isinstance(error, TransportError) and "deadline" in str(error)
            assert count == 2
        conn.close()
    assert time.monotonic() - started <= 2 * PACE.deadline + PACE.slack


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_tls_handshake_that_never_ends_is_cut_at_the_deadline(mode: str) -> None:
    """An https URL whose server never answers the ClientHello, with timeouts far longer than
    the deadline: only the deadline can end the handshake."""
    routes: dict[str, Fault] = {"*": CASES[2].data}  # silence
    with HostileServer(routes) as server:
        conn = Registry.of(ToyConnector).get(
            "toy",
            base_url=server.url.replace("http://", "https://"),
            connect_timeout=60,
            read_timeout=60,
            deadline=PACE.deadline,
        )
        started = time.monotonic()
        with pytest.raises(TransportError, match="deadline"):
            invoke(conn, mode, "core")
        elapsed = time.monotonic() - started
        conn.close()
    assert elapsed <= PACE.deadline + PACE.slack

from collections.abc import Iterator

import pytest

from caudal import Registry
from caudal.sandbox import Sandbox, serve

from .toy import ToyConnector, emulator, hits


@pytest.fixture(scope="session")
def toy_sandbox() -> Iterator[Sandbox]:
    with serve([emulator()]) as sandbox:
        yield sandbox


@pytest.fixture
def toy_registry() -> Registry:
    return Registry.of(ToyConnector)


@pytest.fixture
def toy(toy_sandbox: Sandbox, toy_registry: Registry) -> Iterator[ToyConnector]:
    hits.clear()
    conn = toy_sandbox.connect("toy", registry=toy_registry)
    assert isinstance(conn, ToyConnector)
    yield conn
    conn.close()

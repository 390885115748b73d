"""Fixtures for the belvo.br tests: a connector for parsing, and the sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import caudal.sandbox
from caudal import Connector, registry

from .examples import CREDENTIALS


@pytest.fixture
def offline() -> Iterator[Connector]:
    """A belvo.br connector aimed at nothing: for `parse` and request building."""
    with registry.get("belvo.br", base_url="http://127.0.0.1:9", **CREDENTIALS) as conn:
        yield conn


@pytest.fixture(scope="session")
def sandbox() -> Iterator[caudal.sandbox.Sandbox]:
    """Every installed emulator, Belvo's among them, over real HTTP for the whole session."""
    with caudal.sandbox.serve() as running:
        yield running


@pytest.fixture(scope="session")
def conn(sandbox: caudal.sandbox.Sandbox) -> Iterator[Connector]:
    """A sync belvo.br connector aimed at the sandbox, with short backoff to keep tests fast."""
    settings = sandbox.settings("belvo.br")
    with registry.get("belvo.br", **settings, backoff=0.01, max_backoff=0.05) as connector:
        yield connector

"""pytest plugin (entry point `pytest11`): fixtures for testing connectors against the sandbox.

Import-safe without hypothesis installed: it only defines fixtures, and starts nothing until a
test asks for one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..sandbox import Sandbox


@pytest.fixture(scope="session")
def caudal_sandbox() -> Iterator[Sandbox]:
    """Every installed emulator, served over HTTP on 127.0.0.1 for the whole test session."""
    from ..sandbox import serve

    with serve() as sandbox:
        yield sandbox

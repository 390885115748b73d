"""Test kit for connector authors: hypothesis strategies, the mapping properties, fixtures.

    from caudal.testing import mapping_suite, strategies
    TestBalance = mapping_suite(MyConnector, "balance", strategies.from_model(RawBody))

Needs the `testing` extra (`pip install caudal[testing]`): hypothesis and pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import strategies
    from ._mapping import decimals_in, mapping_suite, mutations

__all__ = ["decimals_in", "mapping_suite", "mutations", "strategies"]


def __getattr__(name: str) -> Any:
    # Lazy, so that pytest can load the fixtures plugin without importing hypothesis.
    if name == "strategies":
        import importlib

        return importlib.import_module(f"{__name__}.strategies")
    if name in {"decimals_in", "mapping_suite", "mutations"}:
        from . import _mapping

        return getattr(_mapping, name)
    raise AttributeError(name)

"""Test kit for connector authors: hypothesis strategies, the mapping properties, fixtures.

Everything a connector must satisfy (manifest, settings, the figures against its declared
provenance, golden examples, emulator round trips, documented errors, challenges, secrets):

    TestMyConformance = conformance_suite(
        MyConnector, emulator(), bodies={"balance": ...}, examples={"balance": [Golden(...)]}
    )

or only the form checks of one capability's mapping:

    TestBalance = mapping_suite(MyConnector, "balance", strategies.from_model(RawBody))

`hostile` builds the bodies that make a parser spend memory out of all proportion to them.

Needs the `testing` extra (`pip install caudal[testing]`): hypothesis and pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import hostile, strategies
    from ._conformance import conformance_suite
    from ._golden import Golden
    from ._mapping import decimals_in, mapping_suite, mutations

__all__ = [
    "Golden",
    "conformance_suite",
    "decimals_in",
    "hostile",
    "mapping_suite",
    "mutations",
    "strategies",
]


def __getattr__(name: str) -> Any:
    # Lazy, so that pytest can load the fixtures plugin without importing hypothesis.
    if name in {"strategies", "hostile"}:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in {"decimals_in", "mapping_suite", "mutations"}:
        from . import _mapping

        return getattr(_mapping, name)
    if name == "Golden":
        from ._golden import Golden

        return Golden
    if name == "conformance_suite":
        from ._conformance import conformance_suite

        return conformance_suite
    raise AttributeError(name)

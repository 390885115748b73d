"""The generic form checks every connector's every capability must satisfy.

Whether the figures are the right ones is checked against the connector's declared provenance
(`caudal.testing._declared`); these check the form: every valid body maps to records of the
capability's type, mapping is deterministic, and a value of the wrong type anywhere is a
`MappingError` naming its path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from ..capabilities import CAPABILITIES
from ..connector import Connector
from ..errors import MappingError
from ..mapping import json_path
from ..model import Result
from ._declared import suite_settings
from .strategies import json_text

__all__ = ["decimals_in", "mapping_suite", "mutations"]

Path = tuple[int | str, ...]


def decimals_in(value: Any) -> Iterator[Decimal]:
    """Every Decimal in a canonical record (amounts, units), however deeply nested."""
    if isinstance(value, Decimal):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from decimals_in(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from decimals_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from decimals_in(item)


def _nodes(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), item
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*path, i), item
            yield from _nodes(item, (*path, i))


def _wrong_type(value: Any) -> Any:
    """A replacement no schema that accepted `value` can accept as well."""
    if isinstance(value, str):
        return {"caudal-bogus": [1]}
    if isinstance(value, bool | int | Decimal):
        return "caudal-bogus"
    if isinstance(value, dict | list):
        return "caudal-bogus"
    # A null: not a string (str | None would take it) nor an object (an all-optional model would).
    return [["caudal-bogus"]]


def _replace(value: Any, path: Path, new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(value, dict):
        return {k: (_replace(v, tuple(rest), new) if k == head else v) for k, v in value.items()}
    return [(_replace(v, tuple(rest), new) if i == head else v) for i, v in enumerate(value)]


def mutations(body: Any) -> st.SearchStrategy[tuple[Path, Any]]:
    """(path, broken body) pairs: one value somewhere in `body` replaced by a wrong type."""
    nodes = list(_nodes(body))
    if not nodes:
        # `[]` or `{}`: nothing to break. Replace the whole body instead.
        return st.just(((), _wrong_type(body)))
    return st.sampled_from(nodes).map(lambda n: (n[0], _replace(body, n[0], _wrong_type(n[1]))))


def mapping_suite(
    connector: type[Connector],
    capability: str,
    bodies: st.SearchStrategy[Any],
    *,
    settings_: Mapping[str, Any] | None = None,
    max_examples: int = 150,
) -> type:
    """A pytest test class with the generic mapping properties for one capability.

        TestBalanceMapping = mapping_suite(AfcConnector, "balance", afc_balance_bodies())

    `bodies` yields JSON-ready values (numbers as int/Decimal) of bodies the provider may send
    with a successful answer.
    """
    record_type = CAPABILITIES[capability]
    # A larger profile (`make fuzz`) raises the count; CI keeps the suite's own.
    conf = suite_settings(max_examples)

    instances: list[Connector] = []

    def make() -> Connector:
        # One instance per suite: building a connector (settings, hooks, pools) per example
        # would measure construction, not mapping. `parse` is stateless, which test 3 checks.
        if not instances:
            instances.append(connector(**dict(settings_ or {})))
        return instances[0]

    class MappingProperties:
        @conf
        @given(body=bodies)
        def test_every_valid_body_maps(self, body: Any) -> None:
            result = make().parse(capability, json_text(body))
            assert isinstance(result, Result)
            assert result.connector == connector.name and result.capability == capability
            assert all(isinstance(item, record_type) for item in result)

        @conf
        @given(body=bodies)
        def test_mapping_is_deterministic(self, body: Any) -> None:
            text = json_text(body)
            first, second = make().parse(capability, text), make().parse(capability, text)
            assert first.items == second.items
            assert (first.notes, first.operation_id) == (second.notes, second.operation_id)

        @conf
        @given(data=st.data(), body=bodies)
        def test_schema_break_names_the_field(self, data: st.DataObject, body: Any) -> None:
            path, broken = data.draw(mutations(body), label="mutation")
            where = json_path(path)
            error: MappingError | None = None
            try:
                make().parse(capability, json_text(broken))
            except MappingError as exc:
                error = exc
            assert error is not None, f"broke {where} with a wrong type; the mapping accepted it"
            assert error.path.startswith(where), f"broke {where} but the error names {error.path}"
            assert (error.connector, error.capability) == (connector.name, capability)

    MappingProperties.__name__ = f"MappingProperties_{connector.__name__}_{capability}"
    return MappingProperties

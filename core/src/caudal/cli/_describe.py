"""What `caudal about NAME` and `caudal fetch NAME CAPABILITY --help` tell about a connector.

Its settings (environment variables, accepted values, defaults, which are secret; a secret's
value is never shown, not even its default) and each capability's call parameters (accepted
values, required or not, an example from the sandbox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._explain import Field, parameter_fields, setting_fields
from ..errors import CaudalError
from ._table import columns

if TYPE_CHECKING:
    from ..connector import Connector
    from ..registry import Registry

__all__ = ["capability_text", "settings_text"]


def settings_text(connector: type[Connector]) -> str:
    """The settings table: set each with its environment variable or `-s name=value`."""
    rows = [
        [
            f.name,
            f.env,
            f.accepts,
            "required" if f.required else f.default,
            "yes" if f.secret else "no",
        ]
        for f in setting_fields(connector.settings_class)
    ]
    header = ["setting", "environment variable", "accepts", "default", "secret"]
    return "settings (environment variable, or -s setting=value):\n" + columns(header, rows)


def offline(connector: type[Connector]) -> Connector:
    """An instance only to read its operations: settings unvalidated, from no environment
    (a bad `CAUDAL_*` variable must not hide the parameters), never used for a request."""
    return connector(connector.settings_class.model_construct())


def _examples(name: str) -> dict[str, dict[str, Any]]:
    """Parameters of calls that work against the sandbox, per capability (an example)."""
    from ..sandbox import load_emulators

    for emulator in load_emulators():
        if name in emulator.call_params:
            return {cap: dict(p) for cap, p in emulator.call_params[name].items()}
    return {}


def parameter_rows(fields: list[Field]) -> list[list[str | None]]:
    return [
        [
            f.name,
            f.accepts,
            "yes" if f.required else "no",
            None if f.required else f.default,
            f.example,
        ]
        for f in fields
    ]


def capability_text(
    registry: Registry, name: str, capabilities: list[str], connector: type[Connector]
) -> str:
    """One parameter table per capability (`-p parameter=value`; `{...}` values are JSON)."""
    instance = offline(connector)
    examples = _examples(name)
    out = []
    for capability in capabilities:
        try:
            params = instance.operation(capability).params
        except CaudalError as exc:
            out.append(f"{capability} parameters: cannot be shown ({exc})")
            continue
        fields = parameter_fields(params, examples.get(capability))
        header = ["parameter", "accepts", "required", "default", "example (sandbox)"]
        body = columns(header, parameter_rows(fields)) if fields else "(none)"
        out.append(f"{capability} parameters (-p parameter=value; {{...}} is JSON):\n{body}")
    return "\n\n".join(out)


def describe(registry: Registry, name: str, capabilities: list[str] | None = None) -> str:
    """Settings and parameters of connector `name` (all its capabilities unless given)."""
    connector = registry.load(name)
    chosen = capabilities if capabilities is not None else sorted(registry.about(name).capabilities)
    return settings_text(connector) + "\n\n" + capability_text(registry, name, chosen, connector)

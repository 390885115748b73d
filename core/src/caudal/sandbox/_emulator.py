"""What a plugin hands the sandbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

__all__ = ["ChallengeCase", "Emulator", "ErrorCase"]


@dataclass(frozen=True)
class ChallengeCase:
    """A call that the emulator answers with a multi-factor challenge, and the token it accepts."""

    connector: str
    capability: str
    params: Mapping[str, Any]
    token: str


@dataclass(frozen=True)
class ErrorCase:
    """A call the emulator answers with a documented error, and the typed error it must give.

    `settings` overrides the connector's sandbox settings (a wrong key for a 401 case);
    `code` is the provider's code the error must carry (None: not checked).
    """

    connector: str
    capability: str
    params: Mapping[str, Any]
    error: type[Exception]
    code: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Emulator:
    """A provider emulator: routes served under `/<name>`, and per-connector settings.

    `settings` maps each connector name to the keyword settings that make it talk to this
    emulator (sandbox credentials); the sandbox adds `base_url` itself. `cases` documents how
    to ask the emulator for each scenario (error codes, challenges, slow answers), shown by
    `caudal sandbox serve` and the docs.
    """

    name: str
    routes: Sequence[BaseRoute]
    settings: Mapping[str, Mapping[str, Any]]
    cases: Mapping[str, str] = field(default_factory=dict)
    call_params: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    """Per connector and capability, parameters of a call that succeeds (for demos, smoke tests)."""
    challenges: Sequence[ChallengeCase] = ()
    """Calls that raise a challenge, for the demo and the conformance suite."""
    errors: Sequence[ErrorCase] = ()
    """Every documented error, asked for on purpose: the conformance suite checks each."""

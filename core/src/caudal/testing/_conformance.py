"""The conformance suite: everything a connector must satisfy, opted into in a few lines.

    from caudal.testing import Golden, conformance_suite
    from my_plugin import MyConnector, emulator
    TestMyConformance = conformance_suite(
        MyConnector,
        emulator(),
        bodies={"balance": raw_bodies()},
        examples={"balance": [Golden(DOCS_BODY, [Balance(...)])]},
    )

The figures are checked against the connector's declared provenance (its `provenance`
attribute, see `caudal.provenance`), and against golden examples written by hand from the
provider's documentation (at least one per capability).

The suite is the only copy of these checks: plugins add only what is specific to their provider.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import strategies as st
from pydantic import SecretStr

from ..capabilities import CAPABILITIES
from ..connector import Connector, capabilities_of
from ..errors import CaudalError, ChallengeRequired, PluginError, ProviderError
from ..model import Challenge, Result
from ..provenance import Provenance, declared
from ..registry import Registry, _api_compatible
from ..sandbox import Emulator, Sandbox, serve
from ._declared import declared_suite, suite_settings
from ._golden import Golden
from ._mapping import mapping_suite

__all__ = ["SECRET_WORDS", "conformance_suite"]

SECRET_WORDS = frozenset({"key", "secret", "password", "token", "jwt"})
"""A settings field with one of these words in its name must be a `SecretStr` (`*_url` aside)."""


def _names_a_secret(field: str) -> bool:
    words = set(field.lower().split("_"))
    return bool(words & SECRET_WORDS) and not field.lower().endswith("_url")


def _is_secret_type(annotation: Any) -> bool:
    args = getattr(annotation, "__args__", ())
    return annotation is SecretStr or SecretStr in args


def _secret_values(conn: Connector) -> list[str]:
    values = []
    for name in type(conn.settings).model_fields:
        value = getattr(conn.settings, name)
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4:
            values.append(value.get_secret_value())
    return values


def conformance_suite(
    connector: type[Connector],
    emulator: Emulator,
    *,
    bodies: Mapping[str, st.SearchStrategy[Any]],
    examples: Mapping[str, Sequence[Golden]],
    settings: Mapping[str, Any] | None = None,
    max_examples: int = 100,
    provenance: Sequence[Provenance] | None = None,
) -> type:
    """A pytest class with every check a connector must pass (see the module docstring).

    `bodies` gives, per capability, a strategy of raw bodies derived from the connector's raw
    models (`caudal.testing.strategies.from_model`); every capability must have one.
    `examples` gives, per capability, the golden examples (at least one each).
    `provenance` defaults to the connector class's declarations (`provenance = (...)`).
    `settings` configures the connector for the offline mapping checks (no I/O).
    """
    name = connector.name
    offline = dict(settings or emulator.settings.get(name, {}))
    declarations = (
        {p.capability: p for p in provenance} if provenance is not None else declared(connector)
    )

    class Conformance:
        @pytest.fixture(scope="class")
        @classmethod
        def sandbox(cls) -> Iterator[Sandbox]:
            with serve([emulator]) as running:
                yield running

        def connect(self, sandbox: Sandbox, **overrides: Any) -> Connector:
            return sandbox.connect(name, registry=Registry.of(connector), **overrides)

        # -- the manifest and the settings ------------------------------------------------------

        def test_every_capability_has_body_strategies(self) -> None:
            missing = capabilities_of(connector) - set(bodies)
            assert not missing, f"no raw-body strategies for {sorted(missing)}"

        def test_every_capability_declares_its_provenance(self) -> None:
            missing = capabilities_of(connector) - set(declarations)
            assert not missing, (
                f"no declared provenance for {sorted(missing)}: where each canonical value "
                "comes from (see caudal.provenance)"
            )

        def test_every_capability_has_golden_examples(self) -> None:
            missing = sorted(c for c in capabilities_of(connector) if not examples.get(c))
            assert not missing, (
                f"no golden example for {missing}: a provider-documentation body and the "
                "records it gives, written by hand"
            )

        def test_manifest_is_installed_valid_and_matches_the_hooks(self) -> None:
            registry = Registry()
            try:
                manifest = registry.about(name)
                loaded = registry.load(name)
            except PluginError as exc:
                raise AssertionError(f"{name}: {exc}") from None
            assert loaded is connector, f"entry point {name} gives {loaded}, not {connector}"
            assert set(manifest.capabilities) == capabilities_of(connector)
            assert _api_compatible(manifest.api) is None
            assert manifest.title, "the manifest should give a title"

        def test_capabilities_are_known(self) -> None:
            assert capabilities_of(connector) <= set(CAPABILITIES)
            assert capabilities_of(connector), "a connector must offer at least one capability"

        def test_secret_settings_are_secretstr(self) -> None:
            for field, info in connector.settings_class.model_fields.items():
                if _names_a_secret(field):
                    assert _is_secret_type(info.annotation), f"setting {field} must be SecretStr"

        def test_env_prefix_names_the_provider(self) -> None:
            prefix = connector.settings_class.model_config.get("env_prefix", "")
            assert prefix.startswith("CAUDAL_") and prefix != "CAUDAL_", prefix

        def test_settings_repr_hides_secrets(self, sandbox: Sandbox) -> None:
            conn = self.connect(sandbox)
            for secret in _secret_values(conn):
                assert secret not in repr(conn) and secret not in repr(conn.settings)
                assert secret not in str(conn.settings.model_dump())

        # -- against the emulator -----------------------------------------------------------------

        def test_every_capability_round_trips_sync_and_async(self, sandbox: Sandbox) -> None:
            conn = self.connect(sandbox)
            for capability in sorted(conn.capabilities):
                params = sandbox.call_params(name, capability)
                sync = conn.call(capability, params)
                assert isinstance(sync, Result), capability
                assert all(isinstance(i, CAPABILITIES[capability]) for i in sync)
                again = asyncio.run(conn.acall(capability, params))
                assert isinstance(again, Result) and again.items == sync.items, capability

        def test_documented_errors_are_typed_and_hold_no_secret(
            self, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
        ) -> None:
            caplog.set_level(logging.DEBUG)
            cases = [c for c in emulator.errors if c.connector == name]
            assert cases, "the emulator documents no error case for this connector"
            for case in cases:
                conn = self.connect(sandbox, **{"max_attempts": 2, "backoff": 0.0, **case.settings})
                with pytest.raises(case.error) as info:
                    conn.call(case.capability, dict(case.params))
                error = info.value
                assert isinstance(error, CaudalError), f"{case}: untyped {type(error).__name__}"
                assert (error.connector, error.capability) == (name, case.capability), case
                if case.code is not None:
                    assert isinstance(error, ProviderError) and error.code == case.code, case
                for secret in _secret_values(conn):
                    for text in (str(error), repr(error), caplog.text):
                        assert secret not in text, f"{case}: a secret appears in {text[:80]!r}"

        def test_challenges_resume_and_survive_json(self, sandbox: Sandbox) -> None:
            conn = self.connect(sandbox)
            for case in (c for c in emulator.challenges if c.connector == name):
                with pytest.raises(ChallengeRequired) as info:
                    conn.call(case.capability, dict(case.params))
                kept = Challenge.model_validate_json(info.value.challenge.model_dump_json())
                assert kept == info.value.challenge
                assert isinstance(conn.resume(kept, case.token), Result)

    # -- the mapping properties of every capability --------------------------------------------
    instances: list[Connector] = []

    def make() -> Connector:
        # One instance for every property: `parse` is stateless (the determinism check shows it).
        if not instances:
            instances.append(connector(**offline))
        return instances[0]

    for capability, strategy in bodies.items():
        suites = [
            mapping_suite(
                connector, capability, strategy, settings_=offline, max_examples=max_examples
            )
        ]
        if capability in declarations:
            prov = declarations[capability]
            golden = examples.get(capability, ())
            conf = suite_settings(max_examples)
            suites.append(declared_suite(connector, prov, strategy, golden, make, conf))
        for suite in suites:
            for attr, test in vars(suite).items():
                if attr.startswith("test_"):
                    setattr(Conformance, f"test_{capability}_{attr[5:]}", test)

    Conformance.__name__ = f"Conformance_{connector.__name__}"
    return Conformance

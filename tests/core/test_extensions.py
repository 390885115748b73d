"""Extension plugins (group caudal.extensions) wrap every connector's capability hooks."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from caudal import Call, Connector, Operation, Registry, Reply, Result, hookimpl
from caudal.sandbox import Sandbox

from .toy import ToyConnector


class CountingExtension:
    """Counts records per connector: the shape of a metrics extension."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int]] = []

    @hookimpl(wrapper=True)
    def balance(self, connector: Connector) -> Iterator[None]:
        operation: Operation[Any] = yield

        def counted(inner: Any, reply: Reply, call: Call[Any]) -> Any:
            outcome = inner(reply, call)
            if isinstance(outcome, Result):
                self.seen.append((connector.name, call.capability, len(outcome)))
            return outcome

        return operation.wrap_read(counted)  # type: ignore[return-value]


def test_wrapper_sees_every_call_sync_and_parse(toy_sandbox: Sandbox) -> None:
    extension = CountingExtension()
    registry = Registry.of(ToyConnector, extensions=[extension])
    conn = toy_sandbox.connect("toy", registry=registry)
    conn.balance()
    conn.parse("balance", b"[]")
    assert extension.seen == [("toy", "balance", 2), ("toy", "balance", 0)]


async def test_wrapper_sees_async_calls(toy_sandbox: Sandbox) -> None:
    extension = CountingExtension()
    conn = toy_sandbox.connect("toy", registry=Registry.of(ToyConnector, extensions=[extension]))
    await conn.abalance()
    assert extension.seen == [("toy", "balance", 2)]


def test_extension_with_a_typo_is_refused() -> None:
    class Typo:
        @hookimpl
        def balanse(self) -> None:
            """Misspelled hook: pluggy's check_pending must catch it."""

    with pytest.raises(Exception, match="balanse"):
        Registry.of(ToyConnector, extensions=[Typo()]).get("toy")


def test_extensions_load_from_entry_points_and_a_broken_one_is_isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = tmp_path / "caudal_ext-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: caudal-ext\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[caudal.extensions]\ngood = caudal_fake_ext:EXTENSION\nbad = caudal_fake_ext_bad\n"
    )
    (tmp_path / "caudal_fake_ext.py").write_text(
        "from caudal import hookimpl\n"
        "class Ext:\n"
        "    @hookimpl(wrapper=True)\n"
        "    def balance(self, connector):\n"
        "        return (yield)\n"
        "EXTENSION = Ext()\n"
    )
    (tmp_path / "caudal_fake_ext_bad.py").write_text("raise ImportError('no')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry(allow=["caudal-ext"])
    loaded = registry.extensions()
    assert [type(e).__name__ for e in loaded] == ["Ext"]
    status = {s.name: s.status for s in registry.doctor() if s.kind == "extension"}
    assert status == {"good": "ok", "bad": "import error"}
    for name in ("caudal_fake_ext", "caudal_fake_ext_bad"):
        sys.modules.pop(name, None)


def test_hooks_run_once_per_connector_and_capability(toy_sandbox: Sandbox) -> None:
    extension = CountingExtension()
    conn = toy_sandbox.connect("toy", registry=Registry.of(ToyConnector, extensions=[extension]))
    assert conn.operation("balance") is conn.operation("balance")
    for _ in range(3):
        conn.parse("balance", b"[]")
    assert len(extension.seen) == 3  # the wrapped read still sees every call

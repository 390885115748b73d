"""Installs fake plugin distributions (dist-info + packages) into a directory for registry tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

GOOD_CONNECTOR = '''
from caudal import Connector, NoParams, Operation, Request, Result, capability

class GoodConnector(Connector):
    """A fake connector that loads fine."""
    name = "{name}"
    title = "Good"

    @capability("balance")
    def balance_operation(self) -> Operation[NoParams]:
        return Operation(
            NoParams,
            request=lambda call: Request("GET", "/"),
            read=lambda reply, call: Result(connector=call.connector, capability=call.capability),
        )
'''

MANIFEST = """
api = "{api}"
[connectors."{name}"]
title = "{title}"
capabilities = {caps}
"""


def make_dist(
    root: Path,
    dist: str,
    package: str,
    connectors: dict[str, str],
    module_source: str,
    *,
    api: str = ">=1.0,<2",
    capabilities: str = '["balance"]',
    manifest: bool = True,
) -> None:
    """Write `<dist>-1.0.dist-info` with entry points and the package `package` beside it."""
    info = root / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    lines = "\n".join(f"{name} = {target}" for name, target in connectors.items())
    (info / "entry_points.txt").write_text(f"[caudal.connectors]\n{lines}\n")
    pkg = root / package
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(module_source))
    if manifest:
        text = "".join(
            MANIFEST.format(api=api, name=name, title=name.upper(), caps=capabilities).split(
                "\n", 2
            )[2]
            if i
            else MANIFEST.format(api=api, name=name, title=name.upper(), caps=capabilities)
            for i, name in enumerate(connectors)
        )
        (pkg / "caudal-plugin.toml").write_text(text)


def install_fakes(root: Path) -> None:
    """good.cl works; the others each fail in their own way."""
    make_dist(
        root,
        "caudal-good",
        "caudal_fake_good",
        {"good.cl": "caudal_fake_good:GoodConnector"},
        GOOD_CONNECTOR.format(name="good.cl"),
    )
    make_dist(
        root,
        "caudal-broken",
        "caudal_fake_broken",
        {"broken.cl": "caudal_fake_broken:X"},
        "raise RuntimeError('boom at import')\n",
    )
    make_dist(
        root,
        "caudal-needy",
        "caudal_fake_needy",
        {"needy.cl": "caudal_fake_needy:X"},
        "import caudal_dependency_that_is_not_installed\n",
    )
    make_dist(
        root,
        "caudal-old",
        "caudal_fake_old",
        {"old.cl": "caudal_fake_old:GoodConnector"},
        GOOD_CONNECTOR.format(name="old.cl"),
        api=">=0.1,<1",
    )
    make_dist(
        root,
        "caudal-dup-one",
        "caudal_fake_dup1",
        {"dup.cl": "caudal_fake_dup1:GoodConnector"},
        GOOD_CONNECTOR.format(name="dup.cl"),
    )
    make_dist(
        root,
        "caudal-dup-two",
        "caudal_fake_dup2",
        {"dup.cl": "caudal_fake_dup2:GoodConnector"},
        GOOD_CONNECTOR.format(name="dup.cl"),
    )
    make_dist(
        root,
        "caudal-liar",
        "caudal_fake_liar",
        {"liar.cl": "caudal_fake_liar:GoodConnector"},
        GOOD_CONNECTOR.format(name="liar.cl"),
        capabilities='["balance", "loans"]',
    )
    make_dist(
        root,
        "caudal-bare",
        "caudal_fake_bare",
        {"bare.cl": "caudal_fake_bare:GoodConnector"},
        GOOD_CONNECTOR.format(name="bare.cl"),
        manifest=False,
    )


FAKE_MODULES = ("caudal_fake_",)
EXPECTED_STATUS = {
    "good.cl": "ok",
    "broken.cl": "import error",
    "needy.cl": "missing dependency",
    "old.cl": "incompatible",
    "dup.cl": "duplicate",
    "liar.cl": "invalid manifest",
    "bare.cl": "invalid manifest",
}

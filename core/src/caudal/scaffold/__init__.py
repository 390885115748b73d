"""`caudal new NAME`: a connector project that passes its own conformance tests from day one.

The template lives beside this module as plain files with `{{placeholders}}`; `create()`
copies it with the names derived from the connector name (`acme.mx` -> distribution
`caudal-acme-mx`, package `caudal_acme_mx`, class `AcmeMxConnector`, env `CAUDAL_ACME_MX_`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ..errors import ConfigurationError

__all__ = ["Names", "create"]

_NAME = re.compile(r"^[a-z][a-z0-9]*([.-][a-z0-9]+)*$")


@dataclass(frozen=True)
class Names:
    """Every spelling of a new connector's name the template needs."""

    connector: str
    slug: str
    distribution: str
    package: str
    cls: str
    env: str
    title: str

    @classmethod
    def of(cls, connector: str) -> Names:
        if not _NAME.match(connector):
            raise ConfigurationError(
                f"{connector!r} is not a connector name: use lower-case words joined by . or - "
                "(the institution's domain, e.g. acme.mx)"
            )
        slug = re.sub(r"[.-]", "_", connector)
        words = slug.split("_")
        return cls(
            connector=connector,
            slug=slug,
            distribution=f"caudal-{slug.replace('_', '-')}",
            package=f"caudal_{slug}",
            cls="".join(w.capitalize() for w in words) + "Connector",
            env=f"CAUDAL_{slug.upper()}_",
            title=" ".join(w.capitalize() for w in words),
        )

    def fill(self, text: str) -> str:
        for key, value in vars(self).items():
            text = text.replace("{{" + key + "}}", value)
        return text


def create(connector: str, parent: Path) -> Path:
    """Write a new connector project under `parent`; refuses to overwrite anything."""
    names = Names.of(connector)
    root = parent / names.distribution
    if root.exists():
        raise ConfigurationError(f"{root} already exists; nothing was written")
    template = files(__name__) / "template"
    for source in _walk(template):
        relative = str(source).split("/template/", 1)[1]
        target = root / names.fill(relative.removesuffix(".tmpl"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(names.fill(source.read_text(encoding="utf-8")), encoding="utf-8")
    return root


def _walk(node: object) -> list[Path]:
    found: list[Path] = []
    for child in node.iterdir():  # type: ignore[attr-defined]
        if child.name == "__pycache__":
            continue
        if child.is_dir():
            found.extend(_walk(child))
        else:
            found.append(Path(str(child)))
    return found

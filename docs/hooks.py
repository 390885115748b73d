"""mkdocs hooks: the pages and blocks that are generated from the code at build time.

- `reference/model.md` (and the JSON Schema beside it) from `caudal.model.json_schema()`;
- `connectors/<name>.md` for every installed connector, from its manifest, class, settings
  and emulator (the sandbox runs during the build);
- `contributing.md` from the repository's `CONTRIBUTING.md`;
- the generated blocks of hand-written pages (`<!-- caudal:NAME -->` ... `<!-- /caudal:NAME -->`,
  committed by `make docs-sync` so the Markdown reads completely in the repository; the build
  generates them again, and the test suite checks that the committed ones are current);
- the nav's "Connectors" section lists every generated connector page.

Anything missing is logged as a warning, which fails `mkdocs build --strict`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from _gen.blocks import Blocks
from _gen.connectors import ConnectorDocs, build_connector_pages, page_path
from _gen.model_ref import SCHEMA_FILE, model_reference, schema_json
from _gen.sync import expand, strip_markers
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files

from caudal import Registry

log = get_plugin_logger("caudal-docs")

DOCS = Path(__file__).parent
ROOT = DOCS.parent

_state: dict[str, Any] = {}


def _connectors() -> list[ConnectorDocs]:
    if "connectors" not in _state:
        _state["connectors"] = build_connector_pages(Registry())
    found: list[ConnectorDocs] = _state["connectors"]
    return found


def on_config(config: Any) -> Any:
    _state.clear()
    nav = config.get("nav") or []
    pages = [{docs.name: page_path(docs.name)} for docs in _connectors()]
    for entry in nav:
        if isinstance(entry, dict) and "Connectors" in entry:
            entry["Connectors"] = ["connectors/index.md", *pages]
    return config


def on_files(files: Files, config: Any) -> Files:
    generated = {
        "reference/model.md": model_reference(),
        f"reference/{SCHEMA_FILE}": schema_json(),
        "contributing.md": _contributing(),
    }
    for docs in _connectors():
        generated[page_path(docs.name)] = docs.page
    for src, content in generated.items():
        files.append(File.generated(config, src, content=content))
    return files


def _contributing() -> str:
    source = ROOT / "CONTRIBUTING.md"
    if not source.is_file():
        log.warning("CONTRIBUTING.md is missing at the repository root")
        return "# Contributing\n"
    text = source.read_text(encoding="utf-8")
    # Links into docs/ are written for GitHub (`docs/x.md`); in the site they are siblings.
    return re.sub(r"\]\(docs/", "](", text)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    blocks = _state.setdefault("blocks", Blocks(_connectors()))

    def make(name: str, argument: str | None) -> str | None:
        function = blocks.get(name)
        if function is None:
            log.warning("%s: unknown generated block %r", page.file.src_uri, name)
            return None
        made: str = function(argument) if argument else function()
        return made

    out = strip_markers(expand(markdown, make))
    for problem in blocks.problems:
        log.warning("%s: %s", page.file.src_uri, problem)
    blocks.problems.clear()
    return out

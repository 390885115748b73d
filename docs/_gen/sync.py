"""Generated blocks, committed: the Markdown reads completely in the repository.

A block is written between an opening and a closing marker; what is between them is generated
from the code and committed, so a reader on GitHub (or in an editor) sees the exports, tables
and files the prose talks about, and the site shows the very same text:

    <!-- caudal:NAME [ARGUMENT] -->
    ...generated, do not edit...
    <!-- /caudal:NAME -->

`make docs-sync` rewrites every block of README.md and docs/**/*.md; `make docs-sync` with
`--check` (the test suite runs it) fails, naming the files, when a committed block differs
from what the code generates now. An opening marker with no closing one is filled in.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
OPEN = re.compile(r"^<!--\s*caudal:([a-z-]+)(?:\s+(\S+))?\s*-->[ \t]*$", re.MULTILINE)
CLOSE = "<!-- /caudal:{name} -->"
FMT_OFF, FMT_ON = "<!-- fmt:off -->", "<!-- fmt:on -->"

__all__ = ["CLOSE", "OPEN", "expand", "main", "pages", "strip_markers"]

Make = Callable[[str, str | None], str | None]
"""Gives the Markdown of block NAME (with its argument), or None for an unknown name."""


def expand(text: str, make: Make) -> str:
    """`text` with every block's content replaced by what `make` generates now."""
    out, pos = [], 0
    for match in OPEN.finditer(text):
        if match.start() < pos:
            continue  # a marker inside a block being replaced (generated text never has one)
        name, argument = match.group(1), match.group(2)
        made = make(name, argument)
        close = CLOSE.format(name=name)
        end = text.find(close, match.end())
        nxt = OPEN.search(text, match.end())
        if end == -1 or (nxt is not None and nxt.start() < end):
            end_of_block = match.end()  # an opening marker alone: the block is inserted
        else:
            end_of_block = end + len(close)
        out.append(text[pos : match.start()])
        if made is None:
            out.append(text[match.start() : end_of_block])
        elif "```python" in made:
            # A copy of a real file, byte for byte: the formatter leaves it to its source.
            body = f"{FMT_OFF}\n\n{made.strip()}\n\n{FMT_ON}"
            out.append(f"{match.group(0)}\n{body}\n{close}")
        else:
            out.append(f"{match.group(0)}\n\n{made.strip()}\n\n{close}")
        pos = end_of_block
    out.append(text[pos:])
    return "".join(out)


_ANY_MARKER = re.compile(
    r"^<!--\s*(?:/?caudal:[a-z-]+(?:\s+\S+)?|fmt:off|fmt:on)\s*-->[ \t]*\n?", re.MULTILINE
)


def strip_markers(text: str) -> str:
    """The text without its block markers (the site shows the blocks, not the comments)."""
    return _ANY_MARKER.sub("", text)


def pages() -> Iterator[Path]:
    """Every Markdown file whose blocks are generated: README.md and docs/**/*.md."""
    yield ROOT / "README.md"
    yield from sorted(p for p in DOCS.rglob("*.md") if "_gen" not in p.parts)


def _maker() -> tuple[Make, list[str]]:
    from _gen.blocks import Blocks
    from _gen.connectors import build_connector_pages
    from caudal import Registry

    blocks = Blocks(build_connector_pages(Registry()))

    def make(name: str, argument: str | None) -> str | None:
        function = blocks.get(name)
        if function is None:
            blocks.problems.append(f"unknown generated block {name!r}")
            return None
        made: str = function(argument) if argument else function()
        return made

    return make, blocks.problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a block is stale")
    args = parser.parse_args(argv)
    make, problems = _maker()
    stale = []
    from _gen import methods

    if methods.METHODS_FILE.read_text(encoding="utf-8") != methods.methods_source():
        name = methods.METHODS_FILE.relative_to(ROOT).as_posix()
        stale.append(name)
        if not args.check:
            methods.write()
    for page in pages():
        text = page.read_text(encoding="utf-8")
        fresh = expand(text, make)
        if fresh == text:
            continue
        name = page.relative_to(ROOT).as_posix()
        stale.append(name)
        if args.check:
            diff = difflib.unified_diff(
                text.splitlines(), fresh.splitlines(), name, f"{name} (generated)", lineterm=""
            )
            sys.stdout.write("\n".join(list(diff)[:60]) + "\n")
        else:
            page.write_text(fresh, encoding="utf-8")
    for problem in problems:
        sys.stdout.write(f"problem: {problem}\n")
    if args.check and stale:
        sys.stdout.write(f"stale generated blocks in {', '.join(stale)}: run make docs-sync\n")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(DOCS))
    raise SystemExit(main())

"""The documentation is tested: its Python examples run, and the site builds with no warning.

Every ```` ```python ```` block of README.md and of every page under `docs/` runs, page by
page, in order, in one namespace per page (a later block may use what an earlier one defined),
against the sandbox: the page runs with the connectors' environment variables pointing at a
running `caudal.sandbox.serve()`, exactly as the quickstart tells a reader to set them, in a
temporary working directory. A block preceded by a `<!-- not-run -->` line is skipped: only for
code that needs a real provider, and the page must say so. A block runs as pasted into a
script: no top-level `await` (async examples call `asyncio.run`). A function named `test_*`
defined by a block is called, with the fixtures it names (`caudal_sandbox`, `tmp_path`), as
pytest would. Blocks between generated-block markers are copies of files tested elsewhere (the
scaffold's own tests), not examples.

A comment after a `print(...)` call shows its output: the first line that call printed must
read so (`...` in the comment stands for any text, `<word>` for one value).

Tracebacks point at the Markdown file and line of the failing example.
"""

from __future__ import annotations

import builtins
import inspect
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from caudal import registry
from caudal.model import json_schema
from caudal.sandbox import Sandbox, serve

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
NOT_RUN = "<!-- not-run -->"
GENERATED_OPEN = re.compile(r"^<!--\s*caudal:([a-z-]+)")
GENERATED_CLOSE = re.compile(r"^<!--\s*/caudal:([a-z-]+)")
FENCE = re.compile(r"^```python\b")
INDENTED_FENCE = re.compile(r"^\s+```python\b")
OTHER_PYTHON_FENCE = re.compile(r"^\s*```(py|python3|pycon|ipython)\b")


@dataclass(frozen=True)
class Example:
    """One ```python block: where it starts (1-based line of its first code line) and its code."""

    page: Path
    line: int
    code: str
    skipped: bool


def examples(page: Path) -> list[Example]:
    """Every ```python block of a Markdown page, in order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Example] = []
    generated = False
    i = 0
    while i < len(lines):
        if GENERATED_OPEN.match(lines[i]):
            generated = True
        elif GENERATED_CLOSE.match(lines[i]):
            generated = False
        if OTHER_PYTHON_FENCE.match(lines[i]):
            raise AssertionError(
                f"{page.name}:{i + 1}: write Python examples as ```python blocks, so they run"
            )
        if INDENTED_FENCE.match(lines[i]):
            raise AssertionError(
                f"{page.name}:{i + 1}: an indented ```python block would not be run; "
                "start it at the beginning of the line"
            )
        if FENCE.match(lines[i]) and generated:
            i = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        elif FENCE.match(lines[i]):
            before = next((x.strip() for x in reversed(lines[:i]) if x.strip()), "")
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            code = "\n".join(lines[i + 1 : end]) + "\n"
            found.append(Example(page, i + 2, code, before == NOT_RUN))
            i = end
        i += 1
    return found


README = ROOT / "README.md"
PAGES = sorted(p for p in [README, *DOCS.rglob("*.md")] if "_gen" not in p.parts and examples(p))


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else page.name


OUTPUT_COMMENT = re.compile(r"^\s*print\(.*\)\s+#\s?(?P<shown>.+)$")


def shown_outputs(example: Example) -> dict[int, str]:
    """Line number -> the output its `print(...)  # ...` comment shows."""
    found = {}
    for offset, line in enumerate(example.code.splitlines()):
        match = OUTPUT_COMMENT.match(line)
        if match:
            found[example.line + offset] = match.group("shown").strip()
    return found


def _pattern(shown: str) -> re.Pattern[str]:
    """`...` is any text, `<word>` one value without spaces; the rest is literal."""
    parts = re.split(r"(\.\.\.|<[a-z_ -]+>)", shown)
    regex = "".join(
        ".*" if p == "..." else r"\S+" if p.startswith("<") and p.endswith(">") else re.escape(p)
        for p in parts
    )
    return re.compile(regex)


class _Printed:
    """`print` for the examples: prints, and records what each line of the page printed."""

    def __init__(self, page: Path) -> None:
        self.page = str(page)
        self.by_line: dict[int, list[str]] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        buffer = io.StringIO()
        builtins.print(*args, **{**kwargs, "file": buffer})
        frame = sys._getframe(1)  # the example's line that called print
        while frame is not None and frame.f_code.co_filename != self.page:
            frame = frame.f_back  # type: ignore[assignment]
        if frame is not None and kwargs.get("file") is None:
            self.by_line.setdefault(frame.f_lineno, []).append(buffer.getvalue().rstrip("\n"))
        builtins.print(*args, **kwargs)


def check_shown_outputs(example: Example, printed: _Printed) -> None:
    for line, shown in shown_outputs(example).items():
        outputs = printed.by_line.get(line)
        where = f"{example.page.name}:{line}"
        assert outputs, f"{where}: the comment shows output ({shown!r}) but nothing was printed"
        first = outputs[0].splitlines()[0] if outputs[0] else ""
        assert _pattern(shown).fullmatch(first), (
            f"{where}: the comment shows {shown!r}, the line printed {first!r}"
        )


def _run(
    example: Example,
    namespace: dict[str, Any],
    fixtures: dict[str, Any],
    printed: _Printed,
) -> None:
    # Padding keeps the Markdown file's line numbers, so a traceback shows the real source.
    source = "\n" * (example.line - 1) + example.code
    compiled = compile(source, str(example.page), "exec", dont_inherit=True)
    before = set(namespace)
    namespace["print"] = printed
    exec(compiled, namespace)  # noqa: S102 - the documentation's own examples
    for name in sorted(set(namespace) - before):
        test = namespace[name]
        if name.startswith("test_") and inspect.isfunction(test):
            wanted = inspect.signature(test).parameters
            test(**{p: fixtures[p] for p in wanted})


@pytest.fixture(scope="module")
def docs_sandbox() -> Iterator[Sandbox]:
    with serve() as sandbox:
        yield sandbox


def sandbox_environment(sandbox: Sandbox) -> dict[str, str]:
    """The `CAUDAL_<PROVIDER>_*` variables that point every connector at `sandbox`: what
    `caudal sandbox serve` prints to export."""
    return sandbox.environment()


def _scaffolded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """writing-a-connector.md: the reader ran `caudal new acme.mx` and installed it."""
    from caudal.scaffold import create

    project = create("acme.mx", tmp_path / "projects")
    monkeypatch.syspath_prepend(str(project / "src"))

    def forget() -> None:
        for module in [m for m in sys.modules if m.split(".")[0] == "caudal_acme_mx"]:
            del sys.modules[module]

    return forget


SETUP: dict[str, Callable[[Path, pytest.MonkeyPatch], Callable[[], None]]] = {
    "writing-a-connector.md": _scaffolded,
}
"""What a page assumes the reader did before its examples (beyond the sandbox settings)."""


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_examples_run(
    page: Path, docs_sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in sandbox_environment(docs_sandbox).items():
        monkeypatch.setenv(key, value)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cleanup = SETUP[page.name](tmp_path, monkeypatch) if page.name in SETUP else None
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    fixtures = {"caudal_sandbox": docs_sandbox, "tmp_path": tmp_path}
    printed = _Printed(page)
    try:
        for example in examples(page):
            if not example.skipped:
                _run(example, namespace, fixtures, printed)
                check_shown_outputs(example, printed)
    finally:
        if cleanup is not None:
            cleanup()


def test_skipped_examples_say_why() -> None:
    """`<!-- not-run -->` is for code that needs a real provider; the page must say so."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for example in examples(page):
            if example.skipped:
                window = text[: text.find(example.code)][-600:].lower()
                assert "real provider" in window or "production" in window, (
                    f"{page.name}:{example.line}: a skipped example must say it needs a real "
                    "provider"
                )


def test_examples_are_found() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "quickstart.md", "errors.md", "webhooks.md", "challenges.md"} <= names
    assert all(e.code.strip() for p in PAGES for e in examples(p))


# -- the site ---------------------------------------------------------------------------------


def test_site_builds_strictly_with_every_generated_page(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env = {k: v for k, v in env.items() if k != "CAUDAL_PLUGINS"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output[-4000:]
    assert "WARNING" not in output, output[-4000:]

    for name in registry.names():
        page = (site / "connectors" / name / "index.html").read_text(encoding="utf-8")
        about = registry.about(name)
        cls = registry.load(name)
        prefix = str(cls.settings_class.model_config.get("env_prefix", ""))
        assert all(cap in page for cap in about.capabilities), name
        assert f"{prefix}BASE_URL" in page, name
        for field in cls.settings_class.model_fields:
            assert f"{prefix}{field.upper()}" in page, (name, field)
    belvo = (site / "connectors" / "belvo.br" / "index.html").read_text(encoding="utf-8")
    assert "CAUDAL_BELVO_SECRET_PASSWORD" in belvo and "secret" in belvo

    schema = json.loads((site / "reference" / "canonical-model.schema.json").read_text())
    assert schema == json_schema()
    reference = (site / "reference" / "model" / "index.html").read_text(encoding="utf-8")
    for model in ("Balance", "Contribution", "Loan", "Money", "Party", "Challenge", "Pending"):
        assert f'id="{model.lower()}"' in reference, model

    for html in site.rglob("*.html"):
        assert "<!-- caudal:" not in html.read_text(encoding="utf-8"), html

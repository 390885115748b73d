"""Blocks of hand-written pages generated from the code: `<!-- caudal:NAME -->` markers.

Each function returns Markdown. A block whose source lacks something the docs need (a common
setting without a description here) reports it, and the strict build fails on it.
"""

from __future__ import annotations

import ast
import inspect
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from caudal import CaudalError, ConnectorSettings, RetryAdvice, errors
from caudal.sandbox import Emulator, load_emulators

from .connectors import ConnectorDocs, page_path
from .render import attribute_docs, cell, code, default_of, first_line, py_type, table

__all__ = ["COMMON_SETTINGS", "Blocks"]

SANDBOX_PORT = 8787
SCAFFOLD_NAME = "acme.mx"

COMMON_SETTINGS: dict[str, str] = {
    "base_url": "Where the provider's API is. Each connector defaults to the provider's "
    "production URL; point it at the sandbox or a provider's test environment explicitly.",
    "connect_timeout": "Seconds to wait for a connection (TCP and TLS).",
    "read_timeout": "Seconds to wait for the answer. Generous: scraping providers answer "
    "synchronous requests slowly.",
    "deadline": "Seconds the whole call may take, retries, token requests and every byte in "
    "flight included: a connect, a header or body read that would pass it is cut at it "
    "(`TransportError` naming the deadline). A retry whose wait would end past the deadline is "
    "not attempted: the last error is raised instead.",
    "max_attempts": "Attempts per call, the first one included (1 to 10).",
    "backoff": "Seconds before the first retry of a transient failure; doubled for each further "
    "attempt, with jitter (50 to 100 % of it), and never shorter than the provider's "
    "`Retry-After`.",
    "max_backoff": "Upper bound of one backoff, in seconds.",
    "max_response_bytes": "Largest response body read, counted after decoding (gzip, "
    "deflate), token responses included. A larger one raises `TransportError` (not retried) "
    "instead of filling memory; a compressed body is never inflated past it.",
    "max_connections": "Size of the connector's connection pool (the sync and the async pool "
    "each).",
    "max_pages": "Pages one call follows through a paged answer (`next` links); more raises "
    "`TransportError` (not retried), never a silently shortened result.",
}
"""What each common setting means (`ConnectorSettings` has no field descriptions to read)."""


def _assigned_in_init(cls: type) -> list[str]:
    init = cls.__dict__.get("__init__")
    if init is None:
        return []
    tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    found = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                found.append(target.attr)
    return list(dict.fromkeys(found))


class Blocks:
    """The generated blocks, given what the hook gathered; `problems` collects what is missing."""

    def __init__(self, connectors: Sequence[ConnectorDocs]) -> None:
        self.connectors = connectors
        self.problems: list[str] = []
        self._emulators: list[Emulator] | None = None
        self._project: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def emulators(self) -> list[Emulator]:
        if self._emulators is None:
            self._emulators = load_emulators()
        return self._emulators

    def get(self, name: str) -> Callable[..., str] | None:
        return {
            "connectors": self.connector_index,
            "capabilities": self.capability_table,
            "sandbox-env": self.sandbox_env,
            "emulators": self.emulator_list,
            "error-tree": self.error_tree,
            "error-attributes": self.error_attributes,
            "retry-advice": self.retry_advice,
            "common-settings": self.common_settings,
            "exit-codes": self.exit_codes,
            "scaffold-tree": self.scaffold_tree,
            "scaffold-names": self.scaffold_names,
            "scaffold-file": self.scaffold_file,
            "conformance-checks": self.conformance_checks,
        }.get(name)

    # -- the blocks -------------------------------------------------------------------------------

    def capability_table(self) -> str:
        """Every capability from its descriptor: record, methods, common parameters, doc."""
        from caudal.capabilities import DESCRIPTORS

        rows = []
        for d in DESCRIPTORS.values():
            methods = [f"{d.name}()", f"a{d.name}()"]
            if d.paged:
                methods += [f"iter_{d.name}()", f"aiter_{d.name}()"]
            record = d.record.__name__
            rows.append(
                [
                    code(d.name),
                    f"[`{record}`](reference/model.md#{record.lower()})",
                    ", ".join(code(m) for m in methods),
                    ", ".join(code(p) for p in d.parameters) or "",
                    cell(d.doc),
                ]
            )
        return table(["capability", "record", "methods", "common parameters", "what"], rows)

    def connector_index(self) -> str:
        rows = []
        for docs in self.connectors:
            link = f"[{code(docs.name)}]({page_path(docs.name).removeprefix('connectors/')})"
            rows.append(
                [
                    link,
                    cell(docs.title),
                    code(docs.distribution or ""),
                    ", ".join(docs.capabilities),
                    cell(docs.problem or docs.description),
                ]
            )
        header = ["connector", "title", "distribution", "capabilities", "description"]
        return table(header, rows)

    def sandbox_env(self) -> str:
        from caudal.sandbox import Sandbox

        sandbox = Sandbox(url=f"http://127.0.0.1:{SANDBOX_PORT}", emulators=self.emulators)
        lines = [f"$ caudal sandbox serve --port {SANDBOX_PORT} &", ""]
        lines += [f"$ export {k}={v}" for k, v in sandbox.environment().items()]
        return "```console\n" + "\n".join(lines) + "\n```"

    def emulator_list(self) -> str:
        out = []
        for emulator in self.emulators:
            served = ", ".join(f"[{code(c)}]({page_path(c)})" for c in emulator.settings)
            out += [
                f"### {emulator.name}",
                "",
                f"Served under `/{emulator.name}`; connectors: {served}. Sandbox settings:",
                "",
                table(
                    ["connector", "settings"],
                    [
                        [code(c), ", ".join(code(f"{k}={v!r}") for k, v in s.items())]
                        for c, s in emulator.settings.items()
                    ],
                ),
                "",
            ]
            for case in emulator.challenges:
                ask = ", ".join(f"{k}={v!r}" for k, v in case.params.items())
                out += [
                    f"Challenge: `{case.connector}` `conn.{case.capability}({ask})` raises "
                    f"`ChallengeRequired`; the token {code(case.token)} answers it.",
                    "",
                ]
            if emulator.errors:
                out += [
                    f"{len(emulator.errors)} documented error cases (listed on each connector's "
                    "page, with what the connector raises for them).",
                    "",
                ]
            rows = [[cell(k), cell(v)] for k, v in emulator.cases.items()]
            out += [table(["case", "how to ask for it"], rows), ""]
        return "\n".join(out)

    def error_tree(self) -> str:
        lines: list[str] = []

        def walk(cls: type[CaudalError], depth: int) -> None:
            lines.append(f"{'    ' * depth}- {code(cls.__name__)}: {cell(first_line(cls))}")
            for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
                if sub.__module__ == errors.__name__:
                    walk(sub, depth + 1)

        walk(CaudalError, 0)
        return "\n".join(lines)

    def error_attributes(self) -> str:
        """Each error class's own attributes: what its `__init__` assigns to `self`."""
        rows = []
        classes = [CaudalError]
        while classes:
            cls = classes.pop(0)
            own = _assigned_in_init(cls)
            if own:
                rows.append([code(cls.__name__), ", ".join(code(a) for a in own)])
            subs = sorted(cls.__subclasses__(), key=lambda c: c.__name__)
            classes += [c for c in subs if c.__module__ == errors.__name__]
        return table(["error", "attributes (besides those of its base classes)"], rows)

    def retry_advice(self) -> str:
        notes = attribute_docs(RetryAdvice)
        rows = [
            [code(a.value), code(f"RetryAdvice.{a.name}"), cell(notes.get(a.name, ""))]
            for a in RetryAdvice
        ]
        return table(["advice", "Python", "meaning"], rows)

    def common_settings(self) -> str:
        rows = []
        for name, info in ConnectorSettings.model_fields.items():
            about = COMMON_SETTINGS.get(name)
            if about is None:
                self.problems.append(
                    f"ConnectorSettings.{name} has no description in docs/_gen/blocks.py"
                )
            rows.append(
                [
                    code(name),
                    code(py_type(info.annotation)),
                    "set by each connector" if name == "base_url" else default_of(info),
                    cell(about or ""),
                ]
            )
        stale = sorted(set(COMMON_SETTINGS) - set(ConnectorSettings.model_fields))
        self.problems += [f"docs describe a common setting that does not exist: {s}" for s in stale]
        return table(["setting", "type", "default", "meaning"], rows)

    def exit_codes(self) -> str:
        from caudal.cli._app import HINTS, OUTCOMES

        rows = [
            ["`0`", "", "success"],
            ["`1`", "", "`caudal doctor`: a plugin is broken; `caudal demo`: a step failed"],
            ["`2`", "", "usage: an unknown option, a missing argument, a value out of range"],
        ]

        def named(error: type[CaudalError]) -> str:
            # The CLI's own refinements (an unknown connector) are shown as the public error.
            public = next(c for c in error.__mro__ if c.__module__ == errors.__name__)
            extra = "" if public is error else f" ({cell(first_line(error).rstrip('.'))})"
            return code(public.__name__) + extra

        rows += [
            [code(int(exit_code)), named(error), cell(hint)]
            for error, exit_code, hint in sorted(HINTS, key=lambda h: int(h[1]))
        ]
        rows += [[code(int(exit_code)), "", cell(hint)] for exit_code, hint in OUTCOMES]
        return table(["exit code", "error", "hint printed"], rows)

    # -- `caudal new` -------------------------------------------------------------------------

    def _scaffold(self) -> Path:
        if self._project is None:
            from caudal.scaffold import create

            self._tmp = tempfile.TemporaryDirectory(prefix="caudal-docs-")
            self._project = create(SCAFFOLD_NAME, Path(self._tmp.name))
        return self._project

    def scaffold_tree(self) -> str:
        root = self._scaffold()
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        return "```text\n" + "\n".join([f"{root.name}/", *(f"    {f}" for f in files)]) + "\n```"

    def scaffold_names(self) -> str:
        from caudal.scaffold import Names

        names = Names.of(SCAFFOLD_NAME)
        rows = [
            ["connector name (entry point, `registry.get`)", code(names.connector)],
            ["distribution (pip)", code(names.distribution)],
            ["package (import)", code(names.package)],
            ["connector class", code(names.cls)],
            ["settings environment prefix", code(names.env)],
            ["emulator (sandbox path)", code(f"/{names.slug}")],
        ]
        return table(["", f"`caudal new {SCAFFOLD_NAME}`"], rows)

    def scaffold_file(self, path: str = "") -> str:
        target = self._scaffold() / path
        if not path or not target.is_file():
            self.problems.append(f"the scaffold has no file {path!r}")
            return ""
        language = {".py": "python", ".toml": "toml", ".yml": "yaml", ".md": "markdown"}
        fence = language.get(target.suffix, "text")
        text = target.read_text(encoding="utf-8").rstrip("\n")
        return f'```{fence} title="{path}"\n{text}\n```'

    def conformance_checks(self) -> str:
        from decimal import Decimal

        from hypothesis import strategies as st
        from pydantic import BaseModel

        from caudal import Connector, capability
        from caudal.provenance import Provenance, Sign, as_is, kind, money
        from caudal.testing import conformance_suite

        class _Raw(BaseModel):
            cents: int
            currency: str
            direction: str
            kind: str
            at: str
            limit: Decimal | None = None

        class _Any(Connector):
            name = "any"
            provenance = (
                Provenance(
                    "balance",
                    raw=list[_Raw],
                    items="$[*]",
                    maps=(
                        money(
                            "cents",
                            "amount",
                            currency_from="currency",
                            minor_units=True,
                            sign=Sign("direction", negative="DR", positive="CR"),
                        ),
                        kind("kind", "kind", {}, default="other"),
                        as_is("kind", "provider_kind"),
                        as_is("at", "as_of"),
                        as_is("limit", "units", optional="limit"),
                    ),
                ),
            )

            @capability("balance")
            def balance_operation(self) -> Any:
                raise NotImplementedError

        suite = conformance_suite(
            _Any,
            Emulator(name="any", routes=[], settings={}),
            bodies={"balance": st.nothing()},
            examples={"balance": []},
        )
        checks = [a[5:].replace("_", " ") for a in vars(suite) if a.startswith("test_")]
        return "\n".join(f"- {cell(check)}" for check in checks)

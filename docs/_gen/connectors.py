"""One page per installed connector, generated from its manifest, class, settings and emulator.

The sandbox is started once for all pages: the "fields filled" and "errors" tables are what the
connector actually did with its emulator's answers during the build, not a claim.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from caudal import CAPABILITIES, CaudalError, Connector, ConnectorSettings, Registry, Result
from caudal.provenance import declared
from caudal.sandbox import Emulator, ErrorCase, Sandbox, load_emulators, serve

from . import provider_errors
from .render import (
    attribute_docs,
    cell,
    code,
    default_of,
    docstring,
    first_line,
    is_secret,
    py_type,
    schema_type,
    table,
)

__all__ = ["ConnectorDocs", "build_connector_pages", "page_path"]


def page_path(name: str) -> str:
    """Where a connector's page lives in the site's sources."""
    return f"connectors/{name}.md"


@dataclass
class ConnectorDocs:
    """Everything known about one connector, for its page and the connectors index."""

    name: str
    title: str
    description: str
    distribution: str | None
    capabilities: tuple[str, ...]
    page: str = ""
    problem: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@contextmanager
def _sandbox(emulators: Sequence[Emulator]) -> Iterator[Sandbox | None]:
    if not emulators:
        yield None
        return
    with serve(emulators) as running:
        yield running


def build_connector_pages(registry: Registry) -> list[ConnectorDocs]:
    """A page for every connector `registry` lists; a broken plugin gets a page saying why."""
    found = []
    with _sandbox(load_emulators()) as sandbox:
        for name in registry.names():
            try:
                manifest = registry.about(name)
                cls = registry.load(name)
            except CaudalError as exc:
                docs = ConnectorDocs(name, name, "", None, (), problem=str(exc))
                docs.page = f"# {name}\n\nThis connector could not be loaded: {cell(exc)}\n"
                found.append(docs)
                continue
            docs = ConnectorDocs(
                name,
                manifest.title or cls.title or name,
                manifest.description,
                manifest.distribution,
                manifest.capabilities,
            )
            docs.page = _page(name, registry, cls, sandbox)
            found.append(docs)
    return found


# -- one page -----------------------------------------------------------------------------------


def _connect(name: str, registry: Registry, sandbox: Sandbox | None) -> Connector | str:
    """An instance to read operations from: aimed at the sandbox (one attempt per call, so
    the errors table shows each answer's own error), else built from the environment."""
    try:
        if sandbox is not None and name in sandbox.connectors():
            return sandbox.connect(name, registry=registry, max_attempts=1)
        return registry.get(name)
    except CaudalError as exc:
        return f"could not build an instance to describe its parameters: {exc}"


def _page(name: str, registry: Registry, cls: type[Connector], sandbox: Sandbox | None) -> str:
    manifest = registry.about(name)
    conn = _connect(name, registry, sandbox)
    module = sys.modules[cls.__module__]
    lines = [
        f"# {name}",
        "",
        "<!-- Generated at build time from the connector's manifest, class, settings and",
        "     emulator; do not edit. -->",
        "",
        f"**{cell(manifest.title or cls.title)}**: {cell(manifest.description)}",
        "",
        table(
            ["", ""],
            [
                ["distribution", code(f"{manifest.distribution} {manifest.version or ''}".strip())],
                ["entry point", code(manifest.entry_point or "")],
                ["plugin API", code(manifest.api or "")],
                ["settings prefix", code(_prefix(cls.settings_class) + "*")],
            ],
        ),
        "",
    ]
    lines += _how_it_maps(cls, docstring(module))
    lines += _capabilities(name, cls, conn, sandbox)
    lines += _settings(name, cls)
    pool = {"[]": conn} if isinstance(conn, Connector) else {}
    lines += _errors(name, cls, sandbox, registry, pool)
    lines += _emulator(name, sandbox)
    for each in pool.values():
        each.close()
    return "\n".join(lines)


def _how_it_maps(cls: type[Connector], module_doc: str) -> list[str]:
    """The section generated from the connector's declared provenance (and its module's notes).

    The tables are the declarations the test kit checks the mapping against, so what the page
    says about a field is what the conformance suite verified.
    """
    lines = ["## How it maps", ""]
    if module_doc:
        lines += [_demote(module_doc), ""]
    found = declared(cls)
    if not found:
        return [
            *lines,
            "This connector declares no provenance (`caudal.provenance`): the page cannot say",
            "where each canonical value comes from.",
            "",
        ]
    for cap, prov in sorted(found.items()):
        record = CAPABILITIES[cap].__name__
        each = "one" if prov.per_item == 1 else str(prov.per_item)
        lines += [
            f"### {cap}: where each value comes from {{ #{cap}-provenance }}",
            "",
            f"Each raw item at {code(prov.items)} gives {each} {code(record)} record"
            f"{'s' * (prov.per_item != 1)}. Declared in the plugin and checked by the",
            "conformance suite (conservation, perturbation, golden examples):",
            "",
            table(
                ["raw field", "transform", "canonical field"],
                [[code(s) if s else "", cell(t), code(f)] for s, t, f in prov.rows()],
            ),
            "",
        ]
        if prov.ignored:
            rows = [[code(i.path.removeprefix("$.")), cell(i.reason)] for i in prov.ignored]
            lines += ["Not carried, on purpose:", "", table(["raw field", "why"], rows), ""]
    return lines


def _demote(text: str) -> str:
    """Docstring text as Markdown below a `##` heading (its own headings pushed down)."""
    return "\n".join(
        ("###" + line[1:]) if line.startswith("#") else line for line in text.split("\n")
    )


def _prefix(settings: type[ConnectorSettings]) -> str:
    return str(settings.model_config.get("env_prefix", ""))


# -- capabilities ------------------------------------------------------------------------------


def _capabilities(
    name: str, cls: type[Connector], conn: Connector | str, sandbox: Sandbox | None
) -> list[str]:
    lines = ["## Capabilities", ""]
    if isinstance(conn, str):
        lines += [cell(conn), ""]
    rows = []
    for cap in sorted(CAPABILITIES):
        if cap not in (conn.capabilities if isinstance(conn, Connector) else ()):
            continue
        operation = conn.operation(cap) if isinstance(conn, Connector) else None
        callbacks = operation.callbacks if operation is not None else False
        paged = operation is not None and operation.next_page is not None
        call = code(f"conn.{cap}(...)") + " / " + code(f"await conn.a{cap}(...)")
        if paged:
            call += " / " + code(f"conn.iter_{cap}(...)") + " / " + code(f"conn.aiter_{cap}(...)")
        rows.append(
            [
                f"[{cap}](#{cap})",
                f"[{CAPABILITIES[cap].__name__}](../reference/model.md#{CAPABILITIES[cap].__name__.lower()})",
                call,
                "yes" if callbacks else "no",
                "yes (`next` links followed, at most `max_pages`)" if paged else "no",
            ]
        )
    lines += [table(["capability", "records", "call", "`callback_url=`", "paged"], rows), ""]
    if isinstance(conn, Connector):
        unsupported = sorted(set(CAPABILITIES) - set(conn.capabilities))
        if unsupported:
            names = " and ".join(code(f"conn.{c}()") for c in unsupported)
            verb = "raises" if len(unsupported) == 1 else "raise"
            lines += [f"{names} {verb} `UnsupportedCapability`, naming what it offers.", ""]
        for cap in sorted(conn.capabilities):
            lines += _capability(name, cls, conn, cap, sandbox)
    return lines


def _hook_doc(cls: type[Connector], cap: str) -> str:
    for klass in cls.__mro__:
        for attr in vars(klass).values():
            opts = getattr(attr, "caudal_impl", None)
            if opts is not None and opts.get("specname") == cap:
                return first_line(attr)
    return ""


def _capability(
    name: str, cls: type[Connector], conn: Connector, cap: str, sandbox: Sandbox | None
) -> list[str]:
    operation = conn.operation(cap)
    params: type[BaseModel] = operation.params
    lines = [f"### {cap} {{ #{cap} }}", ""]
    summary = _hook_doc(cls, cap)
    if summary:
        lines += [cell(summary), ""]
    schema = params.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    lines += [f"**Parameters** ({code(params.__name__)}):", ""]
    doc = docstring(params)
    if doc:
        lines += [doc, ""]
    props = schema.get("properties", {})
    if props:
        rows = []
        for pname, sub in props.items():
            info = params.model_fields[pname]
            rows.append(
                [
                    code(pname),
                    schema_type(sub, lambda ref: code(ref)),
                    "required" if pname in required else default_of(info),
                ]
            )
        lines += [table(["parameter", "type", "default"], rows), ""]
        for ref, sub in defs.items():
            if "properties" in sub:
                fields = ", ".join(
                    f"{code(k)}: {schema_type(v, lambda r: code(r))}"
                    + (" (secret)" if v.get("format") == "password" else "")
                    for k, v in sub["properties"].items()
                )
                text = first_line(type("_", (), {"__doc__": sub.get("description", "")}))
                lines += [f"- {code(ref)}: an object with {fields}. {cell(text)}"]
        if defs:
            lines.append("")
    else:
        lines += ["No parameters.", ""]
    lines += [
        "Unknown or invalid parameters raise `ConfigurationError` before any request is sent.",
        "",
    ]
    if sandbox is not None and name in sandbox.connectors():
        lines += _sample(name, conn, cap, sandbox)
    return lines


def _sample(name: str, conn: Connector, cap: str, sandbox: Sandbox) -> list[str]:
    params = sandbox.call_params(name, cap)
    call = _call(params)
    lines = [
        "Against the sandbox:",
        "",
        "```python",
        f"result = conn.{cap}({call})",
        "```",
        "",
    ]
    try:
        result = conn.call(cap, params)
    except CaudalError as exc:
        return [*lines, f"The sandbox call failed while building these docs: {cell(exc)}", ""]
    if not isinstance(result, Result):
        return lines
    return lines + _filled(cap, result)


def _py(value: Any) -> str:
    return repr(value)


def _call(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_py(v)}" for k, v in params.items())


def _is_filled(value: Any) -> bool:
    return value is not None and value != () and value != {} and value != []


def _filled(cap: str, result: Result[Any]) -> list[str]:
    record = CAPABILITIES[cap]
    items = list(result)
    lines = [
        f"**Canonical fields filled** ({len(items)} {record.__name__} record"
        f"{'s' * (len(items) != 1)} from that sandbox answer):",
        "",
    ]
    if not items:
        return [*lines, "The sandbox answer had no records.", ""]
    rows = []
    for fname in record.model_fields:
        count = sum(_is_filled(getattr(item, fname)) for item in items)
        seen = (
            "always"
            if count == len(items)
            else "never"
            if count == 0
            else f"{count} of {len(items)}"
        )
        rows.append([code(fname), seen, _values_seen(fname, items)])
    lines += [table(["field", "filled", "seen"], rows), ""]
    result_fields = [f for f in ("operation_id", "notes") if _is_filled(getattr(result, f))]
    if result_fields:
        shown = ", ".join(code(f"result.{f}") for f in result_fields)
        lines += [f"The Result also carries {shown}.", ""]
    return lines


def _values_seen(fname: str, items: list[Any]) -> str:
    values = [getattr(item, fname) for item in items]
    if fname == "kind":
        pairs = sorted(
            {
                (str(v.value), str(getattr(i, "provider_kind", "")))
                for v, i in zip(values, items, strict=True)
            }
        )
        return ", ".join(f"{code(k)} from {code(p)}" for k, p in pairs)
    if fname == "references":
        keys = sorted({k for v in values for k in v})
        return ", ".join(code(k) for k in keys)
    if fname in ("amount", "outstanding", "granted", "taxable_income"):
        currencies = sorted({v.currency for v in values if v is not None})
        return ", ".join(code(c) for c in currencies)
    if fname == "as_of":
        kinds = sorted(
            {"date-time with offset" if hasattr(v, "tzinfo") else "date" for v in values}
        )
        return ", ".join(kinds)
    if fname == "breakdown":
        sizes = sorted({len(v) for v in values})
        return f"{', '.join(map(str, sizes))} share(s) per record"
    return ""


# -- settings -----------------------------------------------------------------------------------


def _settings(name: str, cls: type[Connector]) -> list[str]:
    settings = cls.settings_class
    prefix = _prefix(settings)
    notes = attribute_docs(settings)
    common = ConnectorSettings.model_fields
    own: list[list[str]] = []
    shared: list[list[str]] = []
    for fname, info in settings.model_fields.items():
        secret = is_secret(info.annotation)
        row = [
            code(fname),
            code(f"{prefix}{fname.upper()}"),
            code(py_type(info.annotation)),
            default_of(info),
            "**secret**" if secret else "",
            cell(notes.get(fname, "")),
        ]
        inherited = (
            fname in common
            and info.annotation == common[fname].annotation
            and default_of(info) == default_of(common[fname])
        )
        (shared if inherited else own).append(row)
    header = ["setting", "environment variable", "type", "default", "", "notes"]
    lines = ["## Settings", ""]
    doc = docstring(settings)
    if doc:
        lines += [doc, ""]
    lines += [
        f"Keyword arguments to `registry.get({json.dumps(name)}, ...)` override the environment.",
        "Secret settings are `SecretStr`: never in a repr, a log line or an error message.",
        "",
        table(header, own),
        "",
        "Every connector also has the [common settings](../errors.md#common-settings), here:",
        "",
        table(header[:4], [r[:4] for r in shared]),
        "",
    ]
    return lines


# -- errors -------------------------------------------------------------------------------------


def _errors(
    name: str,
    cls: type[Connector],
    sandbox: Sandbox | None,
    registry: Registry,
    pool: dict[str, Connector],
) -> list[str]:
    lines = ["## Errors and retry advice", ""]
    tables = provider_errors.provider_tables(cls, name)
    if tables:
        lines += [tables, ""]
    cases = []
    if sandbox is not None and name in sandbox.connectors():
        cases = [c for c in sandbox.emulator(name).errors if c.connector == name]
    if cases:
        assert sandbox is not None
        lines += [
            "Every documented error the emulator produces, how to ask it for one (what differs",
            "from the sandbox's successful call), and what this connector raised while these",
            "docs were built (one attempt each, no retries):",
            "",
        ]
        rows: dict[tuple[str, ...], list[str]] = {}
        for case in cases:
            observed = _observe(name, registry, sandbox, case, pool)
            usual = sandbox.call_params(name, case.capability)
            changed = {k: v for k, v in case.params.items() if usual.get(k, object()) != v}
            ask = _call(changed)
            if case.settings:
                ask += (", " if ask else "") + "settings " + _call(dict(case.settings))
            key = (code(ask) if ask else "", code(case.code) if case.code else "", *observed)
            rows.setdefault(key, []).append(case.capability)
        header = ["capability", "asked with", "code", "raised", "category", "retry advice"]
        body = [[", ".join(sorted(set(caps))), *key] for key, caps in rows.items()]
        lines += [table(header, body), ""]
    if not tables and not cases:
        lines += [
            "This plugin publishes no error table caudal can read; see its README for the errors",
            "it documents. All of them are `caudal.errors` types (see [errors](../errors.md)).",
            "",
        ]
    lines += [
        "What the runtime does with each retry advice is on the [errors and retries](../errors.md)",
        "page.",
        "",
    ]
    return lines


def _observe(
    name: str, registry: Registry, sandbox: Sandbox, case: ErrorCase, pool: dict[str, Connector]
) -> list[str]:
    key = repr(sorted(case.settings.items()))
    if key not in pool:  # one connector (one connection pool) per distinct settings
        pool[key] = sandbox.connect(name, registry=registry, max_attempts=1, **dict(case.settings))
    try:
        pool[key].call(case.capability, dict(case.params))
    except CaudalError as exc:
        observed = provider_errors.describe_error(exc)
        if not isinstance(exc, case.error):
            observed[0] += f" (the emulator expects {code(case.error.__name__)})"
        return observed
    return ["**no error**", "", ""]


# -- emulator -----------------------------------------------------------------------------------


def _emulator(name: str, sandbox: Sandbox | None) -> list[str]:
    lines = ["## In the sandbox", ""]
    if sandbox is None or name not in sandbox.connectors():
        return [*lines, "This plugin ships no emulator for this connector.", ""]
    emulator = sandbox.emulator(name)
    settings = dict(emulator.settings[name])
    lines += [
        f"The emulator `{emulator.name}` serves this connector under `/{emulator.name}` "
        "(`caudal sandbox serve`, or `caudal.sandbox.serve()` in tests; see",
        "[the sandbox](../sandbox.md)), with these settings:",
        "",
        table(["setting", "value"], [[code(k), code(_py(v))] for k, v in settings.items()]),
        "",
    ]
    challenges = [c for c in emulator.challenges if c.connector == name]
    for case in challenges:
        ask = _call(dict(case.params))
        lines += [
            f"A multi-factor challenge: `conn.{case.capability}({ask})` raises",
            f"`ChallengeRequired`; resume it with the token {code(case.token)}.",
            "",
        ]
    if emulator.cases:
        lines += [
            "Scenarios (the emulator's own list):",
            "",
            table(
                ["case", "how to ask for it"],
                [[cell(k), cell(v)] for k, v in emulator.cases.items()],
            ),
            "",
        ]
    return lines

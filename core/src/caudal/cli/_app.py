"""Commands: list, about, doctor, fetch, resume, bulk, sandbox serve, demo, new."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import IntEnum, StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from .. import registry as default_registry
from ..errors import (
    CaudalError,
    ChallengeRequired,
    ConfigurationError,
    ConnectorBug,
    MappingError,
    PluginError,
    ProviderError,
    TransportError,
)
from ..model import Challenge, Pending, Result
from ..registry import Registry

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["ExitCode", "app", "main"]

app = typer.Typer(
    name="caudal",
    help="Latin-American open-finance APIs as one canonical, exact data model.\n\n"
    "Exit codes: 0 ok, 1 doctor or demo found a broken plugin or a failed step, 2 usage or "
    "configuration, 3 provider error, 4 challenge required, 5 mapping error, 6 transport "
    "error, 7 a bug in caudal or a connector plugin, 8 bulk finished with failed or "
    "challenged inputs, 9 bulk interrupted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich-formatted help imports markdown-it and pygments (about 130 ms),
    # which doubled the time of `caudal --help`. Output tables still use rich.
    rich_markup_mode=None,
)
sandbox_app = typer.Typer(help="The built-in provider emulators.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

# Tables keep their columns when piped (rich assumes 80 columns off a terminal): no pipe
# reader needs a table folded to a width.
_WIDTH = None if sys.stdout.isatty() else 250


@cache
def _out() -> Console:
    # rich loads with the first command that prints (about 40 ms): `--help` never needs it.
    from rich.console import Console

    return Console(width=_WIDTH)


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


class ExitCode(IntEnum):
    """What `caudal fetch` and `caudal resume` exit with, so scripts can branch on it."""

    OK = 0
    USAGE = 2
    PROVIDER = 3
    CHALLENGE = 4
    MAPPING = 5
    TRANSPORT = 6
    BUG = 7
    BULK_INCOMPLETE = 8
    INTERRUPTED = 9


BROKER = "CAUDAL_BROKER_URL"
"""The environment variable naming the celery engine's Redis broker."""


class Engine(StrEnum):
    """Where `caudal bulk` runs the calls."""

    LOCAL = "local"
    CELERY = "celery"


class Pool(StrEnum):
    """How `caudal worker` runs tasks."""

    SOLO = "solo"
    PREFORK = "prefork"


class UnknownConnector(ConfigurationError):
    """A connector name that no installed plugin provides."""


HINTS: list[tuple[type[CaudalError], ExitCode, str]] = [
    (
        ChallengeRequired,
        ExitCode.CHALLENGE,
        "answer it with: caudal resume CHALLENGE.json --token TOKEN",
    ),
    (
        ProviderError,
        ExitCode.PROVIDER,
        "the provider refused the request; see the code and retry advice",
    ),
    (
        MappingError,
        ExitCode.MAPPING,
        "the provider's answer does not fit its documented shape; "
        "rerun with --keep-raw to save the body to a file",
    ),
    (
        TransportError,
        ExitCode.TRANSPORT,
        "check --base-url and the network; the request may be retried",
    ),
    (
        ConnectorBug,
        ExitCode.BUG,
        "a bug in caudal or the connector plugin, not the provider's fault; "
        "rerun with --debug for the traceback and report it",
    ),
    (PluginError, ExitCode.USAGE, "run: caudal doctor"),
    (UnknownConnector, ExitCode.USAGE, "caudal list shows the installed connectors"),
    (
        ConfigurationError,
        ExitCode.USAGE,
        "caudal about NAME lists the settings and parameters",
    ),
    (CaudalError, ExitCode.USAGE, "see --help"),
]


OUTCOMES: list[tuple[ExitCode, str]] = [
    (
        ExitCode.BULK_INCOMPLETE,
        "`caudal bulk`: every input has its outcome, but some ended in an error or a "
        "challenge; see the output file and the summary",
    ),
    (ExitCode.INTERRUPTED, "`caudal bulk` was interrupted: rerun it with --resume"),
]
"""Exit codes that are not an error of the command itself (the exit-code table lists them)."""


def _show(outcome: Result[Any] | Pending, json_output: bool) -> None:
    if json_output:
        _print_json(outcome)
    else:
        from ._render import render_outcome

        render_outcome(_out(), outcome)


def _fail(exc: CaudalError, debug: bool, hint: str | None = None) -> typer.Exit:
    """Print one clear line and a hint (a traceback only with --debug); the exit to raise.

    A challenge goes to stdout as JSON, so `caudal fetch ... > challenge.json` keeps it.
    """
    if isinstance(exc, ChallengeRequired):
        _print_json(exc.challenge)
    code, default_hint = next((c, h) for t, c, h in HINTS if isinstance(exc, t))
    hint = hint or default_hint
    if debug:
        _err().print_exception()
    _err().print(f"[bold red]error:[/] {_escape(str(exc))}")
    if isinstance(exc, ProviderError):
        _err().print(f"[dim]retry advice: {exc.retry.value}[/]")
    if isinstance(exc, MappingError) and exc.body is not None:
        hint = _save_body(exc)
    _err().print(f"[dim]hint: {_escape(hint)}[/]")
    return typer.Exit(int(code))


def _save_body(exc: MappingError) -> str:
    """Write the body a MappingError carries to a new file here (owner-only: it is the end
    user's financial data); the hint that says where."""
    import os
    import tempfile

    assert exc.body is not None
    prefix = f"caudal-{exc.connector or 'body'}-{exc.capability or 'body'}-"
    try:
        fd, path = tempfile.mkstemp(prefix=prefix, suffix=".body", dir=Path.cwd())
        with os.fdopen(fd, "wb") as out:
            out.write(exc.body)
    except OSError as failed:
        return f"could not save the provider's body here: {failed.strerror or failed}"
    cut = "" if exc.body_size == len(exc.body) else f", the first {len(exc.body)}"
    name = Path(path).name
    return f"the provider's body ({exc.body_size} bytes{cut}) is in {name}; look at {exc.path}"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a value starting with `{` or `[` is JSON, anything else stays a string.

    Strings stay strings so that `account_number=0012` keeps its leading zeros.
    """
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--param takes key=value, got {pair!r}")
        if value[:1] in "{[" and value:
            params[key] = _json_value(key, value)
        else:
            params[key] = value
    return params


MAX_JSON_DEPTH = 32
"""Nesting a `-p` / `-s` JSON value may have; no parameter needs more than a few levels."""


def _json_value(key: str, value: str) -> Any:
    depth = deepest = 0
    in_string = escaped = False
    for char in value:  # counted before decoding: a deep value never reaches the parser
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "}]":
            depth -= 1
    if deepest > MAX_JSON_DEPTH:
        raise ConfigurationError(
            f"{key}: JSON nested {deepest} levels deep; at most {MAX_JSON_DEPTH} are accepted"
        )
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{key}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ConfigurationError(f"{key}: JSON nested too deeply") from None


def _known(name: str) -> None:
    """An unknown connector name is a usage error listing the installed ones."""
    if name not in default_registry:
        known = ", ".join(default_registry.names()) or "none installed"
        raise UnknownConnector(f"no such connector {name!r} (installed: {known})")


@contextmanager
def _sandbox(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from ..sandbox import serve

    with serve() as running:
        yield running


@contextmanager
def _progress(label: str, json_output: bool) -> Iterator[Callable[[str], None]]:
    """A spinner only for a person watching (pipes and --json get clean output); what it
    yields updates the spinner's text (pages arriving)."""
    if json_output or not _err().is_terminal:
        with nullcontext():
            yield lambda _: None
        return
    with _err().status(label, spinner="dots") as status:
        yield lambda text: status.update(text)


def _fetched(
    conn: Any,
    capability: str,
    params: dict[str, Any],
    callback_url: str | None,
    keep_raw: bool,
    say: Callable[[str], None],
) -> Result[Any] | Pending:
    """The call's outcome; a paged answer page by page, the spinner counting them."""
    if callback_url is not None or conn.operation(capability).next_page is None:
        outcome: Result[Any] | Pending = conn.call(
            capability, params, callback_url=callback_url, keep_raw=keep_raw
        )
        return outcome
    from ..runtime._pages import gather

    pages: list[Result[Any]] = []
    records = 0
    for page in conn.pages(capability, keep_raw=keep_raw, **params):
        pages.append(page)
        records += len(page)
        say(f"{conn.name} {capability}: {len(pages)} page(s), {records} record(s) so far")
    return gather(pages)


def _print_json(model: Result[Any] | Pending | Challenge) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


Debug = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _version(distribution: str | None) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    if not distribution:
        return None
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


@app.command("list")
def list_(json_output: JsonOut = False) -> None:
    """List installed connectors without importing them; a plugin that cannot load is marked.

    Example: caudal list
    """
    from ._table import columns

    registry = default_registry
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        try:
            about = registry.about(name)  # a module that is not installed: a PluginError
            rows.append(
                {
                    "name": name,
                    "capabilities": list(about.capabilities),
                    "distribution": about.distribution,
                    "version": about.version,
                    "status": "ok",
                }
            )
        except PluginError as exc:
            rows.append(
                {
                    "name": name,
                    "capabilities": [],
                    "distribution": exc.distribution,
                    "version": _version(exc.distribution),
                    "status": f"{exc.status}: {exc.reason}",
                }
            )
    if json_output:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    header = ("name", "capabilities", "distribution", "version", "status")
    table = [
        (r["name"], ", ".join(r["capabilities"]), r["distribution"], r["version"], r["status"])
        for r in rows
    ]
    sys.stdout.write(columns(header, table) + "\n")
    if any(r["status"] != "ok" for r in rows):
        sys.stdout.write("a plugin is broken: caudal doctor says why\n")


@app.command()
def about(name: str, json_output: JsonOut = False) -> None:
    """Show a connector: its manifest, its settings (environment variables, defaults, which
    are secret) and each capability's parameters.

    Example: caudal about afc.cl   or   caudal about afc.cl --json
    """
    from ._describe import describe
    from ._table import columns

    try:
        _known(name)
        manifest = default_registry.about(name)
        details = describe(default_registry, name)
    except CaudalError as exc:
        raise _fail(exc, False) from None
    if json_output:
        sys.stdout.write(_about_json(name, manifest.model_dump(mode="json")) + "\n")
        return
    rows = [
        (field, ", ".join(value) if isinstance(value, tuple | list) else value)
        for field, value in manifest.model_dump().items()
        if field != "name"
    ]
    sys.stdout.write(columns(("connector", name), rows) + "\n\n" + details + "\n")


def _about_json(name: str, manifest: dict[str, Any]) -> str:
    from dataclasses import asdict

    from .._explain import parameter_fields, setting_fields
    from ._describe import _examples, offline

    connector = default_registry.load(name)
    instance = offline(connector)
    examples = _examples(name)
    params = {
        cap: [
            asdict(f) for f in parameter_fields(instance.operation(cap).params, examples.get(cap))
        ]
        for cap in manifest["capabilities"]
    }
    settings = [asdict(f) for f in setting_fields(connector.settings_class)]
    return json.dumps({**manifest, "settings": settings, "parameters": params}, indent=2)


@app.command()
def doctor(json_output: JsonOut = False) -> None:
    """Load every plugin and report its state; exits 1 if any is broken.

    Example: caudal doctor
    """
    from ._table import columns

    report = Registry().doctor()
    if json_output:
        sys.stdout.write(json.dumps([s.model_dump() for s in report], indent=2) + "\n")
    else:
        header = ("name", "kind", "capabilities", "distribution", "version", "status")
        rows = [
            (
                s.name,
                s.kind,
                ", ".join(s.capabilities),
                s.distribution,
                s.version,
                s.status if s.status == "ok" else f"{s.status}: {s.reason}",
            )
            for s in report
        ]
        sys.stdout.write(columns(header, rows) + "\n")
    if any(s.status != "ok" for s in report):
        raise typer.Exit(1)


class _ConnectorHelp(TyperCommand):
    """`caudal fetch NAME CAPABILITY --help` adds that connector's settings and parameters.

    click answers `--help` before it binds the arguments, so the positional ones are picked out
    of the raw arguments here (skipping the values of options that take one).
    """

    # typer's own copy of click: its types are private, and Any keeps the overrides exact.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if any(a in ctx.help_option_names for a in args):
            valued = {
                o
                for p in self.params
                if p.param_type_name == "option" and not getattr(p, "is_flag", False)
                for o in p.opts
            }
            positional, skip = [], False
            for arg in args:
                if skip:
                    skip = False
                elif arg in valued:
                    skip = True
                elif not arg.startswith("-"):
                    positional.append(arg)
            ctx.meta["caudal.positional"] = positional
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        super().format_help(ctx, formatter)
        positional = ctx.meta.get("caudal.positional") or []
        if not positional:
            return
        from ._describe import describe

        name, capabilities = positional[0], positional[1:2] or None
        try:
            _known(name)
            text = describe(default_registry, name, capabilities)
        except CaudalError as exc:
            text = f"{exc}"
        formatter.write("\n" + text + "\n")


@app.command(cls=_ConnectorHelp)
def fetch(
    name: Annotated[str, typer.Argument(help="Connector name, e.g. afc.cl")],
    capability: Annotated[
        str, typer.Argument(help="e.g. balance, transactions (caudal about NAME lists them)")
    ],
    param: Annotated[
        list[str],
        typer.Option(
            "--param", "-p", help="Call parameter key=value (repeatable); {...} values are JSON."
        ),
    ] = [],  # noqa: B006
    setting: Annotated[
        list[str],
        typer.Option(
            "--setting",
            "-s",
            help="Connector setting key=value (repeatable); or env CAUDAL_<PROVIDER>_<KEY>.",
        ),
    ] = [],  # noqa: B006
    base_url: Annotated[
        str | None, typer.Option(help="Provider base URL (overrides the setting).")
    ] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Start the built-in emulators and talk to them.")
    ] = False,
    keep_raw: Annotated[
        bool,
        typer.Option(
            "--keep-raw",
            help="Keep the provider's raw body: in the result (JSON output), and in a file "
            "here when the body cannot be mapped.",
        ),
    ] = False,
    callback_url: Annotated[
        str | None, typer.Option(help="Ask for asynchronous delivery to this URL.")
    ] = None,
    json_output: JsonOut = False,
    debug: Debug = False,
) -> None:
    """Fetch one capability from one connector and print canonical records.

    `caudal fetch NAME CAPABILITY --help` lists that connector's settings and the capability's
    parameters.

    \b
    Example: caudal fetch afc.cl balance --sandbox
    Example: caudal fetch bancosecurity.cl balance -p account_number=0011887755 \\
               -p credential='{"Username": "u", "Password": "p"}'

    Exit codes: 0 ok, 2 usage or configuration, 3 provider error, 4 challenge required
    (the challenge is printed as JSON for `caudal resume`), 5 mapping error, 6 transport error,
    7 a bug in caudal or the connector plugin.
    """
    try:
        _known(name)
        params, settings = _params(param), _params(setting)
        if base_url:
            settings["base_url"] = base_url
        with _sandbox(sandbox) as running:
            if running is not None:
                settings = {**running.settings(name), **settings}
                params = {**running.call_params(name, capability), **params}
            conn = default_registry.get(name, **settings)
            label = f"{name} {capability}: waiting for the provider"
            with conn, _progress(label, json_output) as say:
                outcome = _fetched(conn, capability, params, callback_url, keep_raw, say)
    except CaudalError as exc:
        raise _fail(exc, debug) from None
    _show(outcome, json_output)


@app.command()
def resume(
    challenge_file: Annotated[
        str, typer.Argument(help="File with the challenge JSON ('-' for stdin).")
    ],
    token: Annotated[
        str | None,
        typer.Option(help="The end user's one-time token (asked for on the terminal if left out)."),
    ] = None,
    setting: Annotated[
        list[str], typer.Option("--setting", "-s", help="Connector setting key=value.")
    ] = [],  # noqa: B006
    base_url: Annotated[str | None, typer.Option(help="Provider base URL.")] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Talk to the built-in emulators.")
    ] = False,
    json_output: JsonOut = False,
    debug: Debug = False,
) -> None:
    """Answer a multi-factor challenge printed by `caudal fetch` (exit code 4).

    \b
    Example: caudal fetch belvo.br balance -p link=LINK --sandbox > challenge.json
    then caudal resume challenge.json --token 123456 --sandbox
    """
    try:
        challenge = _read_challenge(challenge_file)
        if token is None:
            # On stderr, so that `--json` output on stdout stays JSON.
            token = str(typer.prompt("token", hide_input=True, err=True))
        settings = _params(setting)
        if base_url:
            settings["base_url"] = base_url
        with _sandbox(sandbox) as running:
            if running is not None:
                settings = {**running.settings(challenge.connector), **settings}
            with default_registry.get(challenge.connector, **settings) as conn:
                outcome = conn.resume(challenge, token)
    except CaudalError as exc:
        raise _fail(exc, debug) from None
    _show(outcome, json_output)


MAX_CHALLENGE_BYTES = 1024 * 1024
"""A challenge file is a few hundred bytes; anything far larger is not one."""


def _read_challenge(source: str) -> Challenge:
    try:
        if source == "-":
            text = sys.stdin.read(MAX_CHALLENGE_BYTES + 1)
        else:
            with Path(source).open(encoding="utf-8") as file:
                text = file.read(MAX_CHALLENGE_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the challenge file {source}: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{source} is not a text file holding a challenge") from None
    if len(text) > MAX_CHALLENGE_BYTES:
        raise ConfigurationError(f"{source} is larger than a challenge can be")
    try:
        return Challenge.model_validate_json(text)
    except ValueError:
        raise ConfigurationError(
            f"{source} does not hold a challenge (the JSON `caudal fetch` printed with exit code 4)"
        ) from None


@app.command()
def bulk(
    name: Annotated[str, typer.Argument(help="Connector name, e.g. afc.cl")],
    capability: Annotated[str, typer.Argument(help="balance, contributions or loans")],
    input_file: Annotated[
        Path, typer.Option("--input", help='JSONL file, one {"id": ..., "params": {...}} a line.')
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Outcomes: a .jsonl file or a .sqlite database.")
    ],
    rate: Annotated[
        float | None,
        typer.Option(help="At most this many calls per second to the provider.", min=0.0001),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(help="Calls in flight at most (local engine; workers set their own).", min=1),
    ] = 8,
    max_attempts: Annotated[
        int, typer.Option(help="Attempts per input, retried by the error's advice.", min=1)
    ] = 5,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue a killed run: skip what --out holds.")
    ] = False,
    setting: Annotated[
        list[str],
        typer.Option("--setting", "-s", help="Connector setting key=value (repeatable)."),
    ] = [],  # noqa: B006
    base_url: Annotated[str | None, typer.Option(help="Provider base URL.")] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Start the built-in emulators and talk to them.")
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(
            help="local: asyncio in this process; celery: tasks for `caudal worker` processes."
        ),
    ] = Engine.LOCAL,
    broker: Annotated[
        str | None,
        typer.Option(help="Redis URL of the celery engine's broker and job store.", envvar=BROKER),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    debug: Debug = False,
) -> None:
    """Run one capability over every input of a JSONL file, within a rate limit, writing one
    outcome per input id; a killed run continues with --resume.

    Settings come from the environment as for `caudal fetch`; every retry is the engine's
    (the connector's own max_attempts is 1 unless set with -s).

    \b
    Example: caudal bulk afc.cl balance --input accounts.jsonl --out balances.jsonl \\
               --rate 5 --concurrency 16

    Exit codes: 0 every input ok, 2 usage or configuration, 7 some inputs ended in an error or
    a challenge, 8 interrupted (rerun with --resume).
    """
    from ._bulk import celery_command, local_command, print_summary

    console = None if json_output or not _err().is_terminal else _err()
    options: dict[str, Any] = {
        "rate": rate,
        "max_attempts": max_attempts,
        "resume": resume,
        "console": console,
    }
    try:
        _known(name)
        if engine is Engine.CELERY:
            if setting or base_url:
                raise ConfigurationError(
                    "with --engine celery the workers read the connector's settings from "
                    "their own environment: -s and --base-url would not reach them"
                )
            summary = celery_command(name, capability, input_file, out, broker, sandbox, **options)
        else:
            settings = {"max_attempts": 1, **_params(setting)}  # every retry is the engine's
            if base_url:
                settings["base_url"] = base_url
            summary = local_command(
                name, capability, input_file, out, settings, sandbox, concurrency, **options
            )
    except CaudalError as exc:
        raise _fail(exc, debug) from None
    except KeyboardInterrupt:
        _err().print("[bold red]interrupted:[/] what was written stays written")
        _err().print(f"[dim]hint: {_escape(OUTCOMES[1][1])}[/]")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    print_summary(summary, json_output)
    if summary.done != summary.ok:
        raise typer.Exit(int(ExitCode.BULK_INCOMPLETE))


@app.command()
def worker(
    broker: Annotated[
        str, typer.Option(help="Redis URL of the broker and job store.", envvar=BROKER)
    ],
    concurrency: Annotated[int, typer.Option(help="Tasks at once (prefork pool).", min=1)] = 1,
    pool: Annotated[
        Pool,
        typer.Option(
            help="solo: one task at a time in this process; prefork: --concurrency processes."
        ),
    ] = Pool.SOLO,
    node: Annotated[
        str | None, typer.Option("--name", help="Worker node name (default celery@HOST).")
    ] = None,
) -> None:
    """Run a Celery worker for `caudal bulk --engine celery` jobs on this broker.

    Connector settings come from this process's environment, as for `caudal fetch`.

    \b
    Example: caudal worker --broker redis://127.0.0.1:6379/0
    """
    try:
        from ..bulk import celery_app
        from ..bulk._celery import QUEUE

        application = celery_app(broker)
    except CaudalError as exc:
        raise _fail(exc, False) from None
    named = [f"--hostname={node}"] if node else []
    application.worker_main(
        [
            "worker",
            *named,
            f"--pool={pool.value}",
            f"--concurrency={concurrency}",
            "-Q",
            QUEUE,
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.", min=1, max=65535)] = 8787,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve every installed emulator in the foreground until Ctrl-C.

    \b
    Example: caudal sandbox serve --port 8787, then
    caudal fetch belvo.br balance --base-url http://127.0.0.1:8787/belvo -p link=...
    """
    import uvicorn

    from ..sandbox import Sandbox, load_emulators
    from ..sandbox import app as sandbox_asgi

    emulators = load_emulators()
    sandbox = Sandbox(url=f"http://{host}:{port}", emulators=emulators)
    _out().print("[bold]Point the connectors at this sandbox[/] (in another shell):")
    for variable, value in sandbox.environment().items():
        _out().print(_escape(f"export {variable}={value}"), soft_wrap=True)
    for emulator in emulators:
        _out().print(
            f"\n[bold]{emulator.name}[/] at {sandbox.url}/{emulator.name}"
            f" serves {', '.join(emulator.settings)}; scenarios:"
        )
        for case, how in emulator.cases.items():
            _out().print(f"  [dim]{case}:[/] {_escape(how)}")
    try:
        _check_free(host, port)
    except OSError as exc:
        problem = ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise _fail(problem, False) from None
    uvicorn.run(sandbox_asgi(emulators), host=host, port=port, log_level="info")


def _check_free(host: str, port: int) -> None:
    """Bind once before uvicorn does: its own failure is a log line and exit code 1."""
    import socket

    with socket.create_server((host, port)):
        pass


@app.command()
def new(
    name: Annotated[
        str, typer.Argument(help="Connector name: the institution's domain, e.g. acme.mx")
    ],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create the project.")] = Path(),
) -> None:
    """Scaffold a connector project that passes its own conformance tests.

    \b
    Example: caudal new acme.mx --dir ~/src, then
    cd ~/src/caudal-acme-mx && pip install -e '.[testing]' && pytest
    """
    from ..scaffold import create

    try:
        try:
            root = create(name, directory)
        except OSError as exc:
            raise ConfigurationError(f"cannot create the project: {exc.strerror or exc}") from None
    except CaudalError as exc:
        raise _fail(exc, False, hint="see caudal new --help") from None
    _out().print(f"created [bold]{root}[/]")
    _out().print(_escape(f"next: cd {root} && pip install -e '.[testing]' && pytest"))


@app.command()
def demo(json_output: JsonOut = False) -> None:
    """Tour every installed connector against the built-in sandbox (what `make demo` runs).

    Fetches every capability of every connector, walks one asynchronous request through the
    webhook app and one multi-factor challenge, then prints a one-line summary.

    Example: caudal demo   or   caudal demo --json
    """
    from ..sandbox import tour

    with _progress("touring the sandbox", json_output):
        report = tour()
    if json_output:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        from ._render import render_tour

        render_tour(_out(), report)
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the `caudal` script."""
    app()

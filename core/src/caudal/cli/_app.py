"""Commands: list, about, doctor, fetch, resume, sandbox serve, demo, new."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .. import registry as default_registry
from ..errors import (
    CaudalError,
    ChallengeRequired,
    ConfigurationError,
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
    help="Latin-American open-finance APIs as one canonical, exact data model.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: rich-formatted help imports markdown-it and pygments (about 130 ms),
    # which doubled the time of `caudal --help`. Output tables still use rich.
    rich_markup_mode=None,
)
sandbox_app = typer.Typer(help="The built-in provider emulators.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")

# Tables keep their columns when piped (rich assumes 80 columns off a terminal).
_WIDTH = None if sys.stdout.isatty() else 140


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
        "the provider's answer does not fit its documented shape; rerun with --keep-raw --debug",
    ),
    (
        TransportError,
        ExitCode.TRANSPORT,
        "check --base-url and the network; the request may be retried",
    ),
    (PluginError, ExitCode.USAGE, "run: caudal doctor"),
    (ConfigurationError, ExitCode.USAGE, "see --help for settings and parameters"),
    (CaudalError, ExitCode.USAGE, "see --help"),
]


def _show(outcome: Result[Any] | Pending, json_output: bool) -> None:
    if json_output:
        _print_json(outcome)
    else:
        from ._render import render_outcome

        render_outcome(_out(), outcome)


def _fail(exc: CaudalError, debug: bool) -> typer.Exit:
    """Print one clear line and a hint (a traceback only with --debug); the exit to raise.

    A challenge goes to stdout as JSON, so `caudal fetch ... > challenge.json` keeps it.
    """
    if isinstance(exc, ChallengeRequired):
        _print_json(exc.challenge)
    code, hint = next((c, h) for t, c, h in HINTS if isinstance(exc, t))
    if debug:
        _err().print_exception()
    _err().print(f"[bold red]error:[/] {_escape(str(exc))}")
    if isinstance(exc, ProviderError):
        _err().print(f"[dim]retry advice: {exc.retry.value}[/]")
    _err().print(f"[dim]hint: {hint}[/]")
    return typer.Exit(int(code))


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
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ConfigurationError(f"--param {key}: not valid JSON ({exc.msg})") from None
        else:
            params[key] = value
    return params


@contextmanager
def _sandbox(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from ..sandbox import serve

    with serve() as running:
        yield running


@contextmanager
def _progress(label: str, json_output: bool) -> Iterator[None]:
    # A spinner only for a person watching; pipes and --json get clean output.
    if json_output or not _err().is_terminal:
        with nullcontext():
            yield
        return
    with _err().status(label, spinner="dots"):
        yield


def _print_json(model: Result[Any] | Pending | Challenge) -> None:
    sys.stdout.write(model.model_dump_json(indent=2) + "\n")


Debug = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


@app.command("list")
def list_(json_output: JsonOut = False) -> None:
    """List installed connectors without importing them.

    Example: caudal list
    """
    registry = default_registry
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        try:
            about = registry.about(name)
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
                    "version": None,
                    "status": f"{exc.status}: {exc.reason}",
                }
            )
    if json_output:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    # Plain columns, as `pip list` prints them: `list` is the command meant to be instant (it
    # imports no plugin), and rich's table would add a third to its start-up.
    header = ("name", "capabilities", "distribution", "version", "status")
    cells = [header] + [
        (
            row["name"],
            ", ".join(row["capabilities"]) or "-",
            row["distribution"] or "-",
            row["version"] or "-",
            row["status"],
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    for line in cells:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        sys.stdout.write("\n")


@app.command()
def about(name: str, json_output: JsonOut = False) -> None:
    """Show a connector's manifest (capabilities, distribution, version).

    Example: caudal about afc.cl --json
    """
    try:
        manifest = default_registry.about(name)
    except CaudalError as exc:
        raise _fail(exc, False) from None
    if json_output:
        sys.stdout.write(manifest.model_dump_json(indent=2) + "\n")
        return
    for field, value in manifest.model_dump().items():
        shown = ", ".join(value) if isinstance(value, tuple | list) else value
        _out().print(f"[bold]{field}[/]: {shown if shown not in (None, '') else '-'}")


@app.command()
def doctor(json_output: JsonOut = False) -> None:
    """Load every plugin and report its state; exits 1 if any is broken.

    Example: caudal doctor
    """
    report = Registry().doctor()
    if json_output:
        sys.stdout.write(json.dumps([s.model_dump() for s in report], indent=2) + "\n")
    else:
        from rich.table import Table

        table = Table(
            "plugin",
            "kind",
            "status",
            "distribution",
            "version",
            "capabilities",
            "reason",
            title="caudal doctor",
            title_justify="left",
        )
        for s in report:
            style = "green" if s.status == "ok" else "red"
            table.add_row(
                s.name,
                s.kind,
                f"[{style}]{s.status}[/]",
                s.distribution or "",
                s.version or "",
                ", ".join(s.capabilities),
                _escape(s.reason or ""),
            )
        _out().print(table)
    if any(s.status != "ok" for s in report):
        raise typer.Exit(1)


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="Connector name, e.g. afc.cl")],
    capability: Annotated[str, typer.Argument(help="balance, contributions or loans")],
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
            "--keep-raw", help="Keep the provider's raw body in the result (JSON output)."
        ),
    ] = False,
    callback_url: Annotated[
        str | None, typer.Option(help="Ask for asynchronous delivery to this URL.")
    ] = None,
    json_output: JsonOut = False,
    debug: Debug = False,
) -> None:
    """Fetch one capability from one connector and print canonical records.

    \b
    Example: caudal fetch afc.cl balance --sandbox
    Example: caudal fetch bancosecurity.cl balance -p account_number=0011887755 \\
               -p credential='{"Username": "u", "Password": "p"}'

    Exit codes: 0 ok, 2 usage or configuration, 3 provider error, 4 challenge required
    (the challenge is printed as JSON for `caudal resume`), 5 mapping error, 6 transport error.
    """
    try:
        params, settings = _params(param), _params(setting)
        if base_url:
            settings["base_url"] = base_url
        with _sandbox(sandbox) as running:
            if running is not None:
                settings = {**running.settings(name), **settings}
                params = {**running.call_params(name, capability), **params}
            conn = default_registry.get(name, **settings)
            with conn, _progress(f"{name} {capability}: waiting for the provider", json_output):
                outcome = conn.call(
                    capability, params, callback_url=callback_url, keep_raw=keep_raw
                )
    except CaudalError as exc:
        raise _fail(exc, debug) from None
    _show(outcome, json_output)


@app.command()
def resume(
    challenge_file: Annotated[
        str, typer.Argument(help="File with the challenge JSON ('-' for stdin).")
    ],
    token: Annotated[
        str, typer.Option(help="The end user's one-time token.", prompt=True, hide_input=True)
    ],
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
        text = (
            sys.stdin.read()
            if challenge_file == "-"
            else Path(challenge_file).read_text(encoding="utf-8")
        )
        try:
            challenge = Challenge.model_validate_json(text)
        except ValueError as exc:
            raise ConfigurationError(f"{challenge_file} does not hold a challenge: {exc}") from None
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


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8787,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Serve every installed emulator in the foreground until Ctrl-C.

    \b
    Example: caudal sandbox serve --port 8787, then
    caudal fetch belvo.br balance --base-url http://127.0.0.1:8787/belvo -p link=...
    """
    import uvicorn

    from ..sandbox import app as sandbox_asgi
    from ..sandbox import load_emulators

    emulators = load_emulators()
    for emulator in emulators:
        _out().print(
            f"[bold]{emulator.name}[/] at http://{host}:{port}/{emulator.name}"
            f" serves {', '.join(emulator.settings)}"
        )
        for case, how in emulator.cases.items():
            _out().print(f"  [dim]{case}:[/] {_escape(how)}")
    uvicorn.run(sandbox_asgi(emulators), host=host, port=port, log_level="info")


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
        root = create(name, directory)
    except CaudalError as exc:
        raise _fail(exc, False) from None
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

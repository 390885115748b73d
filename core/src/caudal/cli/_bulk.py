"""`caudal bulk`: the embedded engine behind a progress bar and a summary."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..bulk import BulkInput, RateLimit, Retries, Summary, count_inputs, open_sink, read_jsonl
from ..bulk import run as run_bulk
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from rich.console import Console

    from ..connector import Connector

__all__ = [
    "celery_command",
    "inputs_with_defaults",
    "local_command",
    "print_summary",
    "progress",
    "run_celery",
    "run_local",
]


def inputs_with_defaults(path: Path, defaults: dict[str, Any]) -> Iterator[BulkInput]:
    """The file's inputs, each input's own parameters over `defaults` (the sandbox's)."""
    for item in read_jsonl(path):
        yield BulkInput(item.id, {**defaults, **item.params}) if defaults else item


@contextmanager
def progress(console: Console | None, total: int) -> Iterator[Any]:
    """A progress bar on stderr (done, failed, rate, ETA) when a person watches; a no-op
    callback when stderr is a pipe or the output is JSON."""
    if console is None:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("bulk"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}, challenges {task.fields[challenges]}"),
        TextColumn("{task.fields[rate]:.1f} calls/s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("bulk", total=total, failed=0, challenges=0, rate=0.0)

        def update(summary: Summary) -> None:
            bar.update(
                task,
                completed=summary.done + summary.skipped,
                failed=sum(summary.failed.values()),
                challenges=summary.challenges,
                rate=summary.rate,
            )

        yield update


def run_local(
    conn: Connector,
    capability: str,
    source: Path,
    out: Path,
    *,
    defaults: dict[str, Any],
    rate: float | None,
    concurrency: int,
    max_attempts: int,
    resume: bool,
    console: Console | None,
) -> Summary:
    """Check every input line, then run them all through the embedded engine into `out`."""
    total = count_inputs(source)
    with closing(open_sink(out, resume=resume)) as sink, progress(console, total) as update:
        return run_bulk(
            conn,
            capability,
            inputs_with_defaults(source, defaults),
            sink,
            rate=RateLimit(rate) if rate else None,
            concurrency=concurrency,
            retries=Retries(max_attempts=max_attempts),
            total=total,
            on_progress=update,
        )


def run_celery(
    name: str,
    capability: str,
    source: Path,
    out: Path,
    *,
    broker: str,
    rate: float | None,
    max_attempts: int,
    resume: bool,
    console: Console | None,
) -> Summary:
    """Queue every input for `caudal worker` processes on `broker`, wait, then write `out`.

    The job is named after the output file, so `--resume` finds a killed run's job again.
    """
    from ..bulk import Job, job_id, run_on_celery

    total = count_inputs(source)
    job = Job(
        job=job_id(name, capability, str(out.resolve())),
        connector=name,
        capability=capability,
        rate=rate,
        max_attempts=max_attempts,
    )
    with closing(open_sink(out, resume=resume)) as sink, progress(console, total) as update:
        return run_on_celery(
            job, broker, read_jsonl(source), sink, resume=resume, total=total, on_progress=update
        )


def print_summary(summary: Summary, json_output: bool) -> None:
    data = summary.as_dict()
    if json_output:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    failed = ", ".join(f"{k} {v}" for k, v in data["failed"].items()) or "none"
    sys.stdout.write(
        f"done {data['done']} (ok {data['ok']}; failed: {failed}; challenges pending "
        f"{data['challenges_pending']}); skipped as already done {data['skipped_already_done']}; "
        f"duplicate ids {data['duplicate_ids']}\n"
        f"{data['calls']} calls in {data['elapsed_seconds']:.1f}s ({data['achieved_rate']:.2f}/s)"
        f", {data['retries']} retries, {data['rate_limit_waits']} waits for the rate limit\n"
    )


def local_command(
    name: str,
    capability: str,
    input_file: Path,
    out: Path,
    settings: dict[str, Any],
    sandbox: bool,
    concurrency: int,
    **options: Any,
) -> Summary:
    """`caudal bulk` with the embedded engine (the sandbox's settings and parameters first)."""
    from .. import registry as default_registry
    from ._app import _sandbox

    with _sandbox(sandbox) as running:
        defaults: dict[str, Any] = {}
        if running is not None:
            settings = {**running.settings(name), **settings}
            defaults = running.call_params(name, capability)
        with default_registry.get(name, **settings) as conn:
            return run_local(
                conn,
                capability,
                input_file,
                out,
                defaults=defaults,
                concurrency=concurrency,
                **options,
            )


def celery_command(
    name: str,
    capability: str,
    input_file: Path,
    out: Path,
    broker: str | None,
    sandbox: bool,
    **options: Any,
) -> Summary:
    """`caudal bulk --engine celery`: what cannot reach the workers is refused first."""
    from ._app import BROKER

    if broker is None:
        raise ConfigurationError(f"--engine celery needs --broker redis://... (or {BROKER})")
    if sandbox:
        raise ConfigurationError(
            "--sandbox starts emulators in this process, which the workers cannot reach: run "
            "caudal sandbox serve and point the workers at it"
        )
    return run_celery(name, capability, input_file, out, broker=broker, **options)

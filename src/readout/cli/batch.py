"""`readout batch`, `readout failures` and `readout export`: thin wrappers over the library."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ..batch import BatchEvent, BatchReport, run_batch
from ..exporting import DIRECTORY_FORMATS, EXPORTERS, export
from ..store import LockedError, Store, default_db_path
from . import cli
from .core import BASE_URL_OPTION, ENGINE_OPTION, MODEL_OPTION, note_engine_choice

DB_OPTION = click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database (env READOUT_DB; default: readout.db in the user data directory).",
)


def _db(db: Path | None) -> Path:
    return db if db is not None else default_db_path()


def _positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter("must be at least 1")
    return value


def _failure_line(event: BatchEvent) -> str:
    """`name: message`, without repeating the name when the message starts with it."""
    if event.message.startswith(event.name):
        return event.message
    return f"{event.name}: {event.message}"


@contextmanager
def _quiet_broken_pipe() -> Iterator[None]:
    """`readout export ... | head`: when the reader goes away, stop writing and exit 0 quietly.

    stdout is pointed at /dev/null so that the interpreter's final flush cannot fail again.
    """
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # no real file descriptor (e.g. under a test runner)
            pass
        sys.exit(0)


@contextmanager
def _progress_reporter() -> Iterator[object]:
    """A rich progress bar when stderr is a terminal, else one plain log line per document."""
    err = Console(stderr=True)
    if err.is_terminal:
        bar = Progress(
            TextColumn("[bold]batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "done {task.fields[done]} · skipped {task.fields[skipped]}"
                " · failed {task.fields[failed]}"
            ),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=False,
        )
        task = None

        def on_event(event: BatchEvent) -> None:
            nonlocal task
            r = event.report
            if task is None:
                task = bar.add_task("batch", total=r.total or None, done=0, skipped=0, failed=0)
            bar.update(
                task,
                completed=r.seen,
                done=r.done,
                skipped=r.skipped + r.skipped_failed,
                failed=r.failed,
            )
            if event.status == "failed":
                bar.console.print(
                    f"[red]failed[/red] {escape(_failure_line(event))}",
                    markup=True,
                    highlight=False,
                )

        with bar:
            yield on_event
    else:
        last_skip_note = [0.0]

        def on_event(event: BatchEvent) -> None:
            r = event.report
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            where = f"[{r.seen}/{r.total}]"
            if event.status == "done":
                line = f"{stamp} readout batch: {where} done {event.name}"
            elif event.status == "failed":
                line = f"{stamp} readout batch: {where} failed {_failure_line(event)}"
            else:
                # skips are not news: at most one line every 10 s
                now = time.monotonic()
                if now - last_skip_note[0] < 10:
                    return
                last_skip_note[0] = now
                line = (
                    f"{stamp} readout batch: {where} skipping documents already done "
                    f"({r.skipped} so far)"
                )
            click.echo(line, err=True)

        yield on_event


def _print_report(report: BatchReport, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    skipped = f"{report.skipped + report.skipped_failed}"
    if report.skipped_failed:
        skipped += f" ({report.skipped_failed} failed earlier: --retry-failed retries them)"
    lines = [
        f"database:  {report.db}",
        f"engine:    {report.engine}" + (f" ({report.model})" if report.model else ""),
        f"done:      {report.done}",
        f"skipped:   {skipped}",
        f"failed:    {report.failed}" + _failed_note(report),
        f"tokens:    {report.tokens:,} ({report.requests} requests)",
        f"wall time: {report.wall_s:.2f} s",
        f"docs/s:    {report.docs_per_s:.1f}",
    ]
    if report.limited:
        lines.append("stopped at --limit; run again for the rest")
    click.echo("\n".join(lines))


def _failed_note(report: BatchReport) -> str:
    if not report.failed:
        return ""
    if not report.no_text:
        return "  (see `readout failures`)"
    return (
        f"  (see `readout failures`; {report.no_text} not retried: no stored text; fix the "
        "input and run `readout batch --retry-failed INPUT...`)"
    )


@cli.command("batch")
@click.argument("inputs", nargs=-1, required=False, metavar="[INPUT...]")
@DB_OPTION
@ENGINE_OPTION
@MODEL_OPTION
@BASE_URL_OPTION
@click.option(
    "--concurrency",
    type=int,
    default=4,
    show_default=True,
    callback=_positive,
    help="Documents in flight at once (LLM engine; the offline engine runs one at a time).",
)
@click.option(
    "--limit", type=int, callback=_positive, help="Attempt at most N new documents in this run."
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Retry only the documents that failed before; without INPUT, from the stored texts.",
)
@click.option(
    "--rpm", type=int, callback=_positive, help="At most N requests per minute (LLM engine)."
)
@click.option(
    "--tpm", type=int, callback=_positive, help="At most N tokens per minute (LLM engine)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the final report as JSON.")
def batch_command(
    inputs: tuple[str, ...],
    db: Path | None,
    engine: str,
    model: str | None,
    base_url: str | None,
    concurrency: int,
    limit: int | None,
    retry_failed: bool,
    rpm: int | None,
    tpm: int | None,
    as_json: bool,
) -> None:
    """Summarize every new document of INPUT... into the SQLite store.

    INPUT is a folder (its .txt, .md and .html files, recursively), a quoted glob such as
    'inbox/**/*.txt', a file, or a JSONL file of {"id", "text", "source", "date", ...} records.
    Documents already summarized with the same engine, model, prompt version and schema version
    are skipped without an engine call or a write; every other document ends summarized or
    recorded as failed with its reason (`readout failures`). A second run on the same database
    while one is running exits at once with a message.

    `--retry-failed` retries only the recorded failures. Without INPUT it retries them from the
    texts stored in the database; a document whose input had no usable text (binary, invalid
    UTF-8) has none and stays failed, which the report says.

    Exit codes: 0 every document succeeded or was skipped (or another run holds the database),
    1 some documents failed (all recorded), 2 usage error.
    """
    if not inputs and not retry_failed:
        raise click.UsageError(
            "missing INPUT... (or --retry-failed alone, to retry the recorded failures from the "
            "database)"
        )
    note_engine_choice(engine)
    target = _db(db)
    try:
        with _progress_reporter() as on_event:
            report = run_batch(
                inputs,
                db=target,
                engine=engine,
                model=model,
                base_url=base_url,
                concurrency=concurrency,
                limit=limit,
                retry_failed=retry_failed,
                rpm=rpm,
                tpm=tpm,
                progress=on_event,  # type: ignore[arg-type]
            )
    except LockedError as exc:
        click.echo(f"readout: {exc}", err=True)
        sys.exit(0)
    _print_report(report, as_json=as_json)
    sys.exit(report.exit_code)


@cli.command("failures")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the failures as JSON.")
def failures_command(db: Path | None, as_json: bool) -> None:
    """List the documents that failed, with their reason, attempts and last try.

    On a terminal a table; otherwise one tab-separated line per failure: document, error class,
    attempts, last tried (UTC), message.

    Fix the input or the configuration, then run `readout batch --retry-failed INPUT...`.
    """
    with Store(_db(db), readonly=True) as store:
        rows = store.failures()
    if as_json:
        with _quiet_broken_pipe():
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no failures")
        return
    console = Console()
    if not console.is_terminal:  # logs and pipes: one tab-separated line per failure
        with _quiet_broken_pipe():
            for r in rows:
                fields = (r["name"], r["error"], str(r["attempts"]), r["last_tried"], r["message"])
                click.echo("\t".join(fields))
        return
    table = Table("document", "error", "message", "attempts", "last tried", "engine")
    for r in rows:
        engine = r["engine"] + (f"/{r['model']}" if r["model"] else "")
        table.add_row(
            r["name"], r["error"], r["message"], str(r["attempts"]), r["last_tried"], engine
        )
    console.print(table)


@cli.command("export")
@DB_OPTION
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(list(EXPORTERS)),
    required=True,
    help="jsonl: whole results; csv: one row per item; markdown: a readable report; "
    "html: a folder with one page per document plus index.html (needs --out DIR).",
)
@click.option(
    "--since", metavar="DATE", help="Only results created on or after DATE (YYYY-MM-DD, UTC)."
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Write to this file (default stdout); for html, this directory (created if needed).",
)
def export_command(db: Path | None, fmt: str, since: str | None, out: Path | None) -> None:
    """Export the results of the store as JSONL, CSV, Markdown or HTML.

    JSONL carries each whole SummaryResult with its document; CSV has one row per item
    (document, category, party, country, summary, evidence, start, end) for spreadsheets and
    pandas; Markdown is a report to read; HTML writes into the directory --out one
    self-contained page per document (its newest result, the text with its evidence
    highlighted) plus index.html. Results recorded before readout stored document texts have no
    page (a warning says how many).
    """
    if fmt in DIRECTORY_FORMATS:
        if out is None:
            raise click.UsageError(f"--format {fmt} needs --out DIR (a directory)")
        if out.exists() and not out.is_dir():
            raise click.UsageError(f"--out {out}: not a directory (--format {fmt} writes a folder)")
        with Store(_db(db), readonly=True) as store:
            n = export(
                store,
                fmt,
                out,
                since=since,
                warn=lambda message: click.echo(f"readout: warning: {message}", err=True),
            )
        click.echo(f"readout: exported {n} documents to {out / 'index.html'}", err=True)
        return
    if out is not None and out.is_dir():
        raise click.UsageError(f"--out {out} is a directory; --format {fmt} writes a file")
    with Store(_db(db), readonly=True) as store:
        if out is None:
            with _quiet_broken_pipe():
                n = export(store, fmt, sys.stdout, since=since)
        else:
            tmp = out.with_name(out.name + ".tmp")
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                n = export(store, fmt, fh, since=since)
            tmp.replace(out)
    what = "items" if fmt == "csv" else "results"
    click.echo(f"readout: exported {n} {what}" + (f" to {out}" if out else ""), err=True)

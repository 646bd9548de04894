"""Export the batch store: JSONL (whole results), CSV (one row per item), Markdown (a report),
HTML (a folder: one self-contained page per document plus an index page).

The text exporters stream: they read one result at a time from the store and write it out, so
exporting a large database uses little memory. The HTML export builds its index from every
exported result, so it holds the exported results and texts in memory. Formats are registered
in `EXPORTERS` (the CLI offers exactly its keys); a new format is one function plus one entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from .errors import UserError
from .rendering import render_markdown
from .schema import SummaryResult
from .store import Store

__all__ = ["CSV_COLUMNS", "DIRECTORY_FORMATS", "EXPORTERS", "export", "parse_since"]

CSV_COLUMNS = (
    "document",
    "category",
    "party",
    "country",
    "summary",
    "evidence",
    "start",
    "end",
)
"""CSV columns. `party`/`country` list every speaker (`; `-separated) of the item: the position's
party, the requester, or the agreeing parties. `evidence` joins the item's spans with ` … `;
`start` is the first span's start and `end` the last span's end (offsets into the analysed text)."""

SPAN_JOIN = " … "


def parse_since(value: str | None) -> str | None:
    """Validate `--since` (YYYY-MM-DD or an ISO datetime) and return it as a UTC ISO string."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value).isoformat()
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"--since {value!r}: expected a date YYYY-MM-DD or an ISO datetime"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


def _rows(store: Store, since: str | None) -> Iterator[tuple[dict[str, Any], SummaryResult]]:
    for row in store.iter_results(since=since):
        yield row, SummaryResult.model_validate_json(row["result"])


def export_jsonl(store: Store, out: TextIO, *, since: str | None = None) -> int:
    """One line per result: the document (name, source, sha256, metadata, first seen) and the
    whole `SummaryResult`."""
    n = 0
    for row in store.iter_results(since=since):
        record = {
            "document": {
                "name": row["name"],
                "source": row["source"],
                "sha256": row["sha256"],
                "metadata": json.loads(row["metadata"]),
                "first_seen": row["first_seen"],
            },
            "result": json.loads(row["result"]),
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        n += 1
    return n


def export_csv(store: Store, out: TextIO, *, since: str | None = None) -> int:
    """One row per item (position, request, agreement) of every result."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for row, result in _rows(store, since):
        s = result.summary
        for category, item in s.items():
            parties = [s.party(pid) for pid in s.speakers(item)]
            spans = sorted(item.evidence, key=lambda span: span.start)
            writer.writerow(
                (
                    row["name"],
                    category,
                    "; ".join(p.name for p in parties if p is not None),
                    "; ".join(p.country for p in parties if p is not None and p.country),
                    item.summary,
                    SPAN_JOIN.join(span.text for span in spans),
                    spans[0].start,
                    spans[-1].end,
                )
            )
            n += 1
    return n


def export_markdown(store: Store, out: TextIO, *, since: str | None = None) -> int:
    """A Markdown report: one section per result, separated by rules."""
    n = 0
    for row, result in _rows(store, since):
        if n:
            out.write("\n---\n\n")
        out.write(render_markdown(result))
        out.write(
            f"\n_Document: `{row['name'].replace('`', '')}`, summarized {row['created_at']}._\n"
        )
        n += 1
    return n


Warn = Callable[[str], None]


def export_html(
    store: Store, out: str | os.PathLike[str], *, since: str | None = None, warn: Warn | None = None
) -> int:
    """One self-contained page per document plus `index.html`, written into the folder `out`.

    A document summarized by several configurations (or several times) gets one page, from its
    newest result (among those since `since`). Pages are named after the document; two
    documents with the same name (a file whose text changed) are told apart by their SHA-256.
    Results whose document has no stored text (recorded before the store kept texts) are
    skipped, and `warn` is told how many. Returns the number of pages written (index excluded).
    """
    from .report import write_site

    newest: dict[str, dict[str, Any]] = {}
    for row in store.iter_results(since=since):  # oldest first: a newer result replaces
        newest[row["sha256"]] = row
    missing = sum(1 for row in newest.values() if row["text"] is None)
    rows = [row for row in newest.values() if row["text"] is not None]
    named: dict[str, int] = {}
    for row in rows:
        named[row["name"]] = named.get(row["name"], 0) + 1
    triples = [
        (
            row["name"] if named[row["name"]] == 1 else f"{row['name']} ({row['sha256'][:12]})",
            SummaryResult.model_validate_json(row["result"]),
            row["text"],
        )
        for row in rows
    ]
    if missing and warn is not None:
        warn(
            f"skipped {missing} document{'s' if missing != 1 else ''} without a stored text "
            "(summarized before readout stored document texts); run `readout batch INPUT...` "
            "on the same inputs once to store them"
        )
    write_site(triples, Path(out))
    return len(triples)


Exporter = Callable[..., int]

EXPORTERS: dict[str, Exporter] = {
    "jsonl": export_jsonl,
    "csv": export_csv,
    "markdown": export_markdown,
    "html": export_html,
}
"""Export formats by name. Every exporter is `(store, out, *, since) -> count written`; `out` is
a text stream, except for the `DIRECTORY_FORMATS`, where it is a folder path (and the exporter
also takes `warn`)."""

DIRECTORY_FORMATS = frozenset({"html"})
"""Formats written as a folder of files rather than to one stream."""


def export(
    store: Store,
    fmt: str,
    out: TextIO | str | os.PathLike[str],
    *,
    since: str | None = None,
    warn: Warn | None = None,
) -> int:
    """Write the store in format `fmt` to `out`; returns how many results (CSV: items; HTML:
    pages) it wrote. For `html`, `out` is a folder (created if needed)."""
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise UserError(
            f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORTERS)}"
        ) from None
    if fmt in DIRECTORY_FORMATS:
        if not isinstance(out, str | os.PathLike):
            raise UserError(f"--format {fmt} writes a folder: give a directory path")
        return exporter(store, out, since=parse_since(since), warn=warn)
    return exporter(store, out, since=parse_since(since))

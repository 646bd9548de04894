"""Export the batch store: JSONL (whole results), CSV (one row per item), Markdown (a report).

Every exporter streams: it reads one result at a time from the store and writes it out, so
exporting a large database uses little memory. Formats are registered in `EXPORTERS` (the CLI
offers exactly its keys); a new format is one function plus one entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from .errors import UserError
from .rendering import render_markdown
from .schema import SummaryResult
from .store import Store

__all__ = ["CSV_COLUMNS", "EXPORTERS", "export", "parse_since"]

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


Exporter = Callable[..., int]

EXPORTERS: dict[str, Exporter] = {
    "jsonl": export_jsonl,
    "csv": export_csv,
    "markdown": export_markdown,
}
"""Export formats by name; every exporter is `(store, out, *, since) -> count written`."""


def export(store: Store, fmt: str, out: TextIO, *, since: str | None = None) -> int:
    """Write the store in format `fmt` to `out`; returns how many results (CSV: items) it wrote."""
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise UserError(
            f"unknown export format {fmt!r}; choose one of: {', '.join(EXPORTERS)}"
        ) from None
    return exporter(store, out, since=parse_since(since))

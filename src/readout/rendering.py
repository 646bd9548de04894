"""Render a `SummaryResult` as JSON, Markdown or a rich table. Model text is always escaped."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .schema import Agreement, Position, ReadoutSummary, Request, SummaryResult

__all__ = ["escape_markdown", "render_json", "render_markdown", "render_table", "strip_controls"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")
# C0/C1 control characters (ESC starts ANSI colour and hyperlink sequences); keep \t and \n.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """Remove control characters so model or source text cannot drive a terminal."""
    return _CONTROL.sub("", text)


def escape_markdown(text: str) -> str:
    """Escape text so Markdown renders it literally: no links, images, HTML or emphasis."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(strip_controls(text).split()))


def render_json(result: SummaryResult, *, indent: int | None = 2) -> str:
    return result.model_dump_json(indent=indent)


def _party_label(summary: ReadoutSummary, ids: Iterable[str]) -> str:
    labels = []
    for pid in ids:
        p = summary.party(pid)
        labels.append(f"{p.name} ({p.country})" if p and p.country else (p.name if p else pid))
    return ", ".join(labels)


def _item_heading(summary: ReadoutSummary, item: Position | Request | Agreement) -> str:
    if isinstance(item, Position):
        return _party_label(summary, [item.party])
    if isinstance(item, Request):
        return (
            f"{_party_label(summary, [item.by])} → {_party_label(summary, item.to)} ({item.force})"
        )
    return f"{_party_label(summary, item.parties)} ({item.kind})"


def render_markdown(result: SummaryResult) -> str:
    """A Markdown report: event, parties, then items by category with quoted evidence."""
    s = result.summary
    e = escape_markdown
    lines = [f"# {e(s.headline)}", ""]
    ev = s.event
    facts = [f"**Event:** {e(ev.kind)}"]
    if ev.date:
        facts.append(f"**Date:** {ev.date.isoformat()}")
    if ev.location:
        facts.append(f"**Location:** {e(ev.location)}")
    if ev.initiated_by:
        facts.append(f"**Initiated by:** {e(_party_label(s, [ev.initiated_by]))}")
    lines += [" · ".join(facts), "", "## Parties", ""]
    for p in s.parties:
        title = f", {e(p.title)}" if p.title else ""
        lines.append(
            f"- **{e(p.name)}**{title} — {p.country or 'unknown'}, {p.role.replace('_', ' ')}"
        )
    for heading, items in (
        ("Positions", s.positions),
        ("Requests", s.requests),
        ("Agreements", s.agreements),
    ):
        lines += ["", f"## {heading}", ""]
        if not items:
            lines.append("_None found._")
        for item in items:
            lines.append(f"- **{e(_item_heading(s, item))}:** {e(item.summary)}")
            for span in item.evidence:
                lines.append(
                    f"  > {e(span.text)} _(S{span.sentence + 1}, {span.start}–{span.end})_"
                )
    if result.warnings:
        lines += ["", "## Warnings", ""] + [f"- {e(w)}" for w in result.warnings]
    pv = result.provenance
    model = f", model {e(pv.model)}" if pv.model else ""
    prompt = (
        f", prompt {e(pv.prompt_id or '')} v{e(pv.prompt_version)}" if pv.prompt_version else ""
    )
    lines += ["", f"_Engine {e(pv.engine)}{model}{prompt}, schema {pv.schema_version}._", ""]
    return "\n".join(lines)


def _text(value: str | None, style: str = "") -> Text:
    """Literal terminal text: no markup parsing, no control characters."""
    return Text(strip_controls(value or ""), style=style)


def render_table(result: SummaryResult) -> Group:
    """A rich renderable: a parties table and an items table grouped by category and party."""
    s = result.summary
    head = _text(s.headline, style="bold")
    parties = Table(title="Parties", expand=True)
    for col in ("id", "name", "title", "country", "role"):
        parties.add_column(col)
    for p in s.parties:
        parties.add_row(*(_text(v) for v in (p.id, p.name, p.title, p.country, p.role)))
    items = Table(title="Items", expand=True, show_lines=True)
    for col in ("category", "party", "summary", "evidence"):
        items.add_column(col, overflow="fold")
    rows = sorted(
        ((cat, _item_heading(s, it), it) for cat, it in s.items()), key=lambda r: (r[0], r[1])
    )
    for cat, who, it in rows:
        evidence = " … ".join(f"[S{sp.sentence + 1}] {sp.text}" for sp in it.evidence)
        items.add_row(_text(cat), _text(who), _text(it.summary), _text(evidence))
    parts: list = [head, parties, items]
    for w in result.warnings:
        parts.append(_text(f"warning: {w}", style="yellow"))
    return Group(*parts)

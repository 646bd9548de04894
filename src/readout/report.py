"""Render a `SummaryResult` as a self-contained HTML report, and a site of reports with an index.

`render_html(result, source)` is one page: the header (event, parties, headline, provenance,
warnings), a compact table of every item, and the source text with each evidence span highlighted
in place. Everything is inline (CSS, a small script, no fonts, images or network), so a page opens
offline, can be mailed, and prints readably. A Content-Security-Policy allows only the page's own
script (by hash) and forbids every network fetch.

Overlapping spans (two items citing one sentence) are cut into segments at every span boundary;
each segment is a nest of `<mark>` elements, one per span covering it, outermost first, with stacked
underlines. Every mark carries `data-span="N.J"` (item N, its span J) and `data-item="N"`; the
innermost mark of a segment carries the tooltip (`title` and `data-tip`) listing every item covering
it and is focusable. The first segment of item N's evidence[0] has `id="ev-N"`, of evidence[J]
(J >= 1) `id="ev-N-J"`: the table links there, and a click on a row scrolls there and flashes.

All model text goes through Jinja2 autoescaping or `markupsafe.escape`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from .schema import CATEGORIES, Agreement, Category, Item, Position, ReadoutSummary, SummaryResult
from .segmentation import parse_document

__all__ = [
    "PALETTE",
    "TEXT_COLOR",
    "IndexEntry",
    "contrast_ratio",
    "page_names",
    "render_html",
    "render_index",
    "write_site",
]

#: Body text color; every category background must reach WCAG AA (4.5:1) against it.
TEXT_COLOR = "#1b1b1b"

#: Per category: `bg` behind highlighted text, `fg` for labels drawn on `bg` (also the underline),
#: the underline `pattern` (so categories differ without color) and the short `prefix` of labels.
PALETTE: Mapping[Category, Mapping[str, str]] = {
    "position": {"bg": "#dbeafe", "fg": "#1e40af", "pattern": "solid", "prefix": "P"},
    "request": {"bg": "#fef3c7", "fg": "#92400e", "pattern": "dashed", "prefix": "R"},
    "agreement": {"bg": "#dcfce7", "fg": "#166534", "pattern": "double", "prefix": "A"},
}

#: Other text/background pairs used by the page (checked for contrast by the tests).
EXTRA_PAIRS: Mapping[str, tuple[str, str]] = {
    "tooltip": ("#ffffff", "#1b1b1b"),
    "muted": ("#52525b", "#ffffff"),
    "warning": ("#7c2d12", "#fff7ed"),
    "flash": (TEXT_COLOR, "#fde047"),
    "link": ("#1d4ed8", "#ffffff"),
}

_LABELS: Mapping[Category, str] = {
    "position": "Position",
    "request": "Request",
    "agreement": "Agreement",
}


def _channel(c: int) -> float:
    v = c / 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG 2 relative luminance of a `#rrggbb` color."""
    h = color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio between two `#rrggbb` colors (1 to 21)."""
    a, b = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


# --------------------------------------------------------------------------------------------
# The page model


@dataclass(frozen=True)
class _Row:
    """One summary item as shown in the table."""

    n: int  # global item number, from 1, in `ReadoutSummary.items()` order
    category: Category
    label: str  # "P1", "R2", ...
    who: str
    summary: str
    detail: str | None  # request force or agreement kind
    spans: tuple[tuple[int, int, int], ...]  # (j, sentence, start) per evidence span
    tip: str


def _party_name(summary: ReadoutSummary, pid: str) -> str:
    p = summary.party(pid)
    if p is None:
        return pid
    return f"{p.name} ({p.country})" if p.country else p.name


def _who(summary: ReadoutSummary, item: Item) -> str:
    names = [_party_name(summary, pid) for pid in summary.speakers(item)]
    if isinstance(item, Position | Agreement):
        return ", ".join(names)
    to = ", ".join(_party_name(summary, pid) for pid in item.to)
    return f"{', '.join(names)} → {to}"


def _rows(summary: ReadoutSummary) -> list[_Row]:
    counts: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
    rows = []
    for n, (category, item) in enumerate(summary.items(), start=1):
        counts[category] += 1
        label = f"{PALETTE[category]['prefix']}{counts[category]}"
        who = _who(summary, item)
        detail = (
            None
            if isinstance(item, Position)
            else (item.kind if isinstance(item, Agreement) else item.force)
        )
        detail = detail.replace("_", " ") if detail else None
        rows.append(
            _Row(
                n=n,
                category=category,
                label=label,
                who=who,
                summary=item.summary,
                detail=detail,
                spans=tuple((j, s.sentence, s.start) for j, s in enumerate(item.evidence)),
                tip=f"{_LABELS[category]} {label} · {who}: {item.summary}",
            )
        )
    return rows


@dataclass(frozen=True)
class _Span:
    key: str  # "N.J"
    n: int
    j: int
    start: int
    end: int
    category: Category
    label: str
    tip: str


def _spans(summary: ReadoutSummary, rows: list[_Row], source: str) -> list[_Span]:
    by_n = {r.n: r for r in rows}
    spans = []
    for n, (_, item) in enumerate(summary.items(), start=1):
        row = by_n[n]
        for j, s in enumerate(item.evidence):
            start, end = max(0, s.start), min(len(source), s.end)
            if end <= start or source[start:end] != s.text:
                continue  # not grounded in this source: show it in the table only
            spans.append(_Span(f"{n}.{j}", n, j, start, end, row.category, row.label, row.tip))
    # outermost first: earlier start, then longer, then item order
    spans.sort(key=lambda s: (s.start, -s.end, s.n, s.j))
    return spans


def _anchor(n: int, j: int) -> str:
    """The id of item n's span j: `ev-N` for its first evidence span, `ev-N-J` for the others."""
    return f"ev-{n}" if j == 0 else f"ev-{n}-{j}"


def _body_start(source: str) -> int:
    """Where the analysed body starts (after a corpus header or date prefix), 0 if unknown."""
    try:
        return parse_document(source).body_start
    except Exception:  # display only: never fail a report over it
        return 0


def highlight_source(source: str, spans: list[_Span], *, body_start: int = 0) -> Markup:
    """The source as HTML, each span wrapped in marks, overlaps cut into nested segments.

    Text before `body_start` (a preamble the engines skip) is shown muted.
    """
    edges = {0, len(source), min(max(body_start, 0), len(source))}
    bounds = sorted(edges | {s.start for s in spans} | {s.end for s in spans})
    order = {s.key: i for i, s in enumerate(spans)}  # spans come sorted by start
    seen_span: set[str] = set()
    out: list[str] = []
    active: list[_Span] = []  # the spans covering the current segment, outermost first
    nxt = 0
    for a, b in pairwise(bounds):
        text = str(escape(source[a:b]))  # a plain str: adding a Markup would escape the tags
        active = [s for s in active if s.end > a]
        while nxt < len(spans) and spans[nxt].start <= a:
            active.append(spans[nxt])
            nxt += 1
        cover = sorted(active, key=lambda s: order[s.key])
        if not cover:
            out.append(f'<span class="preamble">{text}</span>' if b <= body_start else text)
            continue
        depth = len(cover)
        opening = []
        for d, s in enumerate(cover):
            attrs = [
                ("class", f"ev cat-{s.category} pad-{min(depth - 1 - d, 3)}"),
                ("data-span", s.key),
                ("data-item", str(s.n)),
            ]
            if s.key not in seen_span:  # the span's first segment: anchor and label
                seen_span.add(s.key)
                attrs[0] = ("class", attrs[0][1] + " first")
                attrs += [("id", _anchor(s.n, s.j)), ("data-label", s.label)]
            if d == depth - 1:
                tip = "\n".join(c.tip for c in cover)
                attrs += [("tabindex", "0"), ("title", tip), ("data-tip", tip)]
            opening.append("<mark " + " ".join(f'{k}="{escape(v)!s}"' for k, v in attrs) + ">")
        out.append("".join(opening) + text + "</mark>" * depth)
    return Markup("".join(out))


# --------------------------------------------------------------------------------------------
# Templates


_SCRIPT_REPORT = """\
(function () {
  "use strict";
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  function show(id, n) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    el.scrollIntoView({block: "center", behavior: reduce ? "auto" : "smooth"});
    var marks = document.querySelectorAll('mark[data-item="' + n + '"]');
    marks.forEach(function (m) { m.classList.remove("flash"); void m.offsetWidth; });
    marks.forEach(function (m) { m.classList.add("flash"); });
    window.setTimeout(function () {
      marks.forEach(function (m) { m.classList.remove("flash"); });
    }, 1800);
    var first = document.querySelector('mark[data-item="' + n + '"][tabindex]');
    if (first) { first.focus({preventScroll: true}); }
    if (history.replaceState) { history.replaceState(null, "", "#" + id); }
    return true;
  }
  // keep a tooltip inside the window: place it (position: fixed) next to the hovered line
  function place(ev) {
    var m = ev.target.closest && ev.target.closest("mark[data-tip]");
    if (!m) { return; }
    var rects = m.getClientRects();
    var r = rects[0];
    for (var i = 0; ev.type === "mouseover" && i < rects.length; i++) {
      if (ev.clientY >= rects[i].top && ev.clientY <= rects[i].bottom) { r = rects[i]; }
    }
    if (!r) { return; }
    var w = Math.min(416, window.innerWidth * 0.8);
    var x = Math.max(8, Math.min(r.left, window.innerWidth - w - 8));
    var up = r.bottom + 160 > window.innerHeight;
    m.style.setProperty("--tip-x", x + "px");
    m.style.setProperty("--tip-y", up ? "auto" : r.bottom + 4 + "px");
    m.style.setProperty("--tip-b", up ? window.innerHeight - r.top + 4 + "px" : "auto");
    m.classList.add("tip-fixed");
  }
  document.addEventListener("mouseover", place);
  document.addEventListener("focusin", place);
  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr[data-item]");
    if (!row) { return; }
    var link = ev.target.closest("a[href^='#ev-']");
    var id = link ? link.getAttribute("href").slice(1) : "ev-" + row.dataset.item;
    if (show(id, row.dataset.item)) { ev.preventDefault(); }
  });
})();
"""

_SCRIPT_INDEX = """\
(function () {
  "use strict";
  var table = document.getElementById("docs");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = table.querySelectorAll("th[data-col]");
  heads.forEach(function (th) {
    var button = th.querySelector("button");
    button.addEventListener("click", function () {
      var col = th.dataset.col;
      var asc = th.getAttribute("aria-sort") !== "ascending";
      var numeric = th.dataset.type === "number";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.querySelector('[data-col="' + col + '"]').dataset.value;
        var y = b.querySelector('[data-col="' + col + '"]').dataset.value;
        if (numeric) { x = parseFloat(x); y = parseFloat(y); }
        var c = x < y ? -1 : x > y ? 1 : 0;
        if (c === 0) { c = a.dataset.order - b.dataset.order; return c; }
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    });
  });
})();
"""


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _csp(script: str) -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {_csp_hash(script)}; base-uri 'none'; form-action 'none'"
    )


@cache
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("readout", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(
        anchor=_anchor, palette=PALETTE, extra=EXTRA_PAIRS, text_color=TEXT_COLOR, labels=_LABELS
    )
    return env


def _common(script: str) -> dict[str, Any]:
    return {"script": Markup(script), "csp": _csp(script)}


def render_html(
    result: SummaryResult,
    source: str,
    *,
    doc_id: str | None = None,
    index_href: str | None = None,
) -> str:
    """One self-contained HTML page for a summary of `source` (the exact text it was made from).

    `doc_id` is shown in the title; `index_href` adds a link back to an index page (relative).
    """
    s = result.summary
    rows = _rows(s)
    spans = _spans(s, rows, source)
    grounded = {sp.n for sp in spans}
    counts = {c: sum(1 for r in rows if r.category == c) for c in CATEGORIES}
    pv = result.provenance
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            result=result,
            summary=s,
            event=s.event,
            initiated_by=_party_name(s, s.event.initiated_by) if s.event.initiated_by else None,
            rows=rows,
            grounded=grounded,
            counts=counts,
            source_html=highlight_source(source, spans, body_start=_body_start(source)),
            provenance=pv,
            created_at=pv.created_at.isoformat().replace("+00:00", "Z"),
            doc_id=doc_id,
            index_href=index_href,
            metadata={k: v for k, v in result.metadata.items() if k != "date"},
            **_common(_SCRIPT_REPORT),
        )
    )


@dataclass(frozen=True)
class IndexEntry:
    """A row of the index page: a document, the page it links to, its result (or its error)."""

    doc_id: str
    href: str
    result: SummaryResult | None = None
    error: str | None = None


def _entry_view(order: int, e: IndexEntry) -> dict[str, Any]:
    view: dict[str, Any] = {"order": order, "doc_id": e.doc_id, "href": e.href, "error": e.error}
    if e.result is None:
        view.update(date=None, kind=None, parties=[], headline=None, counts=None)
        return view
    s = e.result.summary
    view.update(
        date=s.event.date.isoformat() if s.event.date else None,
        kind=s.event.kind.replace("_", " "),
        parties=[_party_name(s, p.id) for p in s.parties if p.role == "participant"]
        + [f"{_party_name(s, p.id)} (third party)" for p in s.parties if p.role != "participant"],
        headline=s.headline,
        counts={
            "position": len(s.positions),
            "request": len(s.requests),
            "agreement": len(s.agreements),
        },
    )
    return view


def render_index(
    entries: Iterable[IndexEntry | tuple[str, SummaryResult] | tuple[str, str, SummaryResult]],
    *,
    title: str = "Readout reports",
) -> str:
    """An index page: one row per document with date, event, parties and counts per category.

    Rows come in date order (undated last, then by id); the column headers sort with JavaScript.
    An entry is an `IndexEntry`, `(doc_id, result)` (linking to `page_names()`'s file name) or
    `(doc_id, href, result)`.
    """
    items: list[IndexEntry] = []
    raw = list(entries)
    names = page_names(e[0] if isinstance(e, tuple) else e.doc_id for e in raw)
    for e in raw:
        if isinstance(e, IndexEntry):
            items.append(e)
        elif len(e) == 2:
            items.append(IndexEntry(e[0], names[e[0]], e[1]))  # type: ignore[misc]
        else:
            items.append(IndexEntry(e[0], e[1], e[2]))  # type: ignore[misc]
    views = [_entry_view(i, e) for i, e in enumerate(items)]
    views.sort(key=lambda v: (v["date"] is None, v["date"] or "", v["doc_id"]))
    for i, v in enumerate(views):
        v["order"] = i
    totals = {c: sum((v["counts"] or {}).get(c, 0) for v in views) for c in CATEGORIES}
    return (
        _env()
        .get_template("index.html.j2")
        .render(title=title, entries=views, totals=totals, **_common(_SCRIPT_INDEX))
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TEXT_EXT = re.compile(r"\.(txt|text|md|html?)$", re.IGNORECASE)


def page_names(doc_ids: Iterable[str]) -> dict[str, str]:
    """A distinct, safe `.html` file name per document id (never `index.html`)."""
    names: dict[str, str] = {}
    used = {"index"}
    for doc_id in doc_ids:
        if doc_id in names:
            continue
        base = _UNSAFE.sub("_", _TEXT_EXT.sub("", doc_id.replace("\\", "/"))).strip("._") or "doc"
        base = base[:120]
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name.lower())
        names[doc_id] = f"{name}.html"
    return names


def write_site(
    results_with_sources: Iterable[tuple[str, SummaryResult, str]],
    out_dir: str | Path,
    *,
    title: str = "Readout reports",
) -> dict[str, Path]:
    """Write one HTML page per `(doc_id, result, source_text)` plus `index.html` into `out_dir`.

    Returns the path written per document id, and `index.html` under the key `""`. A repeated
    doc_id keeps its last result.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    docs: dict[str, tuple[SummaryResult, str]] = {}
    for doc_id, result, source in results_with_sources:
        docs[doc_id] = (result, source)
    names = page_names(docs)
    written: dict[str, Path] = {}
    for doc_id, (result, source) in docs.items():
        path = out / names[doc_id]
        html = render_html(result, source, doc_id=doc_id, index_href="index.html")
        path.write_text(html, encoding="utf-8")
        written[doc_id] = path
    index = out / "index.html"
    index.write_text(
        render_index([IndexEntry(d, names[d], r) for d, (r, _) in docs.items()], title=title),
        encoding="utf-8",
    )
    written[""] = index
    return written

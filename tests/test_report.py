"""Unit tests of the HTML report: escaping, self-containment, overlapping spans, contrast, CLI."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from readout import summarize
from readout.cli import cli
from readout.engines import FakeEngine
from readout.grounding import clause_span
from readout.report import (
    EXTRA_PAIRS,
    PALETTE,
    TEXT_COLOR,
    IndexEntry,
    contrast_ratio,
    page_names,
    render_html,
    render_index,
    write_site,
)
from readout.schema import Agreement, Party, Position, ReadoutSummary, Request, SummaryResult
from readout.segmentation import Document

EVIL = "<script>alert(1)</script>"
SOURCE = (
    "Foreign Minister Alpha met Minister Beta in Cairo. "
    "Alpha urged Beta to reopen the crossing and both agreed to meet again. "
    "Beta thanked Alpha."
)


class Page(HTMLParser):
    """Collects tags, attributes, script bodies and the text of each evidence span."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.span_text: dict[str, str] = {}
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._raw: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("script", "style"):
            self._raw = tag
            self.text_buf = []
        if tag == "mark":
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._raw == tag:
            (self.scripts if tag == "script" else self.styles).append("".join(self.text_buf))
            self._raw = None
        if tag == "mark" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self._raw:
            self.text_buf.append(data)
            return
        self.text.append(data)
        for _, a in self.stack:
            key = a.get("data-span")
            if key:
                self.span_text[key] = self.span_text.get(key, "") + data

    def marks(self) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "mark"]


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p


def make_result(
    source: str = SOURCE, *, summary_text: str = "Alpha urged Beta to reopen the crossing", **kw
) -> SummaryResult:
    def script(doc: Document) -> ReadoutSummary:
        s1 = doc.sentences[1]
        whole = clause_span(doc, s1.start, s1.end)
        urge = source.index("Alpha urged")
        agree = source.index("both agreed")
        return ReadoutSummary(
            event={"kind": "meeting", "location": kw.get("location", "Cairo")},
            parties=[
                Party(id="alpha", name=kw.get("name", "Alpha"), country="EGY"),
                Party(id="beta", name="Beta", title="Minister", country="ISR"),
            ],
            headline=kw.get("headline", "Alpha and Beta meet in Cairo"),
            positions=[
                Position(
                    party="beta",
                    summary="Beta thanked Alpha",
                    evidence=[clause_span(doc, source.index("Beta thanked"), len(source))],
                ),
            ],
            requests=[
                Request(
                    by="alpha",
                    to=["beta"],
                    summary=summary_text,
                    force="urge",
                    evidence=[clause_span(doc, urge, source.index(" and both"))],
                ),
            ],
            agreements=[
                Agreement(
                    parties=["alpha", "beta"],
                    summary="Both agreed to meet again",
                    evidence=[clause_span(doc, agree, s1.end)],
                ),
                # cites the whole sentence that the request and the agreement cite parts of
                Agreement(
                    parties=["alpha", "beta"],
                    summary="Sentence-long overlap",
                    kind="joint_action",
                    evidence=[whole],
                ),
            ],
        )

    return summarize(source, engine=FakeEngine(script), metadata=kw.get("metadata"))


# --- escaping -------------------------------------------------------------------------------


def test_model_text_is_escaped_everywhere():
    result = make_result(
        summary_text=EVIL,
        name=EVIL,
        headline=f"Head {EVIL}",
        location=EVIL,
        metadata={"title": EVIL, "url": "https://example.org/x"},
    )
    result = result.model_copy(update={"warnings": [EVIL]})
    source = SOURCE + f' Text {EVIL} "quoted" & <b>bold</b>.'
    html = render_html(result, source, doc_id=EVIL)
    assert "<script>alert" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = parse(html)
    assert len(page.scripts) == 1  # only the page's own script
    assert "alert" not in page.scripts[0]
    assert EVIL in "".join(page.text)  # shown as text
    # tooltips are attributes holding the summary as text
    tips = [m["data-tip"] for m in page.marks() if m.get("data-tip")]
    assert any(EVIL in t for t in tips)
    assert not [t for t, _ in page.tags if t == "b"]


def test_csp_allows_only_the_page_script():
    html = render_html(make_result(), SOURCE)
    page = parse(html)
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv"))
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp


# --- self-contained -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["report", "index"])
def test_self_contained(kind, tmp_path):
    result = make_result(metadata={"url": "https://example.org/readout", "source": "http://x.y"})
    src = SOURCE + " See https://example.org/more and //cdn.example.com/x.js."
    if kind == "report":
        html = render_html(result, src, index_href="index.html")
    else:
        html = render_index([("https://evil.example/x.txt", result), ("b.txt", result)])
    page = parse(html)
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "poster", "srcset", "data"):
            value = (attrs.get(name) or "").strip().lower()
            assert not re.match(r"^(https?:|//|ftp:|javascript:)", value), (tag, name, value)
        assert tag not in ("link", "img", "iframe", "object", "embed", "base")
        assert not (tag == "script" and attrs.get("src"))
    css = "\n".join(page.styles)
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert "@media print" in css


def test_page_shows_header_facts():
    result = make_result()
    html = render_html(result, SOURCE, doc_id="cairo.txt")
    text = " ".join(" ".join(parse(html).text).split())
    for want in (
        "Alpha and Beta meet in Cairo",
        "meeting",
        "Cairo",
        "EGY",
        "ISR",
        "Minister",
        "participant",
        "fake",
        "fake-model",
        "cairo.txt",
        "schema 1.0",
        result.provenance.created_at.isoformat()[:19],
    ):
        assert want in text, want
    assert "1 position, 1 request, 2 agreements" in text


# --- highlighting ---------------------------------------------------------------------------


def test_every_span_is_highlighted_and_overlaps_are_segmented():
    result = make_result()
    html = render_html(result, SOURCE)
    page = parse(html)
    expected = {
        f"{n}.{j}": s.text
        for n, (_, item) in enumerate(result.summary.items(), start=1)
        for j, s in enumerate(item.evidence)
    }
    assert page.span_text == expected
    marks = page.marks()
    # the request (item 2) and the sentence-long agreement (item 4) overlap: the request's text
    # sits in nested marks, the agreement's mark outermost
    overlap = [m for m in marks if m.get("data-span") == "2.0"]
    assert overlap and all("pad-0" in m["class"] for m in overlap)
    outer = [m for m in marks if m.get("data-span") == "4.0"]
    assert len(outer) >= 3  # cut at the request's and the agreement's edges
    # the innermost mark of an overlapped segment lists every item covering it
    tips = [m["data-tip"] for m in marks if m.get("data-span") == "2.0" and m.get("data-tip")]
    assert tips and all("Request R1" in t and "Agreement A2" in t for t in tips)
    # anchors: one per span, the item's first span is ev-N; only first segments are labelled
    ids = [m["id"] for m in marks if m.get("id")]
    assert sorted(ids) == sorted(f"ev-{n}" for n in range(1, 5))
    assert [m["data-label"] for m in marks if m.get("data-label")].count("A2") == 1
    # focusable: every segment's innermost mark
    assert all(m.get("tabindex") == "0" for m in marks if m.get("data-tip"))
    # the table links each row to its evidence
    links = [a["href"] for t, a in page.tags if t == "a" and a.get("class") == "item-link"]
    assert links == [f"#ev-{n}" for n in range(1, 5)]


def test_source_text_is_preserved_exactly():
    src = 'date 2021-01-01 A said <x> & "y".\n\nB  agreed.\tEnd.'

    def script(doc: Document) -> ReadoutSummary:
        return ReadoutSummary(
            parties=[Party(id="a", name="A")],
            headline="h",
            positions=[
                Position(
                    party="a",
                    summary="s",
                    evidence=[clause_span(doc, src.index("A said"), src.index(" &"))],
                )
            ],
        )

    html = render_html(summarize(src, engine=FakeEngine(script)), src)
    m = re.search(r'<div class="source-text" id="source">(.*?)</div>', html, re.S)
    assert m
    text = re.sub(r"<[^>]+>", "", m.group(1))
    import html as html_lib

    assert html_lib.unescape(text) == src
    assert '<span class="preamble">' in m.group(1)


def test_ungrounded_spans_are_listed_not_highlighted():
    result = make_result()
    other = SOURCE.replace("Alpha urged", "Gamma urged")
    html = render_html(result, other)
    assert "not in source" in html
    assert 'data-span="2.0"' not in html


# --- contrast -------------------------------------------------------------------------------


def test_contrast_ratio_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("category", list(PALETTE))
def test_category_colors_meet_wcag_aa(category):
    c = PALETTE[category]
    assert contrast_ratio(TEXT_COLOR, c["bg"]) >= 4.5  # highlighted source text
    assert contrast_ratio(c["fg"], c["bg"]) >= 4.5  # labels and pills
    assert contrast_ratio(c["fg"], "#ffffff") >= 3  # underline against the page (non-text)


@pytest.mark.parametrize("name", list(EXTRA_PAIRS))
def test_other_colors_meet_wcag_aa(name):
    fg, bg = EXTRA_PAIRS[name]
    assert contrast_ratio(fg, bg) >= 4.5


def test_categories_not_by_color_alone():
    patterns = {c["pattern"] for c in PALETTE.values()}
    prefixes = {c["prefix"] for c in PALETTE.values()}
    assert len(patterns) == len(PALETTE) == len(prefixes)
    html = render_html(make_result(), SOURCE)
    css = "\n".join(parse(html).styles)
    for cat, c in PALETTE.items():
        assert c["bg"] in css and c["fg"] in css
        assert (
            f"mark.ev.cat-{cat} {{ background: var(--{cat}-bg); border-bottom: 3px {c['pattern']}"
            in css
        )
    labels = [m["data-label"] for m in parse(html).marks() if m.get("data-label")]
    assert sorted(labels) == ["A1", "A2", "P1", "R1"]
    assert ">R1 Request<" in html  # the table row label is text


# --- index and site -------------------------------------------------------------------------


def _dated(result: SummaryResult, date: dt.date | None) -> SummaryResult:
    ev = result.summary.event.model_copy(update={"date": date})
    return result.model_copy(update={"summary": result.summary.model_copy(update={"event": ev})})


def test_index_lists_documents_in_date_order():
    r = make_result()
    html = render_index(
        [
            ("late.txt", _dated(r, dt.date(2022, 5, 1))),
            IndexEntry("broken.txt", "broken.html", None, error=f"failed {EVIL}"),
            ("early.txt", _dated(r, dt.date(2020, 1, 2))),
        ]
    )
    assert html.index("early.txt") < html.index("late.txt") < html.index("broken.txt")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    page = parse(html)
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert hrefs == ["early.html", "late.html"]
    text = " ".join(" ".join(page.text).split())
    assert "Alpha (EGY), Beta (ISR)" in text
    assert "2 positions, 2 requests, 4 agreements" in text
    sortable = [a["data-col"] for t, a in page.tags if t == "th" and a.get("data-col")]
    assert "date" in sortable


def test_page_names_are_safe_and_distinct():
    names = page_names(["a.txt", "a.md", "../etc/passwd", "index.txt", "x/y z.txt", ""])
    assert names["a.txt"] == "a.html"
    assert names["a.md"] == "a-2.html"
    assert names["../etc/passwd"] == "etc_passwd.html"
    assert names["index.txt"] == "index-2.html"
    assert names["x/y z.txt"] == "x_y_z.html"
    assert names[""] == "doc.html"
    assert all("/" not in n for n in names.values())


def test_write_site(tmp_path):
    r = make_result()
    written = write_site([("one.txt", r, SOURCE), ("two.txt", r, SOURCE)], tmp_path / "site")
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == [
        "index.html",
        "one.html",
        "two.html",
    ]
    assert written["one.txt"].read_text().count('href="index.html"') == 1
    index = written[""].read_text()
    assert 'href="one.html"' in index and 'href="two.html"' in index


def test_templates_ship_in_the_package():
    import readout

    tdir = Path(readout.__file__).parent / "templates"
    assert (tdir / "report.html.j2").is_file() and (tdir / "index.html.j2").is_file()


# --- CLI ------------------------------------------------------------------------------------


@pytest.fixture
def fake_cli(monkeypatch):
    import readout.cli.core as core

    monkeypatch.setattr(core, "resolve_engine", lambda *a, **k: FakeEngine())
    return CliRunner()


def test_cli_html_one_file(fake_cli, tmp_path):
    src = tmp_path / "r.txt"
    src.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "r.html"
    res = fake_cli.invoke(cli, ["summarize", str(src), "-f", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'id="ev-1"' in html
    res = fake_cli.invoke(cli, ["summarize", str(src), "-f", "html"])
    assert res.exit_code == 0 and "<!DOCTYPE html>" in res.output


def test_cli_html_several_files(fake_cli, tmp_path):
    files = []
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(SOURCE, encoding="utf-8")
        files.append(str(tmp_path / name))
    res = fake_cli.invoke(cli, ["summarize", *files, "-f", "html"])
    assert res.exit_code == 2 and "--out DIR" in res.output
    res = fake_cli.invoke(cli, ["summarize", *files, "-f", "html", "--out", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["a.html", "b.html", "index.html"]
    res = fake_cli.invoke(cli, ["summarize", files[0], "-f", "json", "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and "is a directory" in res.output

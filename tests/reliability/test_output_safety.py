"""Output safety: model text (and source text) renders inert in Markdown, terminals and HTML.

A hostile summary is produced by `FakeEngine` with a script; the source readout itself also
carries hostile text, because readouts come from the open web and evidence quotes it.
"""

from __future__ import annotations

import html.parser
import io
import re

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from readout.api import summarize
from readout.engines.fake import FakeEngine
from readout.grounding import sentence_span
from readout.rendering import render_markdown, render_table
from readout.schema import Agreement, Party, Position, ReadoutSummary, Request
from readout.segmentation import Document

from .conftest import need

SCRIPT = "<script>alert(1)</script>"
RICH = "[bold]red[/bold]"
IMAGE = "![x](http://evil.example/a.png)"
LINK = "[click](http://evil.example/phish)"
RICH_LINK = "[link=http://evil.example]here[/link]"
ANSI = "\x1b[31mRED\x1b[0m \x1b]8;;http://evil.example\x1b\\osc-link\x1b]8;;\x1b\\"

SOURCE = (
    "China and Mexico held a phone call on Thursday. "
    f"Wang said {SCRIPT} must never run. "
    f"Ebrard said the text {RICH} and {IMAGE} are only data. "
    "The two sides agreed to deepen cooperation."
)


def hostile_script(payload: str):
    def script(document: Document) -> ReadoutSummary:
        ev = [sentence_span(document, i) for i in range(len(document.sentences))]
        parties = [
            Party(id="china", name=f"China {payload}", country="CHN", title=payload),
            Party(id="mexico", name="Mexico", country="MEX"),
        ]
        return ReadoutSummary(
            headline=f"Headline {payload}",
            parties=parties,
            positions=[
                Position(party="china", summary=f"Position {payload} end", evidence=ev[1:2])
            ],
            requests=[
                Request(by="mexico", to=["china"], summary=f"Request {payload}", evidence=ev[2:3])
            ],
            agreements=[
                Agreement(
                    parties=["china", "mexico"], summary=f"Agreement {payload}", evidence=ev[3:4]
                )
            ],
        )

    return script


def result_with(payload: str):
    return summarize(SOURCE, engine=FakeEngine(hostile_script(payload)))


# ---------------------------------------------------------------------------------------------
# Markdown: render the report with a CommonMark renderer (raw HTML enabled) and inspect the HTML


def markdown_html(payload: str) -> tuple[str, str]:
    md = render_markdown(result_with(payload))
    return md, MarkdownIt("commonmark", {"html": True}).render(md)


def test_markdown_script_is_inert() -> None:
    _md, out = markdown_html(SCRIPT)
    assert "<script" not in out.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out  # shown as text, model and source alike


def test_markdown_image_is_inert() -> None:
    _md, out = markdown_html(IMAGE)
    assert "<img" not in out.lower()
    assert "evil.example" not in re.findall(r'(?:src|href)="([^"]*)"', out).__str__()
    assert "![x](http://evil.example/a.png)" in out  # the literal characters are visible


def test_markdown_link_is_inert() -> None:
    _, out = markdown_html(LINK)
    assert "<a " not in out.lower()
    assert "[click](http://evil.example/phish)" in out


def test_markdown_rich_markup_is_plain_text() -> None:
    _md, out = markdown_html(RICH)
    assert "[bold]red[/bold]" in out
    assert "<strong>red" not in out


def test_markdown_ansi_escapes_are_dropped() -> None:
    md = render_markdown(result_with(ANSI))
    assert "\x1b" not in md


# ---------------------------------------------------------------------------------------------
# Terminal: print the rich table into a recording console; markup must be shown, never applied


def terminal(payload: str) -> tuple[Console, str]:
    console = Console(
        file=io.StringIO(), record=True, width=400, force_terminal=True, color_system="truecolor"
    )
    console.print(render_table(result_with(payload)))
    return console, console.export_text(styles=False, clear=False)


def styled_segments_containing(console: Console, needle: str) -> list:
    return [seg for seg in console._record_buffer if needle in seg.text]


@pytest.mark.parametrize("payload", [RICH, RICH_LINK, SCRIPT, IMAGE])
def test_terminal_shows_markup_literally(payload: str) -> None:
    _, text = terminal(payload)
    # Every occurrence written by the model is there verbatim (party, title, items).
    assert text.count(payload) >= 4, text


def test_terminal_applies_no_style_from_model_text() -> None:
    console, _ = terminal(RICH)
    segs = styled_segments_containing(console, "Position [bold]red[/bold] end")
    assert segs, "item summary not found in the table"
    for seg in segs:
        assert seg.style is None or not seg.style.bold, seg
    rlink, _ = terminal(RICH_LINK)
    assert all(
        seg.style is None or not seg.style.link for seg in rlink._record_buffer
    ), "model text produced a terminal hyperlink"


def test_terminal_strips_ansi_escapes() -> None:
    _, text = terminal(ANSI)
    assert "\x1b]8" not in text
    assert "\x1b[31m" not in text


# ---------------------------------------------------------------------------------------------
# HTML report


class _Elements(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.script_bodies.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_bodies[-1] += data


def report_html(payload: str) -> str:
    report = need("readout.report")
    return report.render_html(result_with(payload), SOURCE)


def test_html_script_is_inert() -> None:
    page = report_html(SCRIPT)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _Elements()
    parsed.feed(page)
    assert all("alert(1)" not in body for body in parsed.script_bodies)
    for tag, attrs in parsed.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)


@pytest.mark.parametrize("payload", [IMAGE, LINK, RICH])
def test_html_markdown_and_markup_are_text(payload: str) -> None:
    page = report_html(payload)
    parsed = _Elements()
    parsed.feed(page)
    assert not [t for t, _ in parsed.tags if t in {"img", "iframe", "object", "embed"}]
    for tag, attrs in parsed.tags:
        for name in ("href", "src", "action"):
            assert "evil.example" not in (attrs.get(name) or ""), (tag, attrs)
    assert "<strong>red" not in page and "<b>red" not in page


def test_html_attribute_breakout_is_escaped() -> None:
    payload = '" onmouseover="alert(2)" x="'
    page = report_html(payload)
    parsed = _Elements()
    parsed.feed(page)
    for tag, attrs in parsed.tags:
        assert "onmouseover" not in attrs, (tag, attrs)

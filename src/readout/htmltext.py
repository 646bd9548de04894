"""HTML to plain text with the standard library's `html.parser`, for batch `.html` inputs.

The converted text is what readout analyses: evidence offsets index the converted text, not the
HTML. Block elements (p, div, li, headings, br, tr, ...) become line breaks, paragraphs are
separated by a blank line, whitespace inside a block collapses to single spaces, and `script`,
`style`, `template`, `noscript`, `head` content and comments are dropped. `<title>` is returned
separately (it is metadata, not part of the readout).
"""

from __future__ import annotations

from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCK = frozenset(
    (
        *("address", "article", "aside", "blockquote", "body", "dd", "details", "dialog"),
        *("div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "hr", "html", "li", "main", "nav", "ol", "p"),
        *("pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr"),
        "ul",
    )
)
_PARAGRAPH = frozenset(
    (
        *("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"),
        *("dl", "section", "article"),
    )
)
_SKIP = frozenset(("script", "style", "template", "noscript", "head", "svg"))


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[]]  # paragraphs, each a list of lines
        self.line: list[str] = []
        self.skip = 0
        self.in_title = False
        self.title: list[str] = []
        self.pre = 0

    # a break ends the current line; a paragraph break also ends the paragraph
    def _break(self, paragraph: bool) -> None:
        text = "".join(self.line)
        text = text.strip("\n") if self.pre else " ".join(text.split())
        if text:
            self.blocks[-1].append(text)
        self.line = []
        if paragraph and self.blocks[-1]:
            self.blocks.append([])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "br":
            self._break(False)
        elif tag in _BLOCK:
            self._break(tag in _PARAGRAPH)
            if tag == "pre":
                self.pre += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            self._break(tag == "hr")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
        elif tag in _BLOCK:
            self._break(tag in _PARAGRAPH)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.skip:
            self.line.append(data.replace("\r", ""))

    def result(self) -> tuple[str, str]:
        self._break(True)
        paragraphs = ["\n".join(lines) for lines in self.blocks if lines]
        return "\n\n".join(paragraphs) + ("\n" if paragraphs else ""), " ".join(
            "".join(self.title).split()
        )


def html_to_text(markup: str) -> tuple[str, str]:
    """Convert an HTML document to (text, title). Either may be empty."""
    parser = _Converter()
    parser.feed(markup)
    parser.close()
    return parser.result()

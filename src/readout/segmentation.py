"""Grounded sentences: the document model and the sentence segmenter.

Every engine sees a readout as a `Document`: the exact source text, where the analysed body starts
(after a corpus header or a ` date YYYY-MM-DD` prefix), the metadata read from that preamble, and
the body cut into `Sentence`s with exact character offsets into the source. Items point at
sentences; the library resolves them to spans, so nothing an engine says can point outside it.

The segmenter is a small rule-based one written for this domain (officials' titles, "U.S.",
"No. 10", quotes, numbered lists, headings, CJK full-width punctuation); the maintained Python
segmenters either lose exact offsets on edge cases or cost 10x the time of the whole offline engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Document", "Sentence", "parse_document", "split_sentences"]

HEADER_KEYS = frozenset({"source", "issuer", "date", "language", "title", "url", "id"})
_HEADER_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):[ \t]*(.*)$")
_DATE_PREFIX = re.compile(r"^[ \t\ufeff]*date[ \t:]+(\d{4}-\d{2}-\d{2})\b[ \t]*")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of the body: `source[start:end] == text`, `index` counts from 0."""

    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Document:
    """A readout as analysed: exact source, preamble metadata and grounded sentences."""

    source: str
    body_start: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)
    sentences: tuple[Sentence, ...] = ()

    @property
    def body(self) -> str:
        return self.source[self.body_start :]

    @property
    def date(self) -> str | None:
        value = self.metadata.get("date", "").strip()
        return value[:10] if _ISO_DATE.match(value[:10]) else None

    @property
    def language(self) -> str | None:
        value = self.metadata.get("language", "").strip().lower()
        return value or None

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence containing source offset `offset`, if any."""
        lo, hi = 0, len(self.sentences) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            s = self.sentences[mid]
            if offset < s.start:
                hi = mid - 1
            elif offset >= s.end:
                lo = mid + 1
            else:
                return s
        return None


def _read_preamble(source: str) -> tuple[int, dict[str, str]]:
    """Find a corpus header (`key: value` lines then `---`) or a seed ` date YYYY-MM-DD` prefix."""
    m = _DATE_PREFIX.match(source)
    if m:
        return m.end(), {"date": m.group(1)}
    metadata: dict[str, str] = {}
    pos = 0
    for _ in range(40):
        nl = source.find("\n", pos)
        line_end = len(source) if nl < 0 else nl
        line = source[pos:line_end].rstrip("\r").lstrip("\ufeff")
        if line.strip() == "---":
            if metadata and HEADER_KEYS.intersection(metadata):
                return (len(source) if nl < 0 else nl + 1), metadata
            return 0, {}
        hm = _HEADER_LINE.match(line.strip())
        if not hm:
            return 0, {}
        metadata[hm.group(1).lower()] = hm.group(2).strip()
        if nl < 0:
            return 0, {}
        pos = nl + 1
    return 0, {}


def parse_document(source: str, *, metadata: Mapping[str, str] | None = None) -> Document:
    """Build a `Document` from the exact text of a readout (a whole file as read).

    Explicit `metadata` (e.g. from a JSONL record) wins over what the preamble says.
    """
    body_start, found = _read_preamble(source)
    merged = {**found, **{k: str(v) for k, v in (metadata or {}).items() if v is not None}}
    sentences = tuple(split_sentences(source, body_start))
    return Document(source=source, body_start=body_start, metadata=merged, sentences=sentences)


# --- the segmenter -------------------------------------------------------------------------

# Tokens that end with a period but do not end a sentence (compared lower-cased, without the dot).
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "cmdr",
        "adm",
        "sgt",
        "sen",
        "rep",
        "gov",
        "pres",
        "amb",
        "hon",
        "rev",
        "messrs",
        "mme",
        "mlle",
        "sec",
        "dept",
        "est",
        "approx",
        "vs",
        "etc",
        "al",
        "eg",
        "ie",
        "cf",
        "viz",
        "fig",
        "no",
        "nos",
        "art",
        "para",
        "ch",
        "vol",
        "pp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "inc",
        "ltd",
        "co",
        "corp",
        "bros",
        "plc",
        "llc",
        "dist",
        "univ",
        "assn",
        "govt",
        "min",
    ]
)
# "U.S." style initialisms end a sentence only when a typical sentence opener follows.
_SENTENCE_OPENERS = frozenset(
    [
        "the",
        "a",
        "an",
        "he",
        "she",
        "they",
        "we",
        "it",
        "this",
        "that",
        "these",
        "those",
        "both",
        "his",
        "her",
        "their",
        "its",
        "in",
        "on",
        "at",
        "during",
        "after",
        "before",
        "while",
        "however",
        "meanwhile",
        "also",
        "president",
        "prime",
        "secretary",
        "minister",
        "foreign",
    ]
)
_ENDER = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|[。！？]+[」』”’）)]*")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_LIST_MARKER = re.compile(r"^\s*(?:\(?\d{1,3}[.)]|\(?[a-z][.)]|[-*•·])\s*$")
_TERMINAL = re.compile(r"[.!?…:;。！？」』\"”’)]\s*$")


def _is_boundary(text: str, end: int, next_start: int) -> bool:
    """Decide whether the ender run text[..end] ends a sentence."""
    dot_at = end - 1
    while dot_at >= 0 and text[dot_at] in "\"'”’»)]」』）":
        dot_at -= 1
    ch = text[dot_at] if dot_at >= 0 else ""
    nxt = text[next_start] if next_start < len(text) else ""
    if ch in "。！？":
        # 「…。」と述べた: a quotation closed by a particle continues the sentence
        return not (end - 1 > dot_at and nxt in "とっ、，")
    if not nxt:
        return True
    if ch != ".":
        # ! ? …: a lowercase continuation ("?" inside a quote) is not a boundary
        return not nxt.islower()
    if nxt.islower() or nxt in ",;:":
        return False
    line_start = text.rfind("\n", 0, dot_at) + 1
    before = text[line_start:dot_at]
    if _LIST_MARKER.match(before + "."):
        return False  # "1." opening a numbered list item
    m = _WORD_BEFORE.search(before)
    if not m:
        return True
    word = m.group(1)
    bare = word.rstrip(".").lower()
    if "." in word.strip("."):
        # initialism: U.S., U.K., D.C., e.g.
        following = re.match(r"[A-Za-z]+", text[next_start:])
        return bool(following and following.group(0).lower() in _SENTENCE_OPENERS)
    if len(word) == 1 and word.isupper():
        return False  # a middle initial: "Antony J. Blinken"
    if bare in _ABBREVIATIONS:
        if bare in {"no", "nos", "art", "para", "vol", "pp", "fig", "ch"}:
            return not nxt.isdigit()
        return False
    return True


def _line_spans(source: str, start: int) -> list[tuple[int, int]]:
    """Cut the body into blocks: blank lines, headings and list items start new blocks."""
    blocks: list[tuple[int, int]] = []
    pos = start
    n = len(source)
    cur_start: int | None = None
    cur_end = start
    while pos <= n:
        nl = source.find("\n", pos)
        line_end = n if nl < 0 else nl
        line = source[pos:line_end]
        stripped = line.strip()
        if not stripped:
            if cur_start is not None:
                blocks.append((cur_start, cur_end))
                cur_start = None
        else:
            lead = len(line) - len(line.lstrip())
            ls, le = pos + lead, pos + len(line.rstrip())
            if cur_start is None:
                cur_start, cur_end = ls, le
            else:
                prev = source[cur_start:cur_end]
                joins = (
                    not _TERMINAL.search(prev)
                    and stripped[:1].islower()
                    and not _LIST_MARKER.match(stripped.split(" ", 1)[0])
                )
                if joins:
                    cur_end = le  # a hard-wrapped line continues the sentence
                else:
                    blocks.append((cur_start, cur_end))
                    cur_start, cur_end = ls, le
        if nl < 0:
            break
        pos = nl + 1
    if cur_start is not None:
        blocks.append((cur_start, cur_end))
    return blocks


def split_sentences(source: str, start: int = 0) -> list[Sentence]:
    """Segment `source[start:]` into sentences whose offsets index `source` exactly."""
    out: list[Sentence] = []
    for b_start, b_end in _line_spans(source, start):
        block = source[b_start:b_end]
        s_start = 0
        for m in _ENDER.finditer(block):
            end = m.end()
            nxt = end
            while nxt < len(block) and block[nxt].isspace():
                nxt += 1
            if nxt >= len(block):
                break
            if _is_boundary(block, end, nxt):
                piece = block[s_start:end]
                if piece.strip():
                    lead = len(piece) - len(piece.lstrip())
                    a, z = b_start + s_start + lead, b_start + s_start + len(piece.rstrip())
                    out.append(Sentence(len(out), a, z, source[a:z]))
                s_start = nxt
        piece = block[s_start:]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            a, z = b_start + s_start + lead, b_start + s_start + len(piece.rstrip())
            out.append(Sentence(len(out), a, z, source[a:z]))
    return out

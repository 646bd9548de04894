"""Resolve what engines point at (sentence numbers, clause offsets) into exact source spans."""

from __future__ import annotations

from collections.abc import Iterable

from .errors import GroundingError
from .schema import Span
from .segmentation import Document


def sentence_span(document: Document, index: int) -> Span:
    """The whole sentence `index` (from 0) as a span."""
    if not 0 <= index < len(document.sentences):
        raise GroundingError(
            f"sentence {index} is out of range (document has {len(document.sentences)})"
        )
    s = document.sentences[index]
    return Span(sentence=s.index, start=s.start, end=s.end, text=s.text)


def sentence_spans(document: Document, indexes: Iterable[int]) -> list[Span]:
    """Spans for several sentences, deduplicated and in source order."""
    return [sentence_span(document, i) for i in sorted(set(indexes))]


_TRIM = " \t\r\n,;:-–—\"'“”‘’"


def clause_span(document: Document, start: int, end: int) -> Span:
    """A span of source offsets [start, end) trimmed of spaces and edge punctuation.

    Both ends must fall inside one sentence; the result is clipped to that sentence.
    """
    sentence = document.sentence_at(start)
    if sentence is None:
        raise GroundingError(f"offset {start} lies in no sentence")
    start = max(start, sentence.start)
    end = min(end, sentence.end)
    src = document.source
    while start < end and src[start] in _TRIM:
        start += 1
    while (
        end > start
        and src[end - 1] in _TRIM
        and not (src[end - 1] in "\"”’'" and src[start:end].count(src[end - 1]) % 2 == 0)
    ):
        end -= 1
    if end <= start:
        return Span(
            sentence=sentence.index, start=sentence.start, end=sentence.end, text=sentence.text
        )
    return Span(sentence=sentence.index, start=start, end=end, text=src[start:end])

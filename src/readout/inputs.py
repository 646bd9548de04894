"""Reading readouts: bytes to text with clear, one-line errors for unusable input."""

from __future__ import annotations

import codecs
import hashlib
import sys
from pathlib import Path

from .errors import InputError

MAX_CHARS = 1_000_000
"""The largest document readout accepts, in characters (about 150,000 words)."""


def text_sha256(text: str) -> str:
    """The SHA-256 of a text as UTF-8: `Provenance.source_sha256` and the batch store's key."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def decode(data: bytes, *, encoding: str | None = None, name: str = "input") -> str:
    """Decode bytes as UTF-8 (or UTF-16/UTF-8 with a BOM, or an explicit `encoding`)."""
    if not data:
        raise InputError(f"{name}: document is empty")
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8"
    if encoding.replace("-", "").lower() not in {"utf16", "utf32"} and b"\x00" in data[:8192]:
        raise InputError(f"{name}: looks like binary data (NUL bytes), not a text readout")
    try:
        text = data.decode(encoding)
    except LookupError as exc:
        raise InputError(f"{name}: unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not valid {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start});"
            " re-encode it as UTF-8 or pass --encoding"
        ) from None
    return check_text(text, name=name)


def check_text(text: str, *, name: str = "input") -> str:
    """Reject text that cannot be a readout; return it unchanged otherwise."""
    if not isinstance(text, str):
        raise InputError(f"{name}: expected text (str), got {type(text).__name__}")
    if not text.strip():
        raise InputError(f"{name}: document is empty" if not text else f"{name}: document is blank")
    if len(text) > MAX_CHARS:
        raise InputError(
            f"{name}: document has {len(text):,} characters; the limit is {MAX_CHARS:,}"
        )
    if "\x00" in text:
        raise InputError(f"{name}: contains NUL characters (binary data?)")
    return text


def read_text(path: str | Path, *, encoding: str | None = None) -> str:
    """Read a readout file (or `-` for standard input) as text, exactly as stored."""
    if str(path) == "-":
        return decode(sys.stdin.buffer.read(), encoding=encoding, name="<stdin>")
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_CHARS * 4:
            raise InputError(f"{p}: file is {size:,} bytes; the limit is {MAX_CHARS:,} characters")
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory") from None
    except PermissionError:
        raise InputError(f"{p}: permission denied") from None
    return decode(data, encoding=encoding, name=str(p))


HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
HTML_NOTE = "input was HTML: converted to text; evidence offsets index the converted text"


def looks_like_html(text: str) -> bool:
    """True when a text is an HTML page rather than a plain readout."""
    head = text.lstrip("\ufeff \t\r\n")[:200].lower()
    return head.startswith(("<!doctype html", "<html")) or (
        head.startswith("<") and "<body" in text[:5000].lower()
    )


def convert_html(text: str, *, name: str = "input") -> tuple[str, dict[str, str]]:
    """Convert an HTML page to the text readout analyses, with metadata saying so."""
    from .htmltext import html_to_text

    converted, title = html_to_text(text)
    metadata = {"converted_from": "html"}
    if title:
        metadata["title"] = title
    return check_text(converted, name=f"{name} (as text)"), metadata


def read_readout(path: str | Path, *, encoding: str | None = None) -> tuple[str, dict[str, str]]:
    """Read a readout file as the text to summarize, plus metadata about how it was read.

    HTML pages (by suffix or content) are converted to text; the metadata then says
    `converted_from: html` and evidence offsets index the converted text.
    """
    text = read_text(path, encoding=encoding)
    if Path(str(path)).suffix.lower() in HTML_SUFFIXES or looks_like_html(text):
        return convert_html(text, name=str(path))
    return text, {}

"""The public entry points: `summarize()` and its async twin `asummarize()`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

from .engines import Engine, EngineOutput, resolve_engine
from .errors import GroundingError
from .inputs import check_text, text_sha256
from .schema import Provenance, SummaryResult, validate_summary
from .segmentation import Document, parse_document

__all__ = ["asummarize", "summarize"]


def _prepare(text: str, metadata: Mapping[str, Any] | None) -> Document:
    check_text(text)
    return parse_document(text, metadata={k: str(v) for k, v in (metadata or {}).items()})


def _finish(document: Document, engine: Engine, out: EngineOutput, started: float) -> SummaryResult:
    try:
        summary = validate_summary(
            out.summary, source=document.source, sentences=document.sentences
        )
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        first = str(exc).splitlines()
        detail = first[2].strip() if len(first) > 2 else str(exc)
        raise GroundingError(
            f"engine {engine.name} returned an ungrounded summary: {detail}"
        ) from exc
    if summary.event.date is None and document.date:
        summary = summary.model_copy(
            update={
                "event": summary.event.model_copy(
                    update={"date": dt.date.fromisoformat(document.date)}
                )
            }
        )
    provenance = Provenance(
        engine=engine.name,
        model=out.model,
        prompt_id=out.prompt_id,
        prompt_version=out.prompt_version,
        prompt_hash=out.prompt_hash,
        source_sha256=text_sha256(document.source),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        usage=out.usage,
        created_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    return SummaryResult(
        summary=summary,
        provenance=provenance,
        warnings=list(out.warnings),
        metadata=dict(document.metadata),
    )


def summarize(
    text: str,
    *,
    engine: str | Engine = "auto",
    model: str | None = None,
    base_url: str | None = None,
    client: Any = None,
    summary_language: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> SummaryResult:
    """Summarize one readout into a validated, grounded `SummaryResult`.

    `text` is the exact readout (a whole file as read; a corpus header or a ` date YYYY-MM-DD`
    prefix is read as metadata and skipped for analysis). Every evidence span indexes `text`.
    `engine` is `auto` (LLM if configured, else offline), `rules`, `llm`, or an `Engine`.
    Raises `UserError` for bad input or configuration and `RunError` when the run fails.
    """
    started = time.perf_counter()
    document = _prepare(text, metadata)
    eng = resolve_engine(
        engine, model=model, base_url=base_url, client=client, summary_language=summary_language
    )
    return _finish(document, eng, eng.run(document), started)


async def asummarize(
    text: str,
    *,
    engine: str | Engine = "auto",
    model: str | None = None,
    base_url: str | None = None,
    client: Any = None,
    summary_language: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> SummaryResult:
    """The async twin of `summarize()`; `client` may be an `openai.AsyncOpenAI`."""
    started = time.perf_counter()
    document = _prepare(text, metadata)
    eng = resolve_engine(
        engine, model=model, base_url=base_url, client=client, summary_language=summary_language
    )
    return _finish(document, eng, await eng.arun(document), started)


def summarize_document(document: Document, engine: Engine) -> SummaryResult:
    """Summarize an already parsed `Document` with a resolved engine (used by batch and eval)."""
    started = time.perf_counter()
    return _finish(document, engine, engine.run(document), started)


async def asummarize_document(document: Document, engine: Engine) -> SummaryResult:
    """Async `summarize_document`."""
    started = time.perf_counter()
    return _finish(document, engine, await engine.arun(document), started)

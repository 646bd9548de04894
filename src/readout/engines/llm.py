"""`LLMEngine`: an OpenAI-compatible chat model reads the readout and cites sentences by number.

How one `run()` goes:

1. The prompt (`prompts/summarize.v*.toml`) is rendered: system text, few-shot pairs, then the
   readout as numbered sentences inside a data block with a per-call random boundary
   (`readout.prompting`). Optional hints (the parties the offline engine found) go in the block.
   A `mode = "review"` template (prompts v2 and v3; v3 is the default) instead lists the
   offline engine's draft items (`D1`, `D2`, ..., agreements first) and the answer asks for one
   decision per draft item (keep / drop / change category, in v2 also change speaker, plus a
   short summary) and then any missing items (`offline_draft`, `ReviewSpec`, `ReviewAnswer`,
   `review_to_summary`).
   A prompt estimated above `max_prompt_tokens` (or a readout above `max_sentences`) is refused
   with an `InputError` before anything is sent.
2. `instructor` (Mode.JSON_SCHEMA: OpenAI's `response_format: json_schema`) sends it with an
   LLM-facing response model built for this document: sentence numbers are constrained to
   1..N in the schema, list and string lengths are bounded (llama-server turns these into a
   grammar), and validators check party references. Country *names* are mapped to ISO alpha-3
   codes here, deterministically (`country_code`), not by the model.
3. A validation failure is re-asked (`max_reasks`, default 2) with a bounded context: the
   original messages, the previous failed answer (truncated) and the errors (truncated) — each
   re-ask *replaces* the previous failed attempt, so the context never grows with attempts.
   Exhausted re-asks raise `EngineError` carrying the attempts and the summed token usage.
4. Transport retries live in exactly one layer, here (tenacity; the SDK's own `max_retries` is
   0): 408/409/429/5xx and connection errors are retried with exponential backoff and jitter,
   `Retry-After` is honoured (and handed to the shared `RateLimiter`), other 4xx fail at once
   (401 → `ConfigError`, a context overflow → `EngineError` naming the limit).
5. The answer is resolved to a `ReadoutSummary` whose evidence spans are exact sentence spans
   (`grounding.sentence_spans`), so every item is grounded by construction.

Usage (prompt/completion tokens and HTTP requests) is summed over every attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
import random
import re
import time
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import openai
import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
)

from ..config import ENV_API_KEY, LLMConfig
from ..errors import ConfigError, EngineError, InputError
from ..grounding import sentence_spans
from ..prompting import PromptTemplate, RenderedPrompt, load_prompt, new_boundary, render_prompt
from ..ratelimit import RateLimiter
from ..schema import (
    MAX_SUMMARY,
    Agreement,
    Event,
    Party,
    Position,
    ReadoutSummary,
    Request,
    Usage,
)
from ..segmentation import Document
from .base import Engine, EngineOutput

__all__ = [
    "MAX_PROMPT_TOKENS",
    "MAX_SENTENCES",
    "LLMEngine",
    "ReviewAnswer",
    "ReviewSpec",
    "country_code",
    "offline_draft",
    "response_model",
    "review_to_summary",
    "to_summary",
]

log = logging.getLogger("readout")
# instructor logs every failed attempt at ERROR; readout reports failures itself, once.
logging.getLogger("instructor.v2.retry").setLevel(logging.CRITICAL)

MAX_PROMPT_TOKENS = 12_000
"""Largest estimated prompt (fixed overhead + readout) the engine sends (about 8,000 words)."""
MAX_SENTENCES = 180
"""Largest readout, in sentences, the engine sends (sentence numbers must stay citable)."""
MAX_COMPLETION_TOKENS = 3_000
"""Upper bound on one answer (`max_tokens`), so a rambling model cannot run forever; the bound
actually sent is min(this, 300 + 90 per sentence)."""
SUMMARY_CHARS = 160
"""Longest item summary or headline the model may write (enforced by the schema/grammar)."""
RETRY_STATUSES = frozenset({408, 409, 429})
_REASK_ANSWER_CHARS = 1_500
_REASK_ERROR_CHARS = 1_200
_MAX_RETRY_AFTER = 120.0

# --- country names to ISO 3166-1 alpha-3 ------------------------------------------------------

_COUNTRY_TABLE = {
    "eu": "EUR", "european union": "EUR", "the european union": "EUR", "europe": "EUR",
    "un": "UNO", "united nations": "UNO", "the united nations": "UNO",
    "us": "USA", "u.s.": "USA", "usa": "USA", "u.s.a.": "USA", "united states": "USA",
    "united states of america": "USA", "the united states": "USA", "america": "USA",
    "american": "USA",
    "uk": "GBR", "u.k.": "GBR", "britain": "GBR", "great britain": "GBR", "england": "GBR",
    "united kingdom": "GBR", "the united kingdom": "GBR", "british": "GBR",
    "russia": "RUS", "russian": "RUS", "russian federation": "RUS",
    "china": "CHN", "chinese": "CHN", "prc": "CHN", "people's republic of china": "CHN",
    "south korea": "KOR", "korea": "KOR", "republic of korea": "KOR", "rok": "KOR",
    "korean": "KOR", "north korea": "PRK", "dprk": "PRK",
    "iran": "IRN", "iranian": "IRN", "syria": "SYR", "vietnam": "VNM", "viet nam": "VNM",
    "taiwan": "TWN", "turkey": "TUR", "türkiye": "TUR", "turkiye": "TUR", "laos": "LAO",
    "bolivia": "BOL", "venezuela": "VEN", "tanzania": "TZA", "moldova": "MDA",
    "czech republic": "CZE", "palestine": "PSE", "vatican": "VAT", "holy see": "VAT",
    "ivory coast": "CIV", "cape verde": "CPV", "brunei": "BRN", "micronesia": "FSM",
    "japanese": "JPN", "french": "FRA", "german": "DEU", "indian": "IND", "mexican": "MEX",
    "canadian": "CAN", "pakistani": "PAK", "ukrainian": "UKR", "italian": "ITA",
    "spanish": "ESP", "australian": "AUS", "brazilian": "BRA", "israeli": "ISR",
    "singaporean": "SGP", "afghan": "AFG", "saudi": "SAU", "saudi arabia": "SAU",
    "emirati": "ARE", "uae": "ARE", "canada": "CAN",
}


@functools.lru_cache(maxsize=1024)
def country_code(name: str | None) -> str | None:
    """ISO 3166-1 alpha-3 for a country (or EU/UN) name, adjective or code; None if unknown."""
    if not name:
        return None
    raw = " ".join(name.replace("’", "'").split()).lower()
    if raw in _COUNTRY_TABLE:
        return _COUNTRY_TABLE[raw]
    key = raw.strip(" .")
    if not key:
        return None
    if key in _COUNTRY_TABLE:
        return _COUNTRY_TABLE[key]
    if key.startswith("the "):
        return country_code(key[4:])
    if len(key) in (2, 3) and key.isalpha():
        found = pycountry.countries.get(**{f"alpha_{len(key)}": key.upper()})
        if found is not None:
            return found.alpha_3
    try:
        return pycountry.countries.lookup(key).alpha_3
    except LookupError:
        return None


# --- the LLM-facing response model ------------------------------------------------------------

# The parties the offline pre-pass listed for the document being validated. A context variable,
# not instructor's `context=` (instructor renders the messages as Jinja templates with it, which
# would let a readout's "{{ ... }}" be evaluated); each thread / asyncio task sees its own value.
_HINT_PARTIES: ContextVar[dict[str, dict[str, str]]] = ContextVar(
    "readout_hint_parties", default={}  # noqa: B039 (never mutated)
)

_SCHEMAS: dict[type, dict[str, Any]] = {}
# True while `salvage` validates a cut-off answer: a review answer may then lack draft items.
_SALVAGING: ContextVar[bool] = ContextVar("readout_salvaging", default=False)

def _wrapped(model: type[BaseModel]) -> Any:
    """`model` wrapped once for instructor (it would otherwise build a wrapper per request)."""
    try:
        from instructor.v2.core.function_calls import response_schema
    except ImportError:  # pragma: no cover - another instructor layout: it wraps per request
        return model
    wrapped = response_schema(model)
    _check_once(wrapped)
    return wrapped


_CHECKED: weakref.WeakSet[type] = weakref.WeakSet()


def _check_once(model: type) -> None:
    """Run instructor's async-validator check on one of our answer models once, not per call.

    instructor walks the response model's whole class tree for async validators about five
    times per request (~15% of the library's own time per call). Our answer models are built
    here, once, and never change, so each is checked once (the original check, which raises if
    it fails) and then skipped; every other model still gets instructor's check every time.
    """
    try:
        from instructor.v2.core import patch
        from instructor.v2.validation import async_validators
    except ImportError:  # pragma: no cover - another instructor layout: checked per call
        return
    original = async_validators.reject_async_validators
    if not getattr(original, "_readout_once", False):
        check = original

        def reject_async_validators(response_model: Any) -> None:
            if response_model in _CHECKED:
                return
            check(response_model)

        reject_async_validators._readout_once = True  # type: ignore[attr-defined]
        async_validators.reject_async_validators = reject_async_validators
        if getattr(patch, "reject_async_validators", None) is original:
            patch.reject_async_validators = reject_async_validators
        original = check
    original(model)  # raises if the model has async validators: then it is never skipped
    _CHECKED.add(model)


LLMEventKind = Literal["call", "video_call", "meeting", "visit", "joint_statement", "other"]
EVENT_KINDS: tuple[str, ...] = get_args(LLMEventKind)
_ID = r"^[a-z][a-z0-9_]{0,23}$"


@functools.lru_cache(maxsize=256)
def response_model(n_sentences: int) -> type[BaseModel]:
    """The model the LLM fills for a document of `n_sentences` sentences (cached per size).

    Sentence numbers are 1..n_sentences in the JSON schema itself, so a grammar-constrained
    server (llama-server) cannot emit an out-of-range number; lists and strings are bounded.
    """
    n = max(1, n_sentences)
    max_items = min(40, n + 2)  # per list: about one item per sentence, plus a little
    sentence_no = Annotated[int, Field(ge=1, le=n)]
    sentences_t = Annotated[list[sentence_no], Field(min_length=1, max_length=4)]
    party_id = Annotated[str, Field(pattern=_ID, max_length=24)]
    summary_t = Annotated[str, Field(min_length=1, max_length=SUMMARY_CHARS)]

    class _Base(BaseModel):
        model_config = ConfigDict(extra="ignore")

    class LLMParty(_Base):
        id: party_id
        name: Annotated[str, Field(min_length=1, max_length=120)]
        country: Annotated[str, Field(max_length=60)] | None = None
        role: Literal["participant", "third_party"] = "participant"

    class LLMPosition(_Base):
        sentences: sentences_t
        party: party_id
        summary: summary_t

    class LLMRequest(_Base):
        sentences: sentences_t
        by: party_id
        to: Annotated[list[party_id], Field(min_length=1, max_length=6)]
        force: Literal["ask", "urge", "demand"] = "ask"
        summary: summary_t

    class LLMAgreement(_Base):
        sentences: sentences_t
        parties: Annotated[list[party_id], Field(min_length=1, max_length=10)]
        kind: Literal["shared_view", "joint_action", "signed_instrument"] = "shared_view"
        summary: summary_t

    class LLMSummary(_Base):
        headline: Annotated[str, Field(min_length=1, max_length=SUMMARY_CHARS)]
        event: LLMEventKind = "other"
        parties: Annotated[list[LLMParty], Field(max_length=12)]
        positions: Annotated[list[LLMPosition], Field(max_length=max_items)]
        requests: Annotated[list[LLMRequest], Field(max_length=max_items)]
        agreements: Annotated[list[LLMAgreement], Field(max_length=max_items)]

        @model_validator(mode="after")
        def _check(self, info: ValidationInfo) -> LLMSummary:
            errors: list[str] = []
            ids = [p.id for p in self.parties]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                errors.append(f"duplicate party ids {dupes}")
            known = set(ids)
            limit = (info.context or {}).get("n_sentences", n)
            hinted = _HINT_PARTIES.get()
            refs: list[tuple[str, str]] = []
            for i, p in enumerate(self.positions):
                refs.append((f"positions[{i}].party", p.party))
            for i, r in enumerate(self.requests):
                refs.append((f"requests[{i}].by", r.by))
                refs.extend((f"requests[{i}].to", t) for t in r.to)
            for i, a in enumerate(self.agreements):
                refs.extend((f"agreements[{i}].parties", t) for t in a.parties)
            for where, ref in refs:
                if ref in known:
                    continue
                if ref in hinted:  # a party the pre-pass listed: add it rather than re-ask
                    self.parties.append(LLMParty(id=ref, **hinted[ref]))
                    known.add(ref)
                    continue
                errors.append(f"{where} is {ref!r}, not one of the party ids {sorted(known)}")
            for name in ("positions", "requests", "agreements"):
                for i, item in enumerate(getattr(self, name)):
                    bad = [s for s in item.sentences if not 1 <= s <= limit]
                    if bad:
                        errors.append(f"{name}[{i}].sentences {bad} not in 1..{limit}")
            if errors:
                raise ValueError("; ".join(errors[:8]))
            return self

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            # instructor asks for the schema on every request: build it once per model.
            if args or kwargs:
                return super().model_json_schema(*args, **kwargs)
            if cls not in _SCHEMAS:
                _SCHEMAS[cls] = super().model_json_schema()
            return copy.deepcopy(_SCHEMAS[cls])

    LLMSummary.__name__ = LLMSummary.__qualname__ = "ReadoutAnswer"
    return _wrapped(LLMSummary)


# --- resolving an answer to a grounded ReadoutSummary ---------------------------------------


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def to_summary(answer: BaseModel, document: Document) -> tuple[ReadoutSummary, list[str]]:
    """Resolve an LLM answer into a grounded `ReadoutSummary` (exact sentence spans)."""
    warnings: list[str] = []
    data: Any = answer
    parties: list[Party] = []
    for p in data.parties:
        code = country_code(p.country) or country_code(p.name)
        if code is None and (p.country or "").strip():
            warnings.append(f"party {p.id}: country {p.country!r} not recognised; left empty")
        parties.append(
            Party(id=p.id, name=_clip(p.name, 200), country=code, role=p.role)
        )

    def spans(numbers: list[int]) -> list[Any]:
        return sentence_spans(document, [s - 1 for s in numbers])

    seen: set[tuple[Any, ...]] = set()

    def fresh(key: tuple[Any, ...]) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True

    positions = [
        Position(party=x.party, summary=_clip(x.summary, MAX_SUMMARY), evidence=spans(x.sentences))
        for x in data.positions
        if fresh(("p", x.party, _clip(x.summary, 80).lower(), tuple(x.sentences)))
    ]
    requests = [
        Request(
            by=x.by,
            to=list(dict.fromkeys(x.to)),
            force=x.force,
            summary=_clip(x.summary, MAX_SUMMARY),
            evidence=spans(x.sentences),
        )
        for x in data.requests
        if fresh(("r", x.by, _clip(x.summary, 80).lower(), tuple(x.sentences)))
    ]
    agreements = [
        Agreement(
            parties=list(dict.fromkeys(x.parties)),
            kind=x.kind,
            summary=_clip(x.summary, MAX_SUMMARY),
            evidence=spans(x.sentences),
        )
        for x in data.agreements
        if fresh(("a", tuple(x.parties), _clip(x.summary, 80).lower(), tuple(x.sentences)))
    ]
    summary = ReadoutSummary(
        event=Event(kind=data.event),
        parties=parties,
        headline=_clip(data.headline, 400) or "Summary",
        positions=positions,
        requests=requests,
        agreements=agreements,
    )
    return summary, warnings


# --- hints from the offline engine -------------------------------------------------------------


HintLevel = Literal["none", "parties", "sentences"]


def _country_label(code: str | None) -> str:
    if not code:
        return ""
    special = {"EUR": "European Union", "UNO": "United Nations"}
    if code in special:
        return special[code]
    c = pycountry.countries.get(alpha_3=code)
    return getattr(c, "common_name", None) or getattr(c, "name", code) if c else code


def offline_hints(
    document: Document, level: HintLevel = "sentences"
) -> tuple[str, dict[str, dict[str, str]]]:
    """What the offline engine found: hint lines for the data block and its parties by id.

    `parties`: the parties (id, country, person); `sentences` adds, per sentence, the items the
    rule pre-pass saw there (category and speaker ids), so a small model mostly has to check,
    classify and summarize instead of discovering. The hints are data, inside the fenced block.
    """
    if level == "none":
        return "", {}
    try:
        from .rules import RulesEngine

        found = RulesEngine().run(document).summary
    except Exception as exc:  # the hints are optional: never fail a run for them
        log.debug("offline hints unavailable: %s", type(exc).__name__)
        return "", {}
    if not found.parties:
        return "", {}
    lines = ["# parties detected (id: country; role; person)"]
    parties: dict[str, dict[str, str]] = {}
    for p in found.parties[:12]:
        country = _country_label(p.country) or p.name
        parties[p.id] = {"name": _clip(country, 120), "country": country, "role": p.role}
        person = p.name if p.name != country else ""
        if person and p.title:
            person = f"{person}, {p.title}"
        lines.append("; ".join(x for x in (f"{p.id}: {country}", p.role, person) if x))
    if level == "sentences":
        notes: dict[int, list[str]] = {}
        for category, item in found.items():
            who = "+".join(found.speakers(item))
            if category == "request":
                who += " to " + "+".join(item.to)  # type: ignore[union-attr]
            for span in item.evidence[:1]:
                notes.setdefault(span.sentence, []).append(f"{category} by {who}")
        if notes:
            lines.append("# rule pre-pass (may be wrong or incomplete): sentence: items")
            for idx in sorted(notes):
                lines.append(f"S{idx + 1}: " + "; ".join(notes[idx]))
    return "\n".join(lines), parties


# --- prompt mode "review": the model reviews the offline engine's draft -----------------------

ReviewDecision = Literal["keep", "drop", "position", "request", "agreement"]
ItemCategory = Literal["agreement", "request", "position"]
REVIEW_DECISIONS: tuple[str, ...] = get_args(ReviewDecision)
CATEGORIES: tuple[str, ...] = get_args(ItemCategory)
REVIEW_SUMMARY_CHARS = 110
"""Longest summary in a review answer (short, so the token cap is not reached)."""
MAX_DRAFT_ITEMS = 60
QUOTE_CHARS = 90
"""Longest quote of a draft item's evidence in the draft list (the words it is about)."""
MAX_MISSING = 8


@dataclass(frozen=True)
class DraftItem:
    """One item of the offline draft, as shown to the model (`D1`, `D2`, ...)."""

    id: str
    category: Literal["position", "request", "agreement"]
    speakers: tuple[str, ...]
    to: tuple[str, ...]
    sentences: tuple[int, ...]  # sentence numbers, from 1
    summary: str
    force: str = "ask"
    kind: str = "shared_view"
    quote: str = ""  # the draft's evidence text (source words), shortened


@dataclass(frozen=True)
class Draft:
    """The offline engine's parties and items, agreements first, for a review prompt."""

    parties: tuple[Party, ...]
    items: tuple[DraftItem, ...]

    @property
    def party_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parties)

    @property
    def participants(self) -> tuple[str, ...]:
        ids = tuple(p.id for p in self.parties if p.role == "participant")
        return ids or self.party_ids

    def hints(self) -> str:
        lines = ["# parties detected (id: country; role; person)"]
        for p in self.parties:
            country = _country_label(p.country) or p.name
            person = p.name if p.name != country else ""
            if person and p.title:
                person = f"{person}, {p.title}"
            lines.append("; ".join(x for x in (f"{p.id}: {country}", p.role, person) if x))
        lines.append(
            "# draft items from a rule pre-pass, to review"
            " (id: category by speaker: sentences: quoted words)"
        )
        for d in self.items:
            who = "+".join(d.speakers)
            if d.category == "request":
                who += " to " + "+".join(d.to)
            where = ",".join(f"S{s}" for s in d.sentences)
            quote = f': "{d.quote}"' if d.quote else ""
            lines.append(f"{d.id}: {d.category} by {who}: {where}{quote}")
        if not self.items:
            lines.append("(no draft items)")
        return "\n".join(lines)


def offline_draft(document: Document) -> Draft:
    """The offline (rules) engine's result as a draft to review: agreements, requests, positions."""
    try:
        from .rules import RulesEngine

        found = RulesEngine().run(document).summary
    except Exception as exc:  # never fail a run for the draft: review an empty one
        log.debug("offline draft unavailable: %s", type(exc).__name__)
        return Draft((), ())
    order = {"agreement": 0, "request": 1, "position": 2}
    entries = sorted(found.items(), key=lambda ci: order[ci[0]])
    items: list[DraftItem] = []
    for category, item in entries[:MAX_DRAFT_ITEMS]:
        sentences = tuple(sorted({s.sentence + 1 for s in item.evidence}))[:4]
        items.append(
            DraftItem(
                id=f"D{len(items) + 1}",
                category=category,
                speakers=tuple(found.speakers(item)),
                to=tuple(getattr(item, "to", ()) or ()),
                sentences=sentences,
                summary=item.summary,
                force=getattr(item, "force", "ask"),
                kind=getattr(item, "kind", "shared_view"),
                quote=_clip(" ... ".join(s.text for s in item.evidence[:2]), QUOTE_CHARS),
            )
        )
    return Draft(tuple(found.parties[:12]), tuple(items))


@dataclass(frozen=True)
class ReviewSpec:
    """What a review answer must satisfy for one document: its size, draft ids and party ids.

    The answer model (`ReviewAnswer`) is one class for every document; the per-document
    constraints live here and reach it through a context variable set around each call, so a
    new document costs a small dict (`json_schema`) instead of building a Pydantic model.
    """

    n_sentences: int
    draft_ids: tuple[str, ...]
    party_ids: tuple[str, ...]
    speaker: bool = True
    """Whether a review may correct an item's speaker (template key `review_speaker`)."""

    def json_schema(self) -> dict[str, Any]:
        """The schema sent for this document (a fresh dict: callers may mutate it).

        Sentence numbers are 1..N, party ids an enum of the draft's parties, every draft item
        gets a required review object in order, lengths are bounded: a grammar-constrained
        server (llama-server) cannot emit anything else.
        """
        n = max(1, self.n_sentences)
        party: dict[str, Any] = (
            {"enum": list(self.party_ids), "type": "string"}
            if self.party_ids
            else {"maxLength": 24, "pattern": _ID, "type": "string"}
        )
        review: dict[str, Any] = {
            "decision": {"enum": list(REVIEW_DECISIONS), "type": "string"},
            "summary": {"maxLength": REVIEW_SUMMARY_CHARS, "type": "string"},
        }
        if self.speaker:
            review["speaker"] = {"anyOf": [dict(party), {"type": "null"}], "default": None}
        return {
            "$defs": {
                "Review": {
                    "properties": review,
                    "required": ["decision", "summary"],
                    "type": "object",
                },
                "Missing": {
                    "properties": {
                        "category": {"enum": list(CATEGORIES), "type": "string"},
                        "sentences": {
                            "items": {"maximum": n, "minimum": 1, "type": "integer"},
                            "maxItems": 3, "minItems": 1, "type": "array",
                        },
                        "speakers": {
                            "items": dict(party), "maxItems": 6, "minItems": 1, "type": "array"
                        },
                        "to": {"items": dict(party), "maxItems": 6, "type": "array"},
                        "summary": {
                            "maxLength": REVIEW_SUMMARY_CHARS, "minLength": 1, "type": "string"
                        },
                    },
                    "required": ["category", "sentences", "speakers", "to", "summary"],
                    "type": "object",
                },
            },
            "properties": {
                "review": {
                    "properties": {d: {"$ref": "#/$defs/Review"} for d in self.draft_ids},
                    "required": list(self.draft_ids),
                    "type": "object",
                },
                "missing": {
                    "items": {"$ref": "#/$defs/Missing"},
                    "maxItems": MAX_MISSING,
                    "type": "array",
                },
                "headline": {"maxLength": SUMMARY_CHARS, "type": "string"},
                "event": {"enum": list(EVENT_KINDS), "type": "string"},
            },
            "required": ["review", "missing", "headline", "event"],
            "title": "ReviewAnswer",
            "type": "object",
        }


# The spec of the document whose review is being sent or validated (see ReviewSpec).
_REVIEW_SPEC: ContextVar[ReviewSpec | None] = ContextVar("readout_review_spec", default=None)


class Review(BaseModel):
    """The model's decision on one draft item."""

    model_config = ConfigDict(extra="ignore")
    decision: ReviewDecision = "keep"
    summary: Annotated[str, Field(max_length=REVIEW_SUMMARY_CHARS)] = ""
    speaker: str | None = None


class Missing(BaseModel):
    """An item the draft lacked, cited by sentence number."""

    model_config = ConfigDict(extra="ignore")
    category: ItemCategory
    sentences: Annotated[list[int], Field(min_length=1, max_length=3)]
    speakers: Annotated[list[str], Field(min_length=1, max_length=6)]
    to: Annotated[list[str], Field(max_length=6)] = []
    summary: Annotated[str, Field(min_length=1, max_length=REVIEW_SUMMARY_CHARS)]


class _ReviewAnswer(BaseModel):
    """The answer to a review prompt: one decision per draft item, then items the draft missed.

    Validated against the current `ReviewSpec`. Lenient where the schema is strict (every field
    has a default), so a cut-off answer can be salvaged: draft items it did not reach are kept
    as drafted.
    """

    model_config = ConfigDict(extra="ignore")
    review: dict[str, Review] = {}
    missing: Annotated[list[Missing], Field(max_length=MAX_MISSING)] = []
    headline: Annotated[str, Field(max_length=SUMMARY_CHARS)] = "Summary"
    event: LLMEventKind = "other"

    @model_validator(mode="before")
    @classmethod
    def _complete(cls, data: Any) -> Any:
        # A whole answer must review every draft item (only a cut-off one may stop early).
        spec = _REVIEW_SPEC.get()
        if spec is None or _SALVAGING.get() or not isinstance(data, dict):
            return data
        review = data.get("review")
        if not isinstance(review, dict):
            raise ValueError("review: missing; give one decision per draft item")
        absent = [
            d for d in spec.draft_ids
            if not isinstance(review.get(d), dict) or "decision" not in review[d]
        ]
        if absent:
            raise ValueError(f"review: no decision for draft items {absent[:12]}")
        return data

    @model_validator(mode="after")
    def _check(self) -> _ReviewAnswer:
        spec = _REVIEW_SPEC.get()
        if spec is None:
            return self
        errors: list[str] = []
        self.review = {k: v for k, v in self.review.items() if k in spec.draft_ids}
        known = set(spec.party_ids)

        def bad_party(pid: str) -> bool:
            return pid not in known if known else not re.fullmatch(_ID, pid)

        for r in self.review.values():
            if r.speaker is not None and (not spec.speaker or bad_party(r.speaker)):
                r.speaker = None  # a correction the schema does not offer: ignored
        for i, m in enumerate(self.missing):
            out = [s for s in m.sentences if not 1 <= s <= spec.n_sentences]
            if out:
                errors.append(f"missing[{i}].sentences {out} not in 1..{spec.n_sentences}")
            unknown = [p for p in (*m.speakers, *m.to) if bad_party(p)]
            if unknown:
                errors.append(
                    f"missing[{i}]: party ids {unknown} not among {sorted(known)}"
                )
        if errors:
            raise ValueError("; ".join(errors[:8]))
        return self

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        spec = _REVIEW_SPEC.get()
        if args or kwargs or spec is None:
            return super().model_json_schema(*args, **kwargs)
        return spec.json_schema()


ReviewAnswer: Any = _wrapped(_ReviewAnswer)
ReviewAnswer.__name__ = ReviewAnswer.__qualname__ = "ReviewAnswer"


def review_to_summary(
    answer: BaseModel, document: Document, draft: Draft, *, additions: str = "any"
) -> tuple[ReadoutSummary, list[str]]:
    """Apply a review answer to the draft: a grounded `ReadoutSummary` (exact sentence spans).

    Kept and changed draft items keep the draft's sentence numbers; added items cite the
    sentence numbers the model gave. Draft items the answer did not reach are kept as drafted.
    `additions="uncovered"` keeps an added item only when none of its sentences holds a kept
    draft item (the draft already covers those sentences; a small model's additions there are
    mostly repeats in another category); `"any"` keeps every addition that is not a repeat.
    """
    warnings: list[str] = []
    data: Any = answer
    known = set(draft.party_ids)
    parties = list(draft.parties)
    participants = list(draft.participants)

    def ensure(pid: str) -> bool:
        if pid in known:
            return True
        code = country_code(pid.replace("_", " "))
        if code is None:
            return False
        parties.append(Party(id=pid, name=_country_label(code) or pid, country=code))
        known.add(pid)
        return True

    def spans(numbers: Any) -> list[Any]:
        return sentence_spans(document, [s - 1 for s in numbers])

    def others(speakers: list[str]) -> list[str]:
        rest = [p for p in participants if p not in speakers]
        return rest or [p for p in draft.party_ids if p not in speakers] or list(speakers)

    positions: list[Position] = []
    requests: list[Request] = []
    agreements: list[Agreement] = []
    seen: list[tuple[tuple[Any, ...], set[int]]] = []

    def add(category: str, speakers: list[str], to: list[str], summary: str, sentences: Any,
            force: str = "ask", kind: str = "shared_view", *, added: bool = False) -> None:
        speakers = [s for s in dict.fromkeys(speakers) if ensure(s)]
        if not speakers or not sentences:
            return
        # A sentence may hold several draft items; an added item repeating one is skipped.
        key = (category, tuple(sorted(speakers)))
        if added and any(k == key and set(sentences) & ss for k, ss in seen):
            return  # an added item overlapping a same-category, same-speaker item repeats it
        seen.append((key, set(sentences)))
        summary = _clip(summary, MAX_SUMMARY) or "(no summary)"
        if category == "position":
            positions.append(
                Position(party=speakers[0], summary=summary, evidence=spans(sentences))
            )
        elif category == "request":
            to = [t for t in dict.fromkeys(to) if t not in speakers and ensure(t)]
            requests.append(Request(by=speakers[0], to=to or others(speakers[:1]),
                                    force=force, summary=summary,  # type: ignore[arg-type]
                                    evidence=spans(sentences)))
        else:
            if len(speakers) < 2:
                speakers = list(dict.fromkeys([*speakers, *participants]))
            agreements.append(Agreement(parties=speakers, kind=kind,  # type: ignore[arg-type]
                                        summary=summary, evidence=spans(sentences)))

    reviews = data.review
    unreviewed = 0
    dropped: set[str] = set()
    for d in draft.items:
        r = reviews.get(d.id)
        if r is None:
            unreviewed += 1
            add(d.category, list(d.speakers), list(d.to), d.summary, d.sentences, d.force, d.kind)
            continue
        if r.decision == "drop":
            dropped.add(d.id)
            continue
        category = d.category if r.decision == "keep" else r.decision
        speakers = list(d.speakers)
        if r.speaker and category != "agreement" and r.speaker in known:
            speakers = [r.speaker]
        if category != d.category and category == "agreement":
            speakers = list(dict.fromkeys([*speakers, *participants]))
        to = list(d.to) if d.category == "request" else others(speakers[:1])
        summary = r.summary.strip() or d.summary
        add(category, speakers, to, summary, d.sentences,
            d.force if d.category == "request" else "ask",
            d.kind if d.category == "agreement" else "shared_view")
    if unreviewed:
        warnings.append(f"{unreviewed} draft item(s) not reviewed by the model; kept as drafted")
    covered = {s for d in draft.items if d.id not in dropped for s in d.sentences}
    for m in data.missing:
        if additions == "uncovered" and covered & set(m.sentences):
            continue
        add(m.category, list(m.speakers), list(m.to), m.summary, sorted(set(m.sentences)),
            added=True)
    summary = ReadoutSummary(
        event=Event(kind=data.event),
        parties=parties,
        headline=_clip(data.headline, 400) or "Summary",
        positions=positions,
        requests=requests,
        agreements=agreements,
    )
    return summary, warnings


# --- transport ---------------------------------------------------------------------------------


class _Invalid(Exception):
    """One attempt produced an answer that failed validation (internal)."""

    def __init__(self, errors: str, raw: str, usage: Usage, *, truncated: bool = False) -> None:
        super().__init__(errors)
        self.errors, self.raw, self.usage = errors, raw, usage
        self.truncated = truncated


def salvage(raw: str, model: type[BaseModel]) -> BaseModel | None:
    """The longest valid prefix of a JSON answer cut off at the token cap, closed properly.

    Cuts after each complete object (an item, a party), closes the open brackets, fills the lists
    the model had not reached with [] and validates; returns None when no prefix is valid.
    """
    stack: list[str] = []
    cuts: list[tuple[int, tuple[str, ...]]] = []
    in_str = esc = False
    for i, ch in enumerate(raw):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            if ch == "}" and stack:
                cuts.append((i + 1, tuple(stack)))
    for pos, open_ in reversed(cuts[-300:]):
        text = raw[:pos] + "".join("}" if c == "{" else "]" for c in reversed(open_))
        try:
            data = json.loads(text)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        for key in ("parties", "positions", "requests", "agreements"):
            data.setdefault(key, [])
        data.setdefault("headline", "Summary (answer cut off)")
        token = _SALVAGING.set(True)
        try:
            return model.model_validate(data)
        except ValidationError:
            continue
        finally:
            _SALVAGING.reset(token)
    return None


def _usage_of(obj: Any) -> Usage:
    u = getattr(obj, "usage", None) if not _is_usage(obj) else obj
    if u is None:
        return Usage()
    p = int(getattr(u, "prompt_tokens", 0) or 0)
    c = int(getattr(u, "completion_tokens", 0) or 0)
    t = int(getattr(u, "total_tokens", 0) or 0) or p + c
    return Usage(prompt_tokens=p, completion_tokens=c, total_tokens=t)


def _is_usage(obj: Any) -> bool:
    return hasattr(obj, "prompt_tokens") and not hasattr(obj, "choices")


def _raw_text(completion: Any) -> str:
    try:
        return completion.choices[0].message.content or ""
    except (AttributeError, IndexError, TypeError):
        return ""


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name in ("retry-after-ms", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / (1000 if name.endswith("ms") else 1)
        except ValueError:
            continue
        return min(max(seconds, 0.0), _MAX_RETRY_AFTER)
    return None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    return False


_KEY_LIKE = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+\S+)")


def _server_message(exc: openai.APIStatusError, secret: str | None = None) -> str:
    """The server's error message, one line, with the key (or anything key-like) redacted."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else str(inner)
    else:
        msg = str(body or exc.message)
    msg = str(msg or "")
    if secret:
        msg = msg.replace(secret, "[redacted]")
    return _clip(_KEY_LIKE.sub("[redacted]", msg), 200)


def _context_overflow(exc: openai.APIStatusError) -> str | None:
    """A one-line explanation when a 400 says the prompt exceeds the model's context."""
    body = exc.body if isinstance(exc.body, dict) else {}
    inner = body.get("error", body) if isinstance(body, dict) else {}
    inner = inner if isinstance(inner, dict) else {}
    text = f"{inner.get('type', '')} {inner.get('code', '')} {inner.get('message', '')}".lower()
    if not any(w in text for w in ("context", "n_ctx", "too long", "maximum length")):
        return None
    n_ctx = inner.get("n_ctx")
    n_prompt = inner.get("n_prompt_tokens")
    if n_ctx is None:
        m = re.search(r"maximum context length is (\d+)", text)
        n_ctx = m.group(1) if m else None
    limit = f"its context window of {n_ctx} tokens" if n_ctx else "its context window"
    size = f" ({n_prompt} prompt tokens)" if n_prompt else ""
    return (
        f"the request exceeds the model's context: the server rejected it{size} because it "
        f"exceeds {limit}; use a model or server with a larger context (llama-server -c)"
    )


class _Transport:
    """Exactly one retry layer for HTTP failures; shared by the sync and async paths."""

    def __init__(self, engine: LLMEngine) -> None:
        self.engine = engine

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = _retry_after(exc) if exc is not None else None
        if after is not None:
            if self.engine.limiter is not None:
                self.engine.limiter.pause_for(after)
            return after
        return self.engine._backoff(state)

    def _stop(self) -> Any:
        return stop_after_attempt(self.engine.config.max_retries + 1)

    def sync(self) -> Retrying:
        return Retrying(
            stop=self._stop(),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
            sleep=self.engine._sleep,
        )

    def asyncr(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=self._stop(),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            reraise=True,
            sleep=self.engine._asleep,
        )


def _unwrap(exc: BaseException) -> BaseException:
    """instructor wraps API errors in InstructorRetryException: find the underlying one."""
    seen = 0
    while seen < 5 and not isinstance(exc, (openai.APIError, ValidationError)):
        cause = exc.__cause__ or exc.__context__
        if cause is None:
            break
        exc, seen = cause, seen + 1
    return exc


@dataclass
class _Run:
    """Per-run accounting: attempts (model answers), HTTP requests and usage."""

    usage: Usage
    attempts: int = 0

    def add(self, usage: Usage) -> None:
        self.usage = self.usage + usage


@dataclass
class _Plan:
    """What one run sends and how its answer is read: the answer model, hinted parties, draft."""

    model: Any
    hint_parties: dict[str, dict[str, str]]
    draft: Draft | None = None
    spec: ReviewSpec | None = None

    @contextlib.contextmanager
    def bound(self) -> Iterator[None]:
        """Make this plan's constraints visible to the answer model's validators and schema."""
        hints = _HINT_PARTIES.set(self.hint_parties)
        spec = _REVIEW_SPEC.set(self.spec)
        try:
            yield
        finally:
            _REVIEW_SPEC.reset(spec)
            _HINT_PARTIES.reset(hints)


# --- the engine --------------------------------------------------------------------------------


class LLMEngine(Engine):
    """Summarize with an OpenAI-compatible chat model (OpenAI, llama-server, Ollama, vLLM, ...)."""

    name = "llm"

    def __init__(
        self,
        config: LLMConfig | None = None,
        *,
        client: Any = None,
        limiter: RateLimiter | None = None,
        prompt: PromptTemplate | str | None = None,
        hints: HintLevel | bool = "sentences",
        on_truncation: Literal["salvage", "reask"] = "salvage",
        max_prompt_tokens: int = MAX_PROMPT_TOKENS,
        max_sentences: int = MAX_SENTENCES,
        max_completion_tokens: int = MAX_COMPLETION_TOKENS,
        temperature: float | None = 0.0,
        seed: int | None = None,
        backoff_base: float = 1.0,
        backoff_max: float = 30.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.config = config or LLMConfig.resolve(require_key=client is None)
        self.model = self.config.model
        if isinstance(prompt, PromptTemplate):
            self.prompt = prompt
        else:
            self.prompt = load_prompt(prompt or "summarize")
        self.prompt_version = self.prompt.version
        self.limiter = limiter
        self.hints: HintLevel = (
            "sentences" if hints is True else "none" if hints is False else hints
        )
        self.on_truncation = on_truncation
        self.max_prompt_tokens = max_prompt_tokens
        self.max_sentences = max_sentences
        self.max_completion_tokens = max_completion_tokens
        self.temperature = temperature
        self.seed = seed
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.rng = rng
        self._sleep = sleep
        self._asleep = asleep
        self._client = client
        self._sync: Any = None
        self._async: Any = None
        self._transport = _Transport(self)

    def __repr__(self) -> str:  # never the key
        return f"LLMEngine(model={self.model!r}, base_url={self.config.base_url!r})"

    # -- clients --------------------------------------------------------------------------------

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            # Local servers need no key, but the SDK insists on one: a placeholder, never logged.
            "api_key": self.config.api_key or "not-needed",
            "base_url": self.config.base_url,
            "timeout": self.config.timeout,
            "max_retries": 0,  # transport retries are ours (tenacity), in one layer
        }

    @staticmethod
    def _no_sdk_retries(client: Any) -> Any:
        with_options = getattr(client, "with_options", None)
        return with_options(max_retries=0) if callable(with_options) else client

    def _instructor(self, *, asynchronous: bool) -> Any:
        import instructor

        if asynchronous:
            if self._async is None:
                raw = self._client
                if raw is None or not isinstance(raw, openai.AsyncOpenAI):
                    raw = openai.AsyncOpenAI(**self._client_kwargs())
                else:
                    raw = self._no_sdk_retries(raw)
                self._async = instructor.from_openai(raw, mode=instructor.Mode.JSON_SCHEMA)
            return self._async
        if self._sync is None:
            raw = self._client
            if raw is None:
                raw = openai.OpenAI(**self._client_kwargs())
            else:
                raw = self._no_sdk_retries(raw)
            self._sync = instructor.from_openai(raw, mode=instructor.Mode.JSON_SCHEMA)
        return self._sync

    # -- prompt -----------------------------------------------------------------------------------

    def render(self, document: Document) -> RenderedPrompt:
        """The prompt for `document`, refusing readouts too long to send."""
        return self._prepare(document)[0]

    def _prepare(self, document: Document) -> tuple[RenderedPrompt, _Plan]:
        n = len(document.sentences)
        if n == 0:
            raise InputError("the readout has no sentences to summarize")
        if n > self.max_sentences:
            raise InputError(
                f"readout has {n} sentences; the LLM engine sends at most {self.max_sentences} "
                "(split it, or use --engine rules)"
            )
        if len(document.body) > self.max_prompt_tokens * 4:
            raise InputError(
                f"readout is too long for the LLM engine: {len(document.body):,} characters, "
                f"over the prompt limit of {self.max_prompt_tokens:,} tokens "
                "(split it, or use --engine rules)"
            )
        n_sentences = len(document.sentences)
        if self.prompt.mode == "review":  # the draft is the task: sent whatever `hints` says
            draft = offline_draft(document)
            hints = draft.hints()
            spec = ReviewSpec(
                n_sentences,
                tuple(d.id for d in draft.items),
                draft.party_ids,
                speaker=self.prompt.review_speaker,
            )
            plan = _Plan(ReviewAnswer, {}, draft, spec)
        else:
            hints, hint_parties = offline_hints(document, self.hints)
            plan = _Plan(response_model(n_sentences), hint_parties)
        rendered = render_prompt(
            self.prompt,
            document,
            boundary=new_boundary(self.rng),
            summary_language=self.config.summary_language,
            hints=hints,
        )
        if rendered.estimated_tokens > self.max_prompt_tokens:
            raise InputError(
                f"readout is too long for the LLM engine: about {rendered.estimated_tokens:,} "
                f"prompt tokens, over the limit of {self.max_prompt_tokens:,} "
                "(split it, or use --engine rules)"
            )
        return rendered, plan

    def _request(self, messages: list[dict[str, str]], n: int, model: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "response_model": model,
            "max_retries": 0,  # re-asks are ours: bounded context, see _reask_messages
            # no `context=`: instructor would template the messages with it (see _HINT_PARTIES)
            "max_tokens": min(self.max_completion_tokens, 300 + 90 * n),
        }
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.seed is not None:
            kwargs["seed"] = self.seed
        return kwargs

    @staticmethod
    def _reask_messages(
        base: list[dict[str, str]], failure: _Invalid
    ) -> list[dict[str, str]]:
        """Base messages + the last failed answer + its errors (replacing older failures)."""
        raw = failure.raw
        if len(raw) > _REASK_ANSWER_CHARS:
            raw = raw[:_REASK_ANSWER_CHARS] + " …(truncated)"
        errors = _clip(failure.errors, _REASK_ERROR_CHARS)
        return [
            *base,
            {"role": "assistant", "content": raw or "(no answer)"},
            {
                "role": "user",
                "content": (
                    "That JSON answer was invalid: "
                    f"{errors} Answer again with corrected JSON only, following the schema."
                ),
            },
        ]

    def _backoff(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter: base * 2^(n-1), capped, plus up to `base` random."""
        exp = self.backoff_base * 2 ** max(0, state.attempt_number - 1)
        return min(self.backoff_max, exp) + random.uniform(0, self.backoff_base)

    # -- errors -----------------------------------------------------------------------------------

    def _fail(self, exc: BaseException, run: _Run) -> Exception:
        """Map a transport/API failure to a readout error (one line, never a secret)."""
        usage = run.usage.model_dump()
        if isinstance(exc, openai.AuthenticationError):
            return ConfigError(f"authentication failed (check {ENV_API_KEY})")
        if isinstance(exc, openai.PermissionDeniedError):
            return ConfigError(f"permission denied by the server (check {ENV_API_KEY} and model)")
        if isinstance(exc, openai.NotFoundError):
            return ConfigError(
                f"model {self.model!r} or endpoint not found (check --model and --base-url)"
            )
        if isinstance(exc, openai.APIStatusError):
            overflow = _context_overflow(exc) if exc.status_code in (400, 413) else None
            if overflow:
                return EngineError(overflow, attempts=run.attempts, usage=usage)
            verb = "failed" if _retryable(exc) else "rejected the request"
            tries = f" after {run.usage.requests} requests" if _retryable(exc) else ""
            return EngineError(
                f"server {verb} ({exc.status_code}){tries}: "
                f"{_server_message(exc, self.config.api_key)}",
                attempts=run.attempts,
                usage=usage,
            )
        if isinstance(exc, openai.APITimeoutError):
            return EngineError(
                f"server timed out after {self.config.timeout:g}s "
                f"({run.usage.requests} requests)",
                attempts=run.attempts,
                usage=usage,
            )
        if isinstance(exc, openai.APIConnectionError):
            where = self.config.base_url or "the OpenAI API"
            return EngineError(
                f"cannot connect to {where} ({run.usage.requests} requests)",
                attempts=run.attempts,
                usage=usage,
            )
        return EngineError(
            f"LLM call failed: {type(exc).__name__}: {_clip(str(exc), 200)}",
            attempts=run.attempts,
            usage=usage,
        )

    @staticmethod
    def _invalid_from(exc: BaseException, run: _Run) -> _Invalid | None:
        """An instructor validation/parse failure as `_Invalid`, else None."""
        name = type(exc).__name__
        inner = _unwrap(exc)
        completion = getattr(exc, "last_completion", None)
        if name == "IncompleteOutputException":
            return _Invalid(
                "the answer was cut off (too long); give fewer, shorter items",
                _raw_text(completion),
                _usage_of(completion),
                truncated=True,
            )
        if name != "InstructorRetryException" or isinstance(inner, openai.APIError):
            return None
        usage = _usage_of(getattr(exc, "total_usage", None))
        if isinstance(inner, ValidationError):
            errors = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}"
                for e in inner.errors()[:8]
            )
        else:
            errors = _clip(str(inner), 400)
        return _Invalid(errors, _raw_text(completion), usage)

    @classmethod
    def _classified(cls, exc: BaseException, run: _Run) -> BaseException:
        """What a failed call raises: `_Invalid` (re-ask, usage counted) or the transport error."""
        invalid = cls._invalid_from(exc, run)
        if invalid is None:
            return _unwrap(exc)
        run.add(invalid.usage)
        return invalid

    def _exhausted(self, run: _Run, last: _Invalid) -> EngineError:
        return EngineError(
            f"model {self.model!r} gave no valid summary after {run.attempts} attempts "
            f"({self.config.max_reasks} re-asks); last error: {_clip(last.errors, 300)}",
            attempts=run.attempts,
            usage=run.usage.model_dump(),
        )

    def _salvaged(self, failure: _Invalid, plan: _Plan) -> BaseModel | None:
        """A cut-off answer's complete items, when `on_truncation="salvage"` (the default).

        Re-asking after a cut-off costs a whole new answer and small models tend to be just as
        long again; keeping the complete items bounds the cost. Validation errors are re-asked.
        """
        if not failure.truncated or self.on_truncation != "salvage" or not failure.raw:
            return None
        with plan.bound():
            return salvage(failure.raw, plan.model)

    def _output(
        self,
        document: Document,
        rendered: RenderedPrompt,
        answer: Any,
        run: _Run,
        plan: _Plan,
        *,
        cut_off: bool = False,
    ) -> EngineOutput:
        if plan.draft is not None:
            summary, warnings = review_to_summary(
                answer, document, plan.draft, additions=self.prompt.review_additions
            )
        else:
            summary, warnings = to_summary(answer, document)
        if cut_off:
            warnings.append(
                "the model's answer was cut off at the token cap; kept its complete items"
            )
        if run.attempts > 1:
            warnings.append(f"valid after {run.attempts} attempts ({run.attempts - 1} re-asks)")
        return EngineOutput(
            summary=summary,
            usage=run.usage,
            model=self.model,
            prompt_id=rendered.prompt_id,
            prompt_version=rendered.prompt_version,
            prompt_hash=rendered.prompt_hash,
            warnings=warnings,
        )

    # -- sync -------------------------------------------------------------------------------------

    def run(self, document: Document) -> EngineOutput:
        if self._client is not None and isinstance(self._client, openai.AsyncOpenAI):
            return asyncio.run(self.arun(document))
        rendered, plan = self._prepare(document)
        client = self._instructor(asynchronous=False)
        n = len(document.sentences)
        run = _Run(Usage())
        messages = rendered.messages
        last: _Invalid | None = None
        for _ in range(self.config.max_reasks + 1):
            run.attempts += 1
            try:
                request = self._request(messages, n, plan.model)
                with plan.bound():
                    answer = self._send_sync(client, request, rendered, run)
            except _Invalid as failure:
                last = failure
                kept = self._salvaged(failure, plan)
                if kept is not None:
                    return self._output(document, rendered, kept, run, plan, cut_off=True)
                messages = self._reask_messages(rendered.messages, failure)
                continue
            return self._output(document, rendered, answer, run, plan)
        assert last is not None
        raise self._exhausted(run, last)

    def _send_sync(
        self, client: Any, kwargs: dict[str, Any], rendered: RenderedPrompt, run: _Run
    ) -> Any:
        tokens = rendered.estimated_tokens + self.max_completion_tokens
        try:
            for attempt in self._transport.sync():
                with attempt:
                    if self.limiter is not None:
                        self.limiter.acquire_sync(tokens)
                    run.add(Usage(requests=1))
                    try:
                        answer, completion = client.chat.completions.create_with_completion(
                            **kwargs
                        )
                    except Exception as exc:
                        raise self._classified(exc, run) from None
                    run.add(_usage_of(completion))
                    return answer
        except _Invalid:
            raise
        except (openai.APIError, OSError) as exc:
            raise self._fail(exc, run) from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- async ------------------------------------------------------------------------------------

    async def arun(self, document: Document) -> EngineOutput:
        if self._client is not None and not isinstance(self._client, openai.AsyncOpenAI):
            return await asyncio.to_thread(self.run, document)  # an injected sync client
        rendered, plan = self._prepare(document)
        client = self._instructor(asynchronous=True)
        n = len(document.sentences)
        run = _Run(Usage())
        messages = rendered.messages
        last: _Invalid | None = None
        for _ in range(self.config.max_reasks + 1):
            run.attempts += 1
            try:
                request = self._request(messages, n, plan.model)
                with plan.bound():
                    answer = await self._send_async(client, request, rendered, run)
            except _Invalid as failure:
                last = failure
                kept = self._salvaged(failure, plan)
                if kept is not None:
                    return self._output(document, rendered, kept, run, plan, cut_off=True)
                messages = self._reask_messages(rendered.messages, failure)
                continue
            return self._output(document, rendered, answer, run, plan)
        assert last is not None
        raise self._exhausted(run, last)

    async def _send_async(
        self, client: Any, kwargs: dict[str, Any], rendered: RenderedPrompt, run: _Run
    ) -> Any:
        tokens = rendered.estimated_tokens + self.max_completion_tokens
        try:
            async for attempt in self._transport.asyncr():
                with attempt:
                    if self.limiter is not None:
                        await self.limiter.acquire(tokens)
                    run.add(Usage(requests=1))
                    try:
                        answer, completion = await client.chat.completions.create_with_completion(
                            **kwargs
                        )
                    except Exception as exc:
                        raise self._classified(exc, run) from None
                    run.add(_usage_of(completion))
                    return answer
        except _Invalid:
            raise
        except (openai.APIError, OSError) as exc:
            raise self._fail(exc, run) from None
        raise AssertionError("unreachable")  # pragma: no cover

"""The readout schema: Pydantic v2 models that are the source of truth for every output.

`ReadoutSummary` is what an engine produces; `SummaryResult` wraps it with provenance. Validation
with a context of `{"source": str, "sentences": [...]}` also checks that every evidence span
resolves exactly into the source (`text == source[start:end]`) and lies inside its sentence.
`readout schema` exports these models to `schemas/`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

SCHEMA_VERSION = "1.0"

EventKind = Literal["call", "video_call", "meeting", "visit", "joint_statement", "other"]
PartyRole = Literal["participant", "third_party"]
RequestForce = Literal["ask", "urge", "demand"]
AgreementKind = Literal["shared_view", "joint_action", "signed_instrument"]
Category = Literal["position", "request", "agreement"]
CATEGORIES: tuple[Category, ...] = ("position", "request", "agreement")

MAX_SUMMARY = 600
MAX_NAME = 200

PartyId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Short party id.")]
SummaryText = Annotated[str, Field(min_length=1, max_length=MAX_SUMMARY)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Span(_Model):
    """An exact character span of the source: `source[start:end] == text`."""

    sentence: int = Field(ge=0, description="Index (from 0) of the sentence holding the span.")
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Span:
        if self.end <= self.start:
            raise ValueError(f"span end {self.end} must be after start {self.start}")
        if len(self.text) != self.end - self.start:
            raise ValueError("span text length does not match start/end")
        ctx = info.context or {}
        source = ctx.get("source")
        if source is not None and source[self.start : self.end] != self.text:
            raise ValueError(f"span {self.start}:{self.end} does not match the source text")
        sentences = ctx.get("sentences")
        if sentences is not None:
            if self.sentence >= len(sentences):
                raise ValueError(
                    f"sentence {self.sentence} is out of range (document has {len(sentences)})"
                )
            s = sentences[self.sentence]
            if not (s.start <= self.start and self.end <= s.end):
                raise ValueError(f"span {self.start}:{self.end} lies outside sentence {s.index}")
        return self


Evidence = Annotated[list[Span], Field(min_length=1, max_length=20)]


class Event(_Model):
    """What happened: the kind of contact, when, where, and who initiated it."""

    kind: EventKind = "other"
    date: dt.date | None = None
    location: str | None = Field(default=None, max_length=MAX_NAME)
    initiated_by: PartyId | None = None


class Party(_Model):
    """A state, organisation or official taking part in, or talked about in, the readout."""

    id: PartyId
    name: str = Field(min_length=1, max_length=MAX_NAME, description="Name as written.")
    title: str | None = Field(default=None, max_length=MAX_NAME)
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{3,4}$",
        description=(
            "ISO 3166-1 alpha-3 for states; EUR for the EU, UNO for the UN, NATO, QUAD for groups"
            " that speak as one; null when unknown."
        ),
    )
    role: PartyRole = "participant"


class Position(_Model):
    """A view, stance, concern, welcome, thanks or one-sided pledge of one party."""

    party: PartyId
    summary: SummaryText
    evidence: Evidence


class Request(_Model):
    """Something one party asked, urged or demanded of others (present or third parties)."""

    by: PartyId
    to: list[PartyId] = Field(min_length=1, max_length=20)
    summary: SummaryText
    force: RequestForce = "ask"
    evidence: Evidence


class Agreement(_Model):
    """Something the parties agreed on, affirmed together, committed to jointly or signed."""

    parties: list[PartyId] = Field(min_length=1, max_length=20)
    summary: SummaryText
    kind: AgreementKind = "shared_view"
    evidence: Evidence


Item = Position | Request | Agreement


class ReadoutSummary(_Model):
    """The structured summary of one readout; every item is grounded in the source."""

    event: Event = Field(default_factory=Event)
    parties: list[Party] = Field(default_factory=list, max_length=50)
    headline: str = Field(min_length=1, max_length=400)
    positions: list[Position] = Field(default_factory=list, max_length=500)
    requests: list[Request] = Field(default_factory=list, max_length=500)
    agreements: list[Agreement] = Field(default_factory=list, max_length=500)

    @field_validator("headline")
    @classmethod
    def _one_line(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("headline is empty")
        return " ".join(v.split())

    @model_validator(mode="after")
    def _references(self) -> ReadoutSummary:
        ids = [p.id for p in self.parties]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate party ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        known = set(ids)

        def check(ref: str, where: str) -> None:
            if ref not in known:
                raise ValueError(f"{where} refers to unknown party id {ref!r}")

        if self.event.initiated_by is not None:
            check(self.event.initiated_by, "event.initiated_by")
        for i, p in enumerate(self.positions):
            check(p.party, f"positions[{i}].party")
        for i, r in enumerate(self.requests):
            check(r.by, f"requests[{i}].by")
            for t in r.to:
                check(t, f"requests[{i}].to")
        for i, a in enumerate(self.agreements):
            for t in a.parties:
                check(t, f"agreements[{i}].parties")
        for category, item in self.items():
            if not item.summary.strip():
                raise ValueError(f"a {category} has an empty summary")
        return self

    def items(self) -> Iterator[tuple[Category, Item]]:
        """Every item with its category, positions first, then requests, then agreements."""
        for p in self.positions:
            yield "position", p
        for r in self.requests:
            yield "request", r
        for a in self.agreements:
            yield "agreement", a

    def party(self, party_id: str) -> Party | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def speakers(self, item: Item) -> list[str]:
        """Party ids speaking for an item: position party, requester, or agreeing parties."""
        if isinstance(item, Position):
            return [item.party]
        if isinstance(item, Request):
            return [item.by]
        return list(item.parties)


class Usage(_Model):
    """Token usage summed over every HTTP attempt of one summarize() call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    requests: int = Field(default=0, description="HTTP requests made, retries included.")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            requests=self.requests + other.requests,
        )


class Provenance(_Model):
    """How a summary was made: enough to reproduce it or to know it is stale."""

    engine: str
    model: str | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    schema_version: str = SCHEMA_VERSION
    source_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    duration_ms: float = Field(ge=0)
    usage: Usage | None = None
    created_at: dt.datetime


class SummaryResult(_Model):
    """The result envelope: the summary, its provenance, and warnings for the reader."""

    summary: ReadoutSummary
    provenance: Provenance
    warnings: list[str] = Field(default_factory=list)
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Metadata the input carried (header, date prefix)."
    )


def validate_summary(data: Any, *, source: str, sentences: Sequence[Any]) -> ReadoutSummary:
    """Validate a summary (model or dict) against the exact source and its sentences."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="python")
    return ReadoutSummary.model_validate(data, context={"source": source, "sentences": sentences})


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas exported to `schemas/`, by file name."""
    return {
        "readout-summary.schema.json": ReadoutSummary.model_json_schema(),
        "summary-result.schema.json": SummaryResult.model_json_schema(),
    }

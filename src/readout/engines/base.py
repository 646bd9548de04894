"""The engine interface: a document in, a `ReadoutSummary` draft and accounting out."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..schema import ReadoutSummary, Usage
from ..segmentation import Document


@dataclass
class EngineOutput:
    """What an engine returns; `summary` spans must resolve into `document.source`."""

    summary: ReadoutSummary
    usage: Usage | None = None
    model: str | None = None
    prompt_id: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    warnings: list[str] = field(default_factory=list)


class Engine(ABC):
    """An engine turns a `Document` into a grounded `ReadoutSummary`."""

    name: str = "engine"
    model: str | None = None
    prompt_version: str | None = None

    @abstractmethod
    def run(self, document: Document) -> EngineOutput:
        """Summarize one document."""

    async def arun(self, document: Document) -> EngineOutput:
        """Summarize one document without blocking the event loop."""
        return await asyncio.to_thread(self.run, document)

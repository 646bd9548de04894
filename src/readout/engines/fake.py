"""`FakeEngine`: a scripted engine for tests. It is fake: it reads nothing and knows nothing."""

from __future__ import annotations

from collections.abc import Callable

from ..grounding import sentence_span
from ..schema import Party, Position, ReadoutSummary, Usage
from ..segmentation import Document
from .base import Engine, EngineOutput


def _echo(document: Document) -> ReadoutSummary:
    """One party, one position per sentence: a predictable, grounded, meaningless summary."""
    party = Party(id="fake", name="Fake Party", country=None, role="participant")
    positions = [
        Position(party="fake", summary=s.text[:200], evidence=[sentence_span(document, s.index)])
        for s in document.sentences
    ]
    return ReadoutSummary(parties=[party], headline="Fake summary.", positions=positions)


class FakeEngine(Engine):
    """A fake engine for tests: returns `script(document)` and counts its calls.

    It can also raise a scripted exception, to test how callers handle engine failures.
    """

    name = "fake"

    def __init__(
        self,
        script: Callable[[Document], ReadoutSummary] = _echo,
        *,
        model: str | None = "fake-model",
        prompt_version: str | None = None,
        usage: Usage | None = None,
        error: Exception | None = None,
    ) -> None:
        self.script = script
        self.model = model
        self.prompt_version = prompt_version
        self.usage = usage
        self.error = error
        self.calls = 0

    def run(self, document: Document) -> EngineOutput:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return EngineOutput(
            summary=self.script(document),
            usage=self.usage,
            model=self.model,
            prompt_version=self.prompt_version,
        )

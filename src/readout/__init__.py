"""readout: turn diplomatic readouts into validated, grounded, structured summaries.

>>> import readout
>>> result = readout.summarize(open("seeds/wangyi-ebrard-2021.txt").read(), engine="rules")
>>> result.summary.positions[0].evidence[0].text
"""

from __future__ import annotations

from .api import asummarize, summarize
from .engines import Engine, EngineOutput, FakeEngine, resolve_engine
from .errors import (
    ConfigError,
    EngineError,
    GroundingError,
    InputError,
    ReadoutError,
    RunError,
    UserError,
)
from .schema import (
    SCHEMA_VERSION,
    Agreement,
    Event,
    Party,
    Position,
    Provenance,
    ReadoutSummary,
    Request,
    Span,
    SummaryResult,
    Usage,
)
from .segmentation import Document, Sentence, parse_document

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "Agreement",
    "ConfigError",
    "Document",
    "Engine",
    "EngineError",
    "EngineOutput",
    "Event",
    "FakeEngine",
    "GroundingError",
    "InputError",
    "Party",
    "Position",
    "Provenance",
    "ReadoutError",
    "ReadoutSummary",
    "Request",
    "RunError",
    "Sentence",
    "Span",
    "SummaryResult",
    "Usage",
    "UserError",
    "__version__",
    "asummarize",
    "parse_document",
    "resolve_engine",
    "summarize",
]

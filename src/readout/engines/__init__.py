"""Engines: `rules` (offline, deterministic), `llm` (OpenAI-compatible), and a test fake."""

from __future__ import annotations

import logging
from typing import Any

from ..config import ENGINES, LLMConfig, llm_configured
from ..errors import UserError
from .base import Engine, EngineOutput
from .fake import FakeEngine

__all__ = ["Engine", "EngineOutput", "FakeEngine", "resolve_engine"]

log = logging.getLogger("readout")


def resolve_engine(
    engine: str | Engine = "auto",
    *,
    model: str | None = None,
    base_url: str | None = None,
    client: Any = None,
    summary_language: str | None = None,
) -> Engine:
    """An `Engine` from a name (`auto`, `rules`, `llm`) or an engine instance as is.

    `auto` picks the LLM engine when an API key or base URL is configured (or a client is given),
    else the offline `rules` engine.
    """
    if isinstance(engine, Engine):
        return engine
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if engine == "auto":
        wants_llm = client is not None or base_url is not None or llm_configured()
        engine = "llm" if wants_llm else "rules"
        if engine == "rules":
            log.info("engine auto: no API key or base URL configured, using the offline engine")
    if engine == "rules":
        from .rules import RulesEngine

        return RulesEngine()
    from .llm import LLMEngine

    config = LLMConfig.resolve(
        model=model,
        base_url=base_url,
        summary_language=summary_language,
        require_key=client is None,
    )
    return LLMEngine(config, client=client)

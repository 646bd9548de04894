"""Configuration resolution, in one place: explicit argument > environment > defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ConfigError

DEFAULT_MODEL = "gpt-4o-mini"
ENGINES = ("auto", "rules", "llm")

ENV_API_KEY = "OPENAI_API_KEY"
ENV_API_KEY_ALT = "READOUT_API_KEY"
ENV_MODEL = "READOUT_MODEL"
ENV_BASE_URL = "READOUT_BASE_URL"
ENV_BASE_URL_ALT = "OPENAI_BASE_URL"
ENV_TIMEOUT = "READOUT_TIMEOUT"
ENV_DB = "READOUT_DB"


def _env(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True)
class LLMConfig:
    """Everything the LLM engine needs to reach a server. The key never appears in `repr`."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    max_retries: int = 4
    max_reasks: int = 2
    summary_language: str = "English"

    @classmethod
    def resolve(
        cls,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        summary_language: str | None = None,
        env: Mapping[str, str] | None = None,
        require_key: bool = True,
        **overrides: object,
    ) -> LLMConfig:
        """Build the config from arguments, then `READOUT_*`/`OPENAI_*` variables, then defaults.

        A key is required only for the hosted OpenAI API (no base URL): local OpenAI-compatible
        servers (llama.cpp, Ollama, vLLM) usually need none.
        """
        env = os.environ if env is None else env
        base_url = base_url or _env(env, ENV_BASE_URL, ENV_BASE_URL_ALT)
        api_key = api_key or _env(env, ENV_API_KEY_ALT, ENV_API_KEY)
        if api_key is None and base_url is None and require_key:
            raise ConfigError(
                f"no API key: set {ENV_API_KEY} (or {ENV_BASE_URL} for a local "
                "OpenAI-compatible server), or use --engine rules"
            )
        timeout = overrides.pop("timeout", None) or _env(env, ENV_TIMEOUT) or cls.timeout
        try:
            timeout_f = float(timeout)  # type: ignore[arg-type]
        except ValueError:
            raise ConfigError(f"{ENV_TIMEOUT} must be a number of seconds") from None
        return cls(
            model=model or _env(env, ENV_MODEL) or DEFAULT_MODEL,
            base_url=base_url,
            api_key=api_key,
            timeout=timeout_f,
            summary_language=summary_language or "English",
            **overrides,  # type: ignore[arg-type]
        )


def llm_configured(env: Mapping[str, str] | None = None) -> bool:
    """True when an API key or a base URL is set, so `engine="auto"` picks the LLM."""
    env = os.environ if env is None else env
    return _env(env, ENV_API_KEY, ENV_API_KEY_ALT, ENV_BASE_URL, ENV_BASE_URL_ALT) is not None

"""VCR configuration for the LLM engine tests: replay real recordings, offline, strictly.

- Cassettes live in the top-level `cassettes/` and are real recordings against llama-server
  (`scripts/record-cassettes`); never write or edit one by hand.
- Record mode is `none` (replay only) unless READOUT_RECORD names the model being recorded
  (`qwen` or `gemma`; set by scripts/record-cassettes), and the network is blocked for every test
  here, so a missing or stale cassette fails instead of reaching out.
- Requests match on method, path and body: a changed prompt, schema or parameter fails loudly.
- A test fails when an interaction of its cassette was left unplayed.
- Secrets never reach a cassette: only harmless headers are kept (see `_scrub_request`).
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from readout.config import LLMConfig
from readout.engines.llm import LLMEngine
from readout.prompting import load_prompt

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes"
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "seeds" / "wangyi-ebrard-2021.txt"

MODELS = {"qwen": "qwen2.5-coder-1.5b-instruct", "gemma": "gemma-3-270m"}
# The prompt version the cassettes were recorded with (re-record when changing it).
CASSETTE_PROMPT = ("summarize", "1")
RECORDING = os.environ.get("READOUT_RECORD", "")
KEEP_REQUEST_HEADERS = {"content-type", "accept"}
KEEP_RESPONSE_HEADERS = {"content-type", "retry-after"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "recorded_with(model, record=True): the cassette is a recording of this local model",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.block_network)
        if RECORDING:
            marker = item.get_closest_marker("recorded_with")
            if marker is None or marker.args[0] != RECORDING:
                item.add_marker(pytest.mark.skip(reason=f"recording {RECORDING} only"))


def base_url(model: str) -> str:
    """The server's URL while recording; a placeholder when replaying (the host is not matched)."""
    return os.environ.get(f"READOUT_RECORD_{model.upper()}_URL", "http://127.0.0.1:8080/v1")


def make_engine(model: str, **kwargs: Any) -> LLMEngine:
    """An engine whose request bodies are deterministic (seeded boundary, temperature 0, seed).

    Hints are off so the recordings do not depend on the offline engine's evolving output, and
    the prompt version is pinned to the one recorded.
    """
    kwargs.setdefault("hints", False)
    kwargs.setdefault("prompt", load_prompt(*CASSETTE_PROMPT))
    kwargs.setdefault("rng", random.Random(20240601))
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("backoff_base", 0.0)
    if model == "gemma":  # its answers are mostly wrong: keep each one short (and fast to record)
        kwargs.setdefault("max_completion_tokens", 400)
        kwargs.setdefault("on_truncation", "reask")  # exercise the real re-ask path
    config = LLMConfig(
        model=MODELS[model],
        base_url=base_url(model),
        api_key=None,
        max_reasks=kwargs.pop("max_reasks", 2),
        timeout=600.0,
    )
    return LLMEngine(config, **kwargs)


def _scrub_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() not in KEEP_REQUEST_HEADERS:
            del request.headers[name]
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() not in KEEP_RESPONSE_HEADERS:
            del headers[name]
    return response


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("recorded_with")
    recording = (
        marker is not None
        and RECORDING
        and marker.args[0] == RECORDING
        and marker.kwargs.get("record", True)  # record=False: replays another test's cassette
    )
    return {
        "record_mode": "all" if recording else "none",
        "match_on": ["method", "path", "body"],
        "filter_headers": ["authorization", "api-key", "x-api-key", "cookie", "set-cookie",
                           "openai-organization", "openai-project"],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


@pytest.fixture(autouse=True)
def _all_played(request: pytest.FixtureRequest, vcr: Any, vcr_config: dict[str, Any]) -> Any:
    """Fail a replayed test that left an interaction of its cassette unplayed."""
    yield
    if vcr is not None and vcr_config["record_mode"] == "none":
        assert vcr.all_played, (
            f"cassette {Path(vcr._path).name}: {len(vcr.data) - vcr.play_count} "
            "interaction(s) left unplayed (re-record with scripts/record-cassettes)"
        )

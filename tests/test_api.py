from __future__ import annotations

import asyncio
import hashlib

import pytest

import readout
from readout import ConfigError, InputError, summarize
from readout.engines import resolve_engine

from .conftest import all_readout_texts


def test_public_api_is_explicit() -> None:
    for name in readout.__all__:
        assert hasattr(readout, name), name
    assert readout.summarize.__doc__


def test_seed_summary_is_grounded(seed_text: str) -> None:
    result = summarize(seed_text, engine="rules")
    s = result.summary
    assert {p.country for p in s.parties if p.role == "participant"} >= {"CHN", "MEX"}
    assert s.event.date.isoformat() == "2021-01-01"
    items = list(s.items())
    assert len(items) >= 8
    for _, item in items:
        for span in item.evidence:
            assert seed_text[span.start : span.end] == span.text
    assert result.provenance.engine == "rules"
    assert result.provenance.source_sha256 == hashlib.sha256(seed_text.encode()).hexdigest()


def test_every_span_of_every_readout_is_exact() -> None:
    total = 0
    for name, text in all_readout_texts():
        result = summarize(text, engine="rules")
        for _, item in result.summary.items():
            for span in item.evidence:
                total += 1
                assert text[span.start : span.end] == span.text, name
    assert total > 0


def test_async_twin(seed_text: str) -> None:
    result = asyncio.run(readout.asummarize(seed_text, engine="rules"))
    assert result.summary.positions


def test_auto_uses_rules_without_key() -> None:
    assert resolve_engine("auto").name == "rules"


def test_llm_without_key_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        resolve_engine("llm")


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_input(text: str) -> None:
    with pytest.raises(InputError):
        summarize(text, engine="rules")


@pytest.mark.parametrize(
    "text",
    ["Hello", "Wang Yi Meets Ebrard", "###", "王毅同埃布拉德通电话。", "x" * 10_000],
)
def test_odd_input_gives_a_valid_result(text: str) -> None:
    result = summarize(text, engine="rules")
    assert result.summary.headline


def test_non_english_warns() -> None:
    text = (
        "Le président de la République s'est entretenu avec le président russe. "
        "Les deux présidents ont évoqué la situation en Syrie et sont convenus de poursuivre le dialogue."
    )
    result = summarize(text, engine="rules")
    assert any("English" in w for w in result.warnings)

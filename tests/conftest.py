"""Shared fixtures. `../shared/` is optional: tests that need it skip cleanly without it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = ROOT / "seeds" / "wangyi-ebrard-2021.txt"


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def shared_readouts() -> Path:
    corpus = SHARED / "readouts"
    if not (corpus / "gold").is_dir():
        pytest.skip("../shared/readouts is not present in this checkout")
    return corpus


@pytest.fixture(autouse=True)
def _no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real key or server from the environment."""
    for name in (
        "OPENAI_API_KEY",
        "READOUT_API_KEY",
        "READOUT_BASE_URL",
        "OPENAI_BASE_URL",
        "READOUT_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)


def all_readout_texts() -> list[tuple[str, str]]:
    """(name, text) of every readout available: seed, pattern files, and ../shared if present."""
    out = [(SEED.name, SEED.read_text(encoding="utf-8"))]
    for p in sorted((ROOT / "tests" / "data" / "patterns").glob("*.txt")):
        out.append((p.name, p.read_text(encoding="utf-8")))
    corpus = SHARED / "readouts"
    if corpus.is_dir():
        out += [(p.name, p.read_text(encoding="utf-8")) for p in sorted(corpus.glob("*.txt"))]
    return out

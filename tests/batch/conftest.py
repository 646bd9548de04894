"""Shared helpers for the batch tests: a small generated corpus and store inspection."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

SUBJECTS = [
    "Foreign Minister Ana Lopes",
    "Secretary of State John Reed",
    "Prime Minister Kenji Sato",
    "State Councilor Li Wen",
    "High Representative Maria Holm",
]
BODIES = [
    "{a} held a telephone call with {b} on {day}.",
    "{a} said that relations between the two countries had grown steadily over the past year.",
    "{b} welcomed the progress made in trade and investment cooperation.",
    "{a} urged all parties to exercise restraint and to resolve disputes through dialogue.",
    "The two sides agreed to strengthen coordination on climate change and public health.",
    "{b} expressed concern about the humanitarian situation in the region.",
    "Both ministers agreed to meet again at the margins of the General Assembly.",
    "{a} called on {b} to support the early conclusion of the negotiations.",
]


def make_text(i: int, sentences: int = 8) -> str:
    rng = random.Random(i)
    a, b = rng.sample(SUBJECTS, 2)
    day = f"March {1 + i % 28}, 2023"
    lines = [f"Readout {i}: {a} and {b}", ""]
    lines += [rng.choice(BODIES).format(a=a, b=b, day=day) for _ in range(sentences)]
    lines.append(f"Reference number {i}.")
    return "\n".join(lines) + "\n"


def make_corpus(folder: Path, n: int, *, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        p = folder / f"doc-{i:05d}.txt"
        p.write_text(make_text(i), encoding="utf-8")
        paths.append(p)
    return paths


def add_bad_documents(folder: Path) -> dict[str, str]:
    """Empty, binary, invalid UTF-8 and 5 MB files; returns name -> expected message fragment."""
    (folder / "bad-empty.txt").write_bytes(b"")
    (folder / "bad-binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    (folder / "bad-latin1.txt").write_bytes("Le ministre a déclaré.".encode("latin-1"))
    (folder / "bad-huge.txt").write_bytes(
        b"The minister spoke at length. " * (5 * 1024 * 1024 // 30)
    )
    return {
        "bad-empty.txt": "empty",
        "bad-binary.txt": "binary",
        "bad-latin1.txt": "not valid utf-8",
        "bad-huge.txt": "the limit is",
    }


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("documents", "results", "failures")
        }


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """The store's content without timestamps and durations (comparable across runs)."""
    with sqlite3.connect(db) as conn:
        docs = sorted(conn.execute("SELECT name, source, sha256, metadata FROM documents"))
        results = []
        for sha, engine, model, pv, sv, result in conn.execute(
            "SELECT sha256, engine, model, prompt_version, schema_version, result FROM results"
        ):
            data = json.loads(result)
            data["provenance"].pop("duration_ms")
            data["provenance"].pop("created_at")
            results.append((sha, engine, model, pv, sv, json.dumps(data, sort_keys=True)))
        failures = sorted(
            conn.execute("SELECT sha256, engine, model, error, message, attempts FROM failures")
        )
    return {"documents": docs, "results": sorted(results), "failures": failures}


def assert_consistent(db: Path) -> None:
    """Every document has exactly one outcome; nothing dangles."""
    c = counts(db)
    assert c["results"] + c["failures"] == c["documents"], c
    with sqlite3.connect(db) as conn:
        orphans = conn.execute(
            "SELECT count(*) FROM documents d WHERE"
            " (SELECT count(*) FROM results r WHERE r.document_id = d.id)"
            " + (SELECT count(*) FROM failures f WHERE f.document_id = d.id) != 1"
        ).fetchone()[0]
        assert orphans == 0
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    make_corpus(folder, 20)
    return folder

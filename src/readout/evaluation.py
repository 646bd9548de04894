"""The evaluation harness: score an engine against gold annotations (see GUIDELINES.md).

Matching rule: a predicted item matches a gold item when the category is the same, the speaker
country sets intersect (position: the party's country; request: the requester's; agreement: all
its parties'), and one of its evidence spans overlaps the gold evidence span in the source.
Matching is one-to-one, greedy in source order (predictions by their first evidence offset, each
taking the first unmatched gold item, in source order, that it matches).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import summarize_document
from .engines import Engine
from .errors import UserError
from .inputs import read_text
from .schema import CATEGORIES, SummaryResult
from .segmentation import Document, parse_document

__all__ = ["Counts", "EvalReport", "GoldItem", "evaluate", "load_gold", "score_result"]


@dataclass(frozen=True)
class GoldItem:
    category: str
    speaker: frozenset[str]
    addressee: frozenset[str]
    start: int
    end: int
    evidence: str


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class FileScore:
    file: str
    counts: dict[str, Counts]
    millis: float

    @property
    def macro_f1(self) -> float:
        return macro_f1(self.counts)


def macro_f1(counts: dict[str, Counts]) -> float:
    """Mean F1 over the categories that occur (in gold or predictions)."""
    present = [c for c in counts.values() if c.tp + c.fp + c.fn]
    return sum(c.f1 for c in present) / len(present) if present else 1.0


@dataclass
class EvalReport:
    """Scores per category, macro-F1, per-file scores and timings."""

    engine: str
    files: list[FileScore] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, Counts]:
        out = {c: Counts() for c in CATEGORIES}
        for f in self.files:
            for c, n in f.counts.items():
                out[c].add(n)
        return out

    @property
    def macro_f1(self) -> float:
        return macro_f1(self.totals)

    def to_dict(self, *, per_file: bool = False) -> dict[str, Any]:
        def cat(c: Counts) -> dict[str, float | int]:
            return {
                "tp": c.tp,
                "fp": c.fp,
                "fn": c.fn,
                "precision": round(c.precision, 4),
                "recall": round(c.recall, 4),
                "f1": round(c.f1, 4),
            }

        millis = [f.millis for f in self.files]
        data: dict[str, Any] = {
            "engine": self.engine,
            "documents": len(self.files),
            "categories": {c: cat(n) for c, n in self.totals.items()},
            "macro_f1": round(self.macro_f1, 4),
            "median_ms": round(statistics.median(millis), 3) if millis else None,
        }
        if per_file:
            data["files"] = [
                {
                    "file": f.file,
                    "macro_f1": round(f.macro_f1, 4),
                    "categories": {c: cat(n) for c, n in f.counts.items()},
                    "ms": round(f.millis, 3),
                }
                for f in self.files
            ]
        return data


def load_gold(path: Path, document: Document) -> list[GoldItem]:
    """Read a gold file and locate each evidence string in the document body."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: cannot read gold file: {exc}") from None
    items: list[GoldItem] = []
    body = document.body
    for n, raw in enumerate(data.get("items", [])):
        evidence = raw.get("evidence", "")
        at = body.find(evidence) if evidence else -1
        if at < 0:
            raise UserError(f"{path}: item {n} evidence is not a substring of the readout body")
        start = document.body_start + at
        items.append(
            GoldItem(
                category=raw["category"],
                speaker=frozenset(raw.get("speaker", [])),
                addressee=frozenset(raw.get("addressee", [])),
                start=start,
                end=start + len(evidence),
                evidence=evidence,
            )
        )
    return items


def _predicted(
    result: SummaryResult,
) -> list[tuple[int, str, frozenset[str], list[tuple[int, int]]]]:
    summary = result.summary
    countries = {p.id: p.country for p in summary.parties}
    preds = []
    for category, item in summary.items():
        speakers = frozenset(c for c in (countries.get(pid) for pid in summary.speakers(item)) if c)
        spans = [(s.start, s.end) for s in item.evidence]
        preds.append((min(s for s, _ in spans), category, speakers, spans))
    preds.sort(key=lambda p: p[0])
    return preds


def score_result(result: SummaryResult, gold: Iterable[GoldItem]) -> dict[str, Counts]:
    """Count true/false positives and false negatives per category for one document."""
    gold_items = sorted(gold, key=lambda g: (g.start, g.end))
    matched = [False] * len(gold_items)
    counts = {c: Counts() for c in CATEGORIES}
    for _, category, speakers, spans in _predicted(result):
        hit = None
        for i, g in enumerate(gold_items):
            if matched[i] or g.category != category or not (speakers & g.speaker):
                continue
            if any(s < g.end and g.start < e for s, e in spans):
                hit = i
                break
        if hit is None:
            counts[category].fp += 1
        else:
            matched[hit] = True
            counts[category].tp += 1
    for i, g in enumerate(gold_items):
        if not matched[i] and g.category in counts:
            counts[g.category].fn += 1
    return counts


def evaluate(
    gold_dir: str | Path,
    corpus_dir: str | Path,
    engine: Engine,
    *,
    progress: Any = None,
) -> EvalReport:
    """Run `engine` on every corpus file that has a gold file and score it."""
    gold_dir, corpus_dir = Path(gold_dir), Path(corpus_dir)
    if not gold_dir.is_dir():
        raise UserError(f"{gold_dir}: gold directory not found")
    if not corpus_dir.is_dir():
        raise UserError(f"{corpus_dir}: corpus directory not found")
    gold_files = sorted(gold_dir.glob("*.json"))
    if not gold_files:
        raise UserError(f"{gold_dir}: no gold *.json files")
    report = EvalReport(engine=engine.name)
    for gold_path in gold_files:
        try:
            name = json.loads(gold_path.read_text(encoding="utf-8")).get("file")
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{gold_path}: cannot read gold file: {exc}") from None
        text_path = corpus_dir / (name or gold_path.with_suffix(".txt").name)
        if not text_path.is_file():
            raise UserError(f"{gold_path}: corpus file {text_path} not found")
        document = parse_document(read_text(text_path))
        gold = load_gold(gold_path, document)
        started = time.perf_counter()
        result = summarize_document(document, engine)
        millis = (time.perf_counter() - started) * 1000
        report.files.append(FileScore(text_path.name, score_result(result, gold), millis))
        if progress is not None:
            progress(text_path.name)
    return report

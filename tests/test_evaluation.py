from __future__ import annotations

import json
from pathlib import Path

import pytest

from readout import FakeEngine, Party, Position, ReadoutSummary
from readout.api import summarize_document
from readout.evaluation import evaluate, load_gold, score_result
from readout.grounding import clause_span
from readout.schema import Agreement
from readout.segmentation import Document, parse_document

BODY = "China supports Mexico. Mexico thanks China. Both sides agreed to meet."
SOURCE = "source: test\ndate: 2021-01-01\n---\n" + BODY


def gold_file(tmp_path: Path, items: list[dict]) -> Path:
    p = tmp_path / "g.json"
    p.write_text(json.dumps({"file": "x.txt", "parties": [], "items": items}), encoding="utf-8")
    return p


def scripted(document: Document) -> ReadoutSummary:
    src = document.source

    def span(needle: str):
        at = src.index(needle)
        return clause_span(document, at, at + len(needle))

    return ReadoutSummary(
        parties=[
            Party(id="chn", name="China", country="CHN"),
            Party(id="mex", name="Mexico", country="MEX"),
        ],
        headline="A call.",
        positions=[
            Position(party="chn", summary="supports", evidence=[span("China supports Mexico")]),
            Position(party="chn", summary="wrong speaker", evidence=[span("Mexico thanks China")]),
        ],
        agreements=[
            Agreement(parties=["chn", "mex"], summary="meet", evidence=[span("agreed to meet")])
        ],
    )


def test_gold_offsets_index_the_source_not_the_body(tmp_path: Path) -> None:
    doc = parse_document(SOURCE)
    gold = load_gold(
        gold_file(
            tmp_path,
            [
                {
                    "category": "position",
                    "speaker": ["CHN"],
                    "addressee": [],
                    "evidence": "China supports",
                }
            ],
        ),
        doc,
    )
    assert SOURCE[gold[0].start : gold[0].end] == "China supports"


def test_matching_rule(tmp_path: Path) -> None:
    doc = parse_document(SOURCE)
    gold = load_gold(
        gold_file(
            tmp_path,
            [
                {
                    "category": "position",
                    "speaker": ["CHN"],
                    "addressee": [],
                    "evidence": "supports Mexico",
                },
                {
                    "category": "position",
                    "speaker": ["MEX"],
                    "addressee": [],
                    "evidence": "Mexico thanks China",
                },
                {
                    "category": "agreement",
                    "speaker": ["CHN", "MEX"],
                    "addressee": [],
                    "evidence": "agreed to meet",
                },
                {
                    "category": "request",
                    "speaker": ["MEX"],
                    "addressee": ["CHN"],
                    "evidence": "Both sides",
                },
            ],
        ),
        doc,
    )
    result = summarize_document(doc, FakeEngine(scripted))
    counts = score_result(result, gold)
    assert (counts["position"].tp, counts["position"].fp, counts["position"].fn) == (1, 1, 1)
    assert (counts["agreement"].tp, counts["agreement"].fp, counts["agreement"].fn) == (1, 0, 0)
    assert (counts["request"].tp, counts["request"].fp, counts["request"].fn) == (0, 0, 1)


def test_one_to_one(tmp_path: Path) -> None:
    """Two predictions on one gold item: one matches, the other is a false positive."""
    doc = parse_document(SOURCE)
    gold = load_gold(
        gold_file(
            tmp_path,
            [
                {
                    "category": "position",
                    "speaker": ["CHN"],
                    "addressee": [],
                    "evidence": "China supports Mexico",
                }
            ],
        ),
        doc,
    )

    def twice(d: Document) -> ReadoutSummary:
        s = scripted(d)
        return s.model_copy(
            update={"positions": [s.positions[0], s.positions[0]], "agreements": []}
        )

    counts = score_result(summarize_document(doc, FakeEngine(twice)), gold)
    assert (counts["position"].tp, counts["position"].fp) == (1, 1)


def test_missing_gold_evidence_is_a_user_error(tmp_path: Path) -> None:
    from readout.errors import UserError

    with pytest.raises(UserError, match="not a substring"):
        load_gold(
            gold_file(
                tmp_path, [{"category": "position", "speaker": ["CHN"], "evidence": "never said"}]
            ),
            parse_document(SOURCE),
        )


def test_evaluate_directory(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    gold = tmp_path / "gold"
    corpus.mkdir()
    gold.mkdir()
    (corpus / "x.txt").write_text(SOURCE, encoding="utf-8")
    gold_file(
        gold,
        [
            {
                "category": "agreement",
                "speaker": ["CHN", "MEX"],
                "addressee": [],
                "evidence": "agreed to meet",
            }
        ],
    )
    report = evaluate(gold, corpus, FakeEngine(scripted))
    data = report.to_dict(per_file=True)
    assert data["categories"]["agreement"]["f1"] == 1.0
    assert data["files"][0]["file"] == "x.txt"

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from readout.schema import ReadoutSummary, json_schemas, validate_summary
from readout.segmentation import parse_document

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "Wang Yi spoke with Ebrard. China supports Mexico. Both sides agreed to talk."


def base(**over) -> dict:
    doc = parse_document(SOURCE)
    s = doc.sentences[1]
    data = {
        "event": {"kind": "call", "date": "2021-01-01", "location": None, "initiated_by": "chn"},
        "parties": [
            {
                "id": "chn",
                "name": "Wang Yi",
                "title": "Foreign Minister",
                "country": "CHN",
                "role": "participant",
            },
            {"id": "mex", "name": "Ebrard", "title": None, "country": "MEX", "role": "participant"},
        ],
        "headline": "China and Mexico held a call.",
        "positions": [
            {
                "party": "chn",
                "summary": "China supports Mexico.",
                "evidence": [{"sentence": 1, "start": s.start, "end": s.end, "text": s.text}],
            }
        ],
        "requests": [],
        "agreements": [],
    }
    data.update(over)
    return data


def check(data: dict) -> ReadoutSummary:
    doc = parse_document(SOURCE)
    return validate_summary(data, source=SOURCE, sentences=doc.sentences)


def test_valid_summary() -> None:
    summary = check(base())
    assert summary.positions[0].evidence[0].text == "China supports Mexico."


def test_unknown_party_rejected() -> None:
    data = base()
    data["positions"][0]["party"] = "usa"
    with pytest.raises(ValidationError, match="unknown party id 'usa'"):
        check(data)


def test_unknown_initiator_rejected() -> None:
    data = base(event={"kind": "call", "initiated_by": "xxx"})
    with pytest.raises(ValidationError, match="unknown party"):
        check(data)


def test_out_of_range_sentence_rejected() -> None:
    data = base()
    data["positions"][0]["evidence"][0]["sentence"] = 7
    with pytest.raises(ValidationError, match="out of range"):
        check(data)


def test_span_text_must_match_source() -> None:
    data = base()
    ev = data["positions"][0]["evidence"][0]
    ev["text"] = "China supports Mexiko."
    with pytest.raises(ValidationError, match="does not match the source"):
        check(data)


def test_span_must_lie_in_its_sentence() -> None:
    data = base()
    data["positions"][0]["evidence"][0]["sentence"] = 0
    with pytest.raises(ValidationError, match="outside sentence"):
        check(data)


def test_empty_evidence_rejected() -> None:
    data = base()
    data["positions"][0]["evidence"] = []
    with pytest.raises(ValidationError):
        check(data)


@pytest.mark.parametrize("summary", ["", "x" * 601])
def test_summary_length_bounds(summary: str) -> None:
    data = base()
    data["positions"][0]["summary"] = summary
    with pytest.raises(ValidationError):
        check(data)


def test_blank_summary_rejected() -> None:
    data = base()
    data["positions"][0]["summary"] = "   "
    with pytest.raises(ValidationError, match="empty summary"):
        check(data)


def test_extra_fields_forbidden() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        check(base(mood="cheerful"))


def test_country_code_format() -> None:
    data = base()
    data["parties"][0]["country"] = "China"
    with pytest.raises(ValidationError):
        check(data)


def test_duplicate_party_ids() -> None:
    data = base()
    data["parties"][1]["id"] = "chn"
    with pytest.raises(ValidationError, match="duplicate party"):
        check(data)


def test_exported_schemas_do_not_drift() -> None:
    for name, schema in json_schemas().items():
        path = ROOT / "schemas" / name
        expected = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        assert path.is_file(), f"{path} missing: run `readout schema`"
        assert path.read_text(encoding="utf-8") == expected, f"{path} drifted: run `readout schema`"

"""Review prompts (`mode = "review"`, v2 and v3): the model reviews the offline engine's draft.

FakeLLMServer answers; nothing here depends on a real model."""

from __future__ import annotations

import json
import random

from readout import api
from readout.config import LLMConfig
from readout.engines.fake_llm import FakeLLMServer
from readout.engines.llm import LLMEngine, offline_draft
from readout.prompting import load_prompt
from readout.segmentation import parse_document

from .conftest import DATA, SEED

TEXT = SEED.read_text(encoding="utf-8")
DOC = parse_document(TEXT)
DRAFT = offline_draft(DOC)


def engine_for(server: FakeLLMServer, **kwargs) -> LLMEngine:
    config = LLMConfig(model="fake-model", base_url="http://fake.invalid/v1", api_key="sk-x")
    kwargs.setdefault("prompt", load_prompt("summarize", "2"))
    kwargs.setdefault("rng", random.Random(1))
    kwargs.setdefault("sleep", lambda s: None)
    return LLMEngine(config, client=server.client(api_key="sk-x"), **kwargs)


def keep_all(**overrides: dict) -> dict:
    review = {d.id: {"decision": "keep", "summary": f"item {d.id}"} for d in DRAFT.items}
    review.update(overrides)
    return {"review": review, "missing": [], "headline": "H", "event": "call"}


def test_v3_is_a_review_prompt_without_speaker_corrections_and_the_default() -> None:
    assert load_prompt().version == "3" and load_prompt().mode == "review"
    assert load_prompt().review_speaker is False
    assert load_prompt("summarize", "2").review_speaker is True
    assert load_prompt("summarize", "1").mode == "summarize"


def test_draft_is_listed_with_ids_agreements_first() -> None:
    assert len(DRAFT.items) >= 3 and DRAFT.parties
    cats = [d.category for d in DRAFT.items]
    assert cats == sorted(cats, key=["agreement", "request", "position"].index)
    server = FakeLLMServer([keep_all()])
    api.summarize(TEXT, engine=engine_for(server, hints="none"))  # review: draft sent anyway
    block = server.requests[0]["messages"][-1]["content"].split("<<<END")[0]
    for d in DRAFT.items:
        line = f"{d.id}: {d.category} by {'+'.join(d.speakers)}"
        assert line in block
        assert ",".join(f"S{s}" for s in d.sentences) in block.split(line)[1].splitlines()[0]


def test_schema_requires_a_decision_for_every_draft_item_in_order() -> None:
    server = FakeLLMServer([keep_all()])
    api.summarize(TEXT, engine=engine_for(server))
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert server.requests[0]["response_format"]["json_schema"]["name"] == "ReviewAnswer"
    assert list(schema["properties"]) == ["review", "missing", "headline", "event"]
    review = schema["properties"]["review"]
    assert review["required"] == [d.id for d in DRAFT.items]
    assert list(review["properties"]) == [d.id for d in DRAFT.items]
    assert all(p == {"$ref": "#/$defs/Review"} for p in review["properties"].values())
    item = schema["$defs"]["Review"]
    assert item["required"] == ["decision", "summary"]
    assert set(item["properties"]["decision"]["enum"]) == {
        "keep", "drop", "position", "request", "agreement"}
    speaker_enum = item["properties"]["speaker"]["anyOf"][0]["enum"]
    assert speaker_enum == list(DRAFT.party_ids)
    missing = schema["$defs"]["Missing"]["properties"]
    assert missing["sentences"]["items"] == {
        "maximum": len(DOC.sentences), "minimum": 1, "type": "integer"}
    assert missing["speakers"]["items"]["enum"] == list(DRAFT.party_ids)


def test_v3_schema_offers_no_speaker_and_ignores_one() -> None:
    d = DRAFT.items[2]
    other = next(p for p in DRAFT.participants if p not in d.speakers)
    server = FakeLLMServer([keep_all(**{d.id: {"decision": "keep", "summary": "x",
                                               "speaker": other}})])
    result = api.summarize(TEXT, engine=engine_for(server, prompt=load_prompt("summarize", "3")))
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert "speaker" not in schema["$defs"]["Review"]["properties"]
    item = next(i for _, i in result.summary.items() if i.summary == "x")
    assert result.summary.speakers(item) == list(d.speakers)


def test_each_document_gets_its_own_schema() -> None:
    other_text = (DATA / "injection.txt").read_text(encoding="utf-8")
    other = offline_draft(parse_document(other_text))
    server = FakeLLMServer([keep_all(), {
        "review": {d.id: {"decision": "keep", "summary": "y"} for d in other.items},
        "missing": [], "headline": "H", "event": "call"}])
    engine = engine_for(server)
    api.summarize(TEXT, engine=engine)
    api.summarize(other_text, engine=engine)
    first, second = (r["response_format"]["json_schema"]["schema"] for r in server.requests)
    assert first["properties"]["review"]["required"] == [d.id for d in DRAFT.items]
    assert second["properties"]["review"]["required"] == [d.id for d in other.items]
    n2 = len(parse_document(other_text).sentences)
    assert second["$defs"]["Missing"]["properties"]["sentences"]["items"]["maximum"] == n2


def test_added_items_out_of_range_or_with_unknown_parties_are_reasked() -> None:
    bad = keep_all()
    bad["missing"] = [{"category": "position", "sentences": [999], "speakers": ["zzz"],
                       "to": [], "summary": "bad"}]
    server = FakeLLMServer([bad, keep_all()])
    result = api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests) == 2
    reask = server.requests[1]["messages"][-1]["content"]
    assert "999" in reask and "zzz" in reask
    assert "bad" not in {i.summary for _, i in result.summary.items()}


def test_keep_all_reproduces_the_draft_grounded_with_the_models_summaries() -> None:
    server = FakeLLMServer([keep_all()])
    result = api.summarize(TEXT, engine=engine_for(server))
    items = list(result.summary.items())
    assert len(items) == len(DRAFT.items)
    for _, item in items:
        assert item.summary.startswith("item D")
        for span in item.evidence:
            assert TEXT[span.start : span.end] == span.text
    prov = result.provenance
    assert (prov.engine, prov.model, prov.prompt_version) == ("llm", "fake-model", "2")  # pinned
    assert result.summary.headline == "H" and result.summary.event.kind == "call"


def test_drop_change_category_change_speaker_and_missing() -> None:
    d1, d2, d3 = DRAFT.items[:3]
    other = next(p for p in DRAFT.participants if p not in d3.speakers)
    answer = keep_all(**{
        d1.id: {"decision": "drop", "summary": "narration"},
        d2.id: {"decision": "position", "summary": "now a position", "speaker": d2.speakers[0]},
        d3.id: {"decision": "keep", "summary": "other speaker", "speaker": other},
    })
    answer["missing"] = [{"category": "agreement", "sentences": [1], "speakers": list(
        DRAFT.participants), "to": [], "summary": "added"}]
    server = FakeLLMServer([answer])
    result = api.summarize(TEXT, engine=engine_for(server))
    s = result.summary
    summaries = {i.summary: (c, i) for c, i in s.items()}
    assert not any(x.startswith(f"item {d1.id}") and x == f"item {d1.id}" for x in summaries)
    cat, item = summaries["now a position"]
    assert cat == "position" and [e.sentence + 1 for e in item.evidence] == list(d2.sentences)
    cat, item = summaries["other speaker"]
    assert cat == d3.category and s.speakers(item)[:1] == [other]
    cat, item = summaries["added"]
    assert cat == "agreement" and item.evidence[0].sentence == 0
    assert len(list(s.items())) == len(DRAFT.items) - 1 + 1


def test_cut_off_review_keeps_unreviewed_draft_items_as_drafted() -> None:
    answer = keep_all()
    text = json.dumps(answer)
    cut = text.index('"D3"')  # D1 and D2 reviewed, the rest not reached
    body = {
        "id": "x", "object": "chat.completion", "created": 0, "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": "length",
                     "message": {"role": "assistant", "content": text[:cut]}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }
    server = FakeLLMServer([(200, body, {})])
    result = api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests) == 1
    assert len(list(result.summary.items())) == len(DRAFT.items)
    assert any("not reviewed" in w for w in result.warnings)
    assert any("cut off" in w for w in result.warnings)


def test_an_answer_that_skips_draft_items_is_reasked() -> None:
    partial = keep_all()
    del partial["review"][DRAFT.items[-1].id]
    server = FakeLLMServer([partial, keep_all()])
    result = api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests) == 2
    assert DRAFT.items[-1].id in server.requests[1]["messages"][-1]["content"]
    assert result.provenance.usage.requests == 2
    assert len(list(result.summary.items())) == len(DRAFT.items)


def test_an_added_item_repeating_a_kept_draft_item_is_skipped() -> None:
    d = DRAFT.items[-1]
    answer = keep_all()
    answer["missing"] = [{"category": d.category, "sentences": [d.sentences[0]],
                          "speakers": list(d.speakers), "to": [], "summary": "again"}]
    result = api.summarize(TEXT, engine=engine_for(FakeLLMServer([answer])))
    assert len(list(result.summary.items())) == len(DRAFT.items)
    assert "again" not in {i.summary for _, i in result.summary.items()}


def test_concurrent_async_documents_each_send_their_own_schema() -> None:
    """The per-document spec is a context variable: concurrent tasks never see each other's."""
    import asyncio
    import re

    texts = [TEXT, (DATA / "injection.txt").read_text(encoding="utf-8")] * 3
    ids = {d.id for t in texts for d in offline_draft(parse_document(t)).items}
    both = {"review": {i: {"decision": "keep", "summary": "z"} for i in sorted(ids)},
            "missing": [], "headline": "H", "event": "call"}
    server = FakeLLMServer([both] * len(texts))
    config = LLMConfig(model="fake-model", base_url="http://fake.invalid/v1", api_key="sk-x")
    engine = LLMEngine(config, client=server.async_client(api_key="sk-x"))

    async def main() -> None:
        await asyncio.gather(*(api.asummarize(t, engine=engine) for t in texts))

    asyncio.run(main())
    assert len(server.requests) == len(texts)
    for req in server.requests:
        listed = re.findall(r"^(D\d+): ", req["messages"][-1]["content"], flags=re.M)
        schema = req["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["review"]["required"] == listed


def test_v3_keeps_added_items_only_on_sentences_no_kept_draft_item_covers() -> None:
    text = (DATA / "call-300.txt").read_text(encoding="utf-8")
    draft = offline_draft(parse_document(text))
    covered = {s for d in draft.items for s in d.sentences}
    free = next(i for i in range(1, len(parse_document(text).sentences) + 1) if i not in covered)
    dropped = next(d for d in draft.items
                   if not any(set(d.sentences) & set(x.sentences) for x in draft.items if x != d))
    kept = next(d for d in draft.items if d != dropped)
    speaker = [draft.participants[0]]

    def added(sentence: int, summary: str) -> dict:
        return {"category": "position", "sentences": [sentence], "speakers": speaker, "to": [],
                "summary": summary}

    answer = {
        "review": {d.id: {"decision": "drop" if d == dropped else "keep", "summary": "kept"}
                   for d in draft.items},
        "missing": [added(kept.sentences[0], "on a covered sentence"),
                    added(free, "on a free sentence"),
                    added(dropped.sentences[0], "replaces a dropped item")],
        "headline": "H", "event": "call",
    }
    v3 = api.summarize(text, engine=engine_for(FakeLLMServer([answer]),
                                                prompt=load_prompt("summarize", "3")))
    v2 = api.summarize(text, engine=engine_for(FakeLLMServer([answer])))
    got3 = {i.summary for _, i in v3.summary.items()}
    got2 = {i.summary for _, i in v2.summary.items()}
    assert {"on a free sentence", "replaces a dropped item"} <= got3
    assert "on a covered sentence" not in got3
    assert "on a covered sentence" in got2  # v2 keeps any addition that is not a repeat

"""LLM engine mechanics with the in-process FakeLLMServer: re-asks, retries, errors, usage."""

from __future__ import annotations

import asyncio
import json
import random

import httpx2
import pytest

from readout import api
from readout.config import LLMConfig
from readout.engines.fake_llm import FakeLLMServer
from readout.engines.llm import LLMEngine, country_code, offline_draft, response_model
from readout.errors import ConfigError, EngineError, InputError
from readout.prompting import load_prompt
from readout.ratelimit import RateLimiter
from readout.segmentation import parse_document

from .conftest import SEED

TEXT = SEED.read_text(encoding="utf-8")
SECRET = "sk-test-THIS-IS-A-SECRET-0123456789abcdef"

GOOD = {
    "headline": "China and Mexico discuss cooperation",
    "event": "call",
    "parties": [
        {"id": "china", "name": "China", "country": "China", "role": "participant"},
        {"id": "mexico", "name": "Mexico", "country": "Mexico", "role": "participant"},
    ],
    "positions": [{"sentences": [2], "party": "china", "summary": "China values Mexico."}],
    "requests": [
        {"sentences": [11], "by": "mexico", "to": ["china"], "force": "ask", "summary": "Vaccines."}
    ],
    "agreements": [
        {"sentences": [1], "parties": ["china", "mexico"], "kind": "shared_view", "summary": "Both."}
    ],
}
BAD_REF = {**GOOD, "positions": [{"sentences": [2], "party": "nobody", "summary": "x"}]}


class SpyLimiter(RateLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.acquired = 0
        self.paused: list[float] = []

    def acquire_sync(self, tokens: int = 0) -> None:
        self.acquired += 1

    async def acquire(self, tokens: int = 0) -> None:
        self.acquired += 1

    def pause_for(self, seconds: float) -> None:
        self.paused.append(seconds)


def engine_for(server: FakeLLMServer, *, asynchronous: bool = False, **kwargs) -> LLMEngine:
    config = LLMConfig(
        model="fake-model",
        base_url="http://fake.invalid/v1",
        api_key=SECRET,
        max_retries=kwargs.pop("max_retries", 3),
        max_reasks=kwargs.pop("max_reasks", 2),
    )
    client = server.async_client(api_key=SECRET) if asynchronous else server.client(api_key=SECRET)
    # These tests exercise the engine mechanics with v1-shaped answers: pin prompt v1.
    kwargs.setdefault("prompt", load_prompt("summarize", "1"))
    kwargs.setdefault("hints", False)
    kwargs.setdefault("rng", random.Random(1))
    kwargs.setdefault("backoff_base", 0.0)
    kwargs.setdefault("sleep", lambda s: None)
    return LLMEngine(config, client=client, **kwargs)


def test_happy_path_grounded_with_usage_and_provenance() -> None:
    server = FakeLLMServer([GOOD])
    result = api.summarize(TEXT, engine=engine_for(server))
    for _, item in result.summary.items():
        for span in item.evidence:
            assert TEXT[span.start : span.end] == span.text
    assert {p.country for p in result.summary.parties} == {"CHN", "MEX"}
    usage = result.provenance.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.requests) == (100, 20, 1)
    assert result.provenance.prompt_id == "summarize"
    assert len(result.provenance.prompt_hash) == 64
    body = server.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["max_tokens"] > 0 and body["temperature"] == 0


def test_reask_replaces_the_failed_attempt_and_sums_usage() -> None:
    server = FakeLLMServer([BAD_REF, BAD_REF, GOOD])
    result = api.summarize(TEXT, engine=engine_for(server))
    assert result.provenance.usage.requests == 3
    assert result.provenance.usage.prompt_tokens == 300
    assert any("re-asks" in w for w in result.warnings)
    base = len(server.requests[0]["messages"])
    second, third = server.requests[1]["messages"], server.requests[2]["messages"]
    assert len(second) == len(third) == base + 2  # bounded: never grows with attempts
    assert second[:base] == server.requests[0]["messages"]
    assert second[-2]["role"] == "assistant" and "nobody" in second[-2]["content"]
    assert "nobody" in second[-1]["content"] and second[-1]["role"] == "user"


def test_reask_context_is_truncated() -> None:
    huge = json.dumps({**BAD_REF, "headline": "x" * 150, "positions": BAD_REF["positions"] * 40})
    server = FakeLLMServer([huge, GOOD])
    api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests[1]["messages"][-2]["content"]) < 1_600
    assert len(server.requests[1]["messages"][-1]["content"]) < 1_400


def test_exhausted_reasks_raise_engine_error_with_attempts_and_usage() -> None:
    server = FakeLLMServer(["not json at all", BAD_REF, BAD_REF])
    with pytest.raises(EngineError) as info:
        api.summarize(TEXT, engine=engine_for(server))
    err = info.value
    assert err.attempts == 3 and err.exit_code == 1
    assert err.usage["requests"] == 3
    assert err.usage["prompt_tokens"] == 300 and err.usage["completion_tokens"] == 60
    assert "after 3 attempts" in str(err) and "\n" not in str(err)


def test_401_is_a_config_error_without_the_key_and_not_retried() -> None:
    server = FakeLLMServer([(401, {"error": {"message": f"bad key {SECRET}"}}, {})])
    with pytest.raises(ConfigError) as info:
        api.summarize(TEXT, engine=engine_for(server))
    assert str(info.value) == "authentication failed (check OPENAI_API_KEY)"
    assert SECRET not in repr(info.value) and len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
def test_other_4xx_are_not_retried(status: int) -> None:
    server = FakeLLMServer([(status, {"error": {"message": "nope"}}, {})] * 3)
    with pytest.raises((EngineError, ConfigError)):
        api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503])
def test_retryable_statuses_are_retried_with_backoff(status: int) -> None:
    sleeps: list[float] = []
    server = FakeLLMServer([(status, {"error": {"message": "busy"}}, {})] * 2 + [GOOD])
    engine = engine_for(server, sleep=sleeps.append, backoff_base=0.5)
    result = api.summarize(TEXT, engine=engine)
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert all(0 < s <= 0.5 * 2 + 0.5 + 1e-9 or s <= 30 for s in sleeps)
    assert result.provenance.usage.requests == 3  # failed HTTP attempts are counted


def test_429_honours_retry_after_and_tells_the_limiter() -> None:
    sleeps: list[float] = []
    limiter = SpyLimiter()
    server = FakeLLMServer([(429, {"error": {"message": "slow down"}}, {"retry-after": "3"}), GOOD])
    api.summarize(TEXT, engine=engine_for(server, sleep=sleeps.append, limiter=limiter))
    assert sleeps == [3.0] and limiter.paused == [3.0]
    assert limiter.acquired == 2  # before every HTTP attempt


def test_retries_exhausted_is_a_run_error() -> None:
    server = FakeLLMServer([(503, {"error": {"message": "down"}}, {})] * 10)
    with pytest.raises(EngineError) as info:
        api.summarize(TEXT, engine=engine_for(server, max_retries=2))
    assert len(server.requests) == 3  # SDK retries are off: exactly our 1 + 2
    assert "503" in str(info.value)


def test_connection_errors_are_retried() -> None:
    server = FakeLLMServer([httpx2.ConnectError("refused"), GOOD])
    result = api.summarize(TEXT, engine=engine_for(server))
    assert result.provenance.usage.requests == 2


def test_connection_error_exhausted_names_the_server() -> None:
    server = FakeLLMServer([httpx2.ConnectError("refused")] * 5)
    with pytest.raises(EngineError, match=r"cannot connect to http://fake\.invalid/v1"):
        api.summarize(TEXT, engine=engine_for(server, max_retries=1))


def test_context_overflow_is_a_clear_error_naming_the_limit() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "the request exceeds the available context size, try increasing it",
            "type": "exceed_context_size_error",
            "n_prompt_tokens": 5000,
            "n_ctx": 4096,
        }
    }
    server = FakeLLMServer([(400, body, {})])
    with pytest.raises(EngineError, match="context window of 4096 tokens"):
        api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests) == 1


def test_over_long_readouts_are_refused_before_sending() -> None:
    server = FakeLLMServer([GOOD])
    long_text = " ".join(f"Minister {i} said the talks went well." for i in range(200))
    with pytest.raises(InputError, match="at most 180"):
        api.summarize(long_text, engine=engine_for(server))
    words = ("word " * 30_000).strip() + "."
    with pytest.raises(InputError, match="limit of 12,000 tokens"):
        api.summarize(words, engine=engine_for(server))
    assert server.requests == []


def test_async_path_uses_the_async_client() -> None:
    server = FakeLLMServer([BAD_REF, GOOD])
    engine = engine_for(server, asynchronous=True)
    result = asyncio.run(api.asummarize(TEXT, engine=engine))
    assert result.provenance.usage.requests == 2
    assert len(server.requests[1]["messages"]) == len(server.requests[0]["messages"]) + 2


def test_async_429_and_retry_after() -> None:
    waits: list[float] = []

    async def asleep(s: float) -> None:
        waits.append(s)

    server = FakeLLMServer([(429, {"error": {"message": "x"}}, {"retry-after": "1.5"}), GOOD])
    engine = engine_for(server, asynchronous=True, asleep=asleep, limiter=SpyLimiter())
    asyncio.run(api.asummarize(TEXT, engine=engine))
    assert waits == [1.5] and engine.limiter.paused == [1.5]


def test_injected_sync_client_works_for_arun() -> None:
    server = FakeLLMServer([GOOD])
    result = asyncio.run(api.asummarize(TEXT, engine=engine_for(server)))
    assert result.provenance.usage.requests == 1


def test_secret_never_in_repr_or_errors() -> None:
    server = FakeLLMServer([(500, {"error": {"message": "boom"}}, {})] * 5)
    engine = engine_for(server, max_retries=0)
    assert SECRET not in repr(engine) and SECRET not in repr(engine.config)
    with pytest.raises(EngineError) as info:
        api.summarize(TEXT, engine=engine)
    assert SECRET not in str(info.value)
    assert server.headers[0]["authorization"] == f"Bearer {SECRET}"  # sent, never shown


def test_resolve_engine_builds_the_llm_engine() -> None:
    # the default prompt (v2) reviews the offline draft: keep every draft item
    draft = offline_draft(parse_document(TEXT))
    review = {d.id: {"decision": "keep", "summary": "kept"} for d in draft.items}
    server = FakeLLMServer([{"review": review, "missing": [], "headline": "H", "event": "call"}])
    result = api.summarize(TEXT, engine="llm", client=server.client(), model="m")
    assert result.provenance.engine == "llm" and result.provenance.model == "m"


def test_response_model_bounds_sentence_numbers() -> None:
    schema = response_model(13).model_json_schema()
    text = json.dumps(schema)
    assert '"maximum": 13' in text and '"minimum": 1' in text
    assert "maxItems" in text and "maxLength" in text
    assert response_model(13) is response_model(13)
    with pytest.raises(ValueError):
        response_model(3).model_validate({**GOOD, "positions": [
            {"sentences": [4], "party": "china", "summary": "x"}]})


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("China", "CHN"), ("United States", "USA"), ("U.S.", "USA"), ("European Union", "EUR"),
        ("United Nations", "UNO"), ("South Korea", "KOR"), ("Russia", "RUS"), ("Iran", "IRN"),
        ("United Kingdom", "GBR"), ("Pakistan", "PAK"), ("MEX", "MEX"), ("the Netherlands", "NLD"),
        ("Japanese", "JPN"), ("Atlantis", None), ("", None), (None, None),
    ],
)
def test_country_names_map_to_iso_codes(name: str | None, code: str | None) -> None:
    assert country_code(name) == code


def test_unknown_country_is_a_warning_not_a_failure() -> None:
    answer = {**GOOD, "parties": [*GOOD["parties"], {
        "id": "x", "name": "Ruritania", "country": "Ruritania", "role": "third_party"}]}
    result = api.summarize(TEXT, engine=engine_for(FakeLLMServer([answer])))
    assert result.summary.party("x").country is None
    assert any("Ruritania" in w for w in result.warnings)


def test_document_without_sentences_is_refused() -> None:
    engine = engine_for(FakeLLMServer([]))
    doc = parse_document("title: x\nsource: y\n---\n")
    with pytest.raises(InputError):
        engine.run(doc)


def test_readout_text_is_never_templated() -> None:
    text = "Minister A said {{ 7 * 7 }} and {% raw %}x{% endraw %} matter. Minister B agreed."
    server = FakeLLMServer([{**GOOD, "positions": [], "requests": [], "agreements": []}])
    api.summarize(text, engine=engine_for(server))
    user = server.requests[0]["messages"][-1]["content"]
    assert "{{ 7 * 7 }}" in user and "{% raw %}" in user


def test_offline_hints_go_inside_the_block_and_fill_missing_parties() -> None:
    # the answer cites "chn"/"mex" without declaring them: the pre-pass parties fill them in
    answer = {**GOOD, "parties": [], "requests": [], "agreements": [],
              "positions": [{"sentences": [2], "party": "chn", "summary": "China."}]}
    server = FakeLLMServer([answer])
    result = api.summarize(TEXT, engine=engine_for(server, hints="sentences"))
    user = server.requests[0]["messages"][-1]["content"]
    block = user.split("<<<READOUT-DATA-")[1]
    assert "# parties detected" in block.split("<<<END")[0]
    assert "# rule pre-pass" in block
    assert result.provenance.usage.requests == 1  # repaired, not re-asked
    assert result.summary.party("chn").country == "CHN"


def test_hints_can_be_turned_off() -> None:
    server = FakeLLMServer([GOOD])
    api.summarize(TEXT, engine=engine_for(server, hints="none"))
    assert "# parties detected" not in server.requests[0]["messages"][-1]["content"]


def _cut_off(answer: dict, keep: int) -> tuple[int, dict, dict[str, str]]:
    """A 200 response whose answer was cut at the token cap (finish_reason=length)."""
    content = json.dumps(answer)[:keep]
    body = {
        "id": "x", "object": "chat.completion", "created": 0, "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": "length",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }
    return (200, body, {})


def test_cut_off_answer_keeps_its_complete_items() -> None:
    answer = {**GOOD, "positions": GOOD["positions"] * 3}
    cut = len(json.dumps({k: answer[k] for k in ("headline", "event", "parties")})) + 200
    server = FakeLLMServer([_cut_off(answer, cut)])
    result = api.summarize(TEXT, engine=engine_for(server))
    assert len(server.requests) == 1  # salvaged, not re-asked
    assert result.summary.positions and not result.summary.agreements
    assert any("cut off" in w for w in result.warnings)
    assert result.provenance.usage.completion_tokens == 50


def test_cut_off_answer_can_be_reasked_instead() -> None:
    answer = {**GOOD, "positions": GOOD["positions"] * 3}
    server = FakeLLMServer([_cut_off(answer, 300), GOOD])
    result = api.summarize(TEXT, engine=engine_for(server, on_truncation="reask"))
    assert len(server.requests) == 2
    assert "cut off" in server.requests[1]["messages"][-1]["content"]
    assert result.provenance.usage.requests == 2


def test_instructors_async_validator_check_still_runs_for_other_models() -> None:
    """Our answer models are checked once; every other model keeps instructor's full check."""
    import pydantic
    from instructor.v2.core import patch
    from instructor.v2.validation import async_validators as av

    from readout.engines.llm import ReviewAnswer, response_model

    assert av.reject_async_validators(ReviewAnswer) is None
    assert av.reject_async_validators(response_model(7)) is None
    assert patch.reject_async_validators is av.reject_async_validators

    def marked() -> None: ...

    setattr(marked, av.ASYNC_VALIDATOR_KEY, True)
    Foreign = pydantic.create_model("Foreign", x=(int, 0))
    Foreign.check = staticmethod(marked)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="async validators are not supported"):
        av.reject_async_validators(Foreign)
    with pytest.raises(ValueError):
        av.reject_async_validators(Foreign)  # every time, not once

"""Failing servers: the fault server on 127.0.0.1, driven through the real openai client.

Every case asserts the number of HTTP attempts the server saw, the backoff the engine waited
(a recording fake `sleep`, and in a few cases the real clock with a short base), which failures
are retried and which are not, the exact error class and message, and the summed usage.

Engine knobs used (src/readout/engines/llm.py): `LLMConfig.max_retries` (transport retries,
tenacity; SDK retries are 0), `LLMConfig.max_reasks` (instructor validation re-asks),
`LLMConfig.timeout`, `LLMEngine(backoff_base=, backoff_max=, sleep=, asleep=, limiter=)`.
Backoff is `wait_exponential_jitter(initial=base, max=max, jitter=base)`: wait n (from 0) lies in
[base * 2**n, base * 2**n + base], capped at max; `Retry-After` / `retry-after-ms` replace it.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from readout.api import asummarize, summarize
from readout.config import LLMConfig
from readout.errors import ConfigError, EngineError, UserError
from readout.prompting import load_prompt
from readout.ratelimit import RateLimiter

from ..faultserver import (
    FaultServer,
    closed_port_url,
    completion,
    hang,
    raw,
    reset,
    status,
)
from .conftest import PLANTED_KEY, SEED, need

llm = need("readout.engines.llm")

pytestmark = pytest.mark.timeout(30)

SEED_TEXT = SEED.read_text(encoding="utf-8")
BASE = 0.01  # backoff base for fake-sleep tests
MAX_RETRIES = 4  # transport retries: 5 HTTP attempts in all
PROMPT, COMPLETION = 100, 20  # usage the fault server reports for each completion

GOOD = {
    "headline": "China and Mexico pledge closer multilateral cooperation",
    "event": "call",
    "parties": [
        {"id": "china", "name": "China", "country": "China", "role": "participant"},
        {"id": "mexico", "name": "Mexico", "country": "Mexico", "role": "participant"},
    ],
    "positions": [
        {"sentences": [2], "party": "china", "summary": "China regards Mexico as a partner."}
    ],
    "requests": [],
    "agreements": [],
}
# Valid JSON, valid chat completion, but the answer violates the schema (unknown party id).
# The answers above are v1-shaped (the engine mechanics do not depend on the prompt version).
PROMPT_V1 = load_prompt("summarize", "1")
BAD_ANSWER = {**GOOD, "positions": [{"sentences": [2], "party": "nobody", "summary": "x"}]}


class Engine:
    """An LLMEngine on the fault server with a recording fake sleep."""

    def __init__(
        self,
        base_url: str,
        *,
        max_retries: int = MAX_RETRIES,
        max_reasks: int = 2,
        timeout: float = 5.0,
        base: float = BASE,
        real_sleep: bool = False,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.waits: list[float] = []
        config = LLMConfig(
            model="fault-model",
            base_url=base_url,
            api_key=PLANTED_KEY,
            timeout=timeout,
            max_retries=max_retries,
            max_reasks=max_reasks,
        )

        def sleep(seconds: float) -> None:
            self.waits.append(seconds)
            if real_sleep:
                time.sleep(seconds)

        async def asleep(seconds: float) -> None:
            self.waits.append(seconds)
            if real_sleep:
                await asyncio.sleep(seconds)

        self.engine = llm.LLMEngine(
            config,
            prompt=PROMPT_V1,
            hints=False,
            backoff_base=base,
            backoff_max=10 * base * 2**max_retries,
            sleep=sleep,
            asleep=asleep,
            limiter=limiter,
        )

    def run(self, text: str = SEED_TEXT):
        return summarize(text, engine=self.engine)

    def arun(self, text: str = SEED_TEXT):
        return asyncio.run(asummarize(text, engine=self.engine))


def assert_exponential(waits: list[float], base: float = BASE) -> None:
    for n, w in enumerate(waits):
        assert base * 2**n <= w <= base * 2**n + base + 1e-9, (n, waits)


def usage_of(exc_or_result) -> dict[str, int]:
    if isinstance(exc_or_result, EngineError):
        return exc_or_result.usage
    return exc_or_result.provenance.usage.model_dump()


# ---------------------------------------------------------------------------------------------
# Retried: 5xx, 429, 408, 409, connection errors, timeouts


@pytest.mark.parametrize("code", [500, 502, 503, 408, 409])
def test_retryable_status_then_success(fault: FaultServer, code: int) -> None:
    fault.push(status(code), status(code), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.run()
    assert fault.count == 3
    assert len(eng.waits) == 2
    assert_exponential(eng.waits)
    assert usage_of(result) == {
        "prompt_tokens": PROMPT,
        "completion_tokens": COMPLETION,
        "total_tokens": PROMPT + COMPLETION,
        "requests": 3,
    }
    assert [p.country for p in result.summary.parties] == ["CHN", "MEX"]


@pytest.mark.parametrize("code", [500, 502, 503])
def test_server_error_exhausts_retries(fault: FaultServer, code: int) -> None:
    fault.default(status(code))
    eng = Engine(fault.url)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == MAX_RETRIES + 1
    assert len(eng.waits) == MAX_RETRIES
    assert_exponential(eng.waits)
    assert str(info.value) == (
        f"server failed ({code}) after {MAX_RETRIES + 1} requests: fault server: scripted {code}"
    )
    assert info.value.attempts == 1
    assert info.value.usage["requests"] == MAX_RETRIES + 1


def test_429_with_retry_after_waits_exactly_that(fault: FaultServer) -> None:
    fault.push(status(429, retry_after="7"), status(429, retry_after="3"), completion(GOOD))
    eng = Engine(fault.url)
    eng.run()
    assert fault.count == 3
    assert eng.waits == [7.0, 3.0]


def test_429_without_retry_after_backs_off_exponentially(fault: FaultServer) -> None:
    fault.push(status(429), status(429), status(429), completion(GOOD))
    eng = Engine(fault.url)
    eng.run()
    assert fault.count == 4
    assert len(eng.waits) == 3
    assert_exponential(eng.waits)


def test_429_exhausted(fault: FaultServer) -> None:
    fault.default(status(429, retry_after="1"))
    eng = Engine(fault.url, max_retries=2)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == 3
    assert eng.waits == [1.0, 1.0]
    assert str(info.value) == "server failed (429) after 3 requests: fault server: scripted 429"


def test_retry_after_is_capped(fault: FaultServer) -> None:
    """A hostile Retry-After of a day does not park the engine for a day."""
    fault.push(status(429, retry_after="86400"), completion(GOOD))
    eng = Engine(fault.url)
    eng.run()
    assert fault.count == 2
    assert len(eng.waits) == 1 and eng.waits[0] <= 120.0


def test_429_retry_after_pauses_the_shared_limiter(fault: FaultServer) -> None:
    """The Retry-After is handed to the shared limiter once, and not waited twice."""
    now = [0.0]
    limiter_sleeps: list[float] = []

    def limiter_sleep(seconds: float) -> None:
        limiter_sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(clock=lambda: now[0], sync_sleep=limiter_sleep)
    fault.push(status(429, retry_after="5"), completion(GOOD))
    eng = Engine(fault.url, limiter=limiter)
    engine_sleep = eng.engine._sleep

    def advancing_sleep(seconds: float) -> None:  # the engine's wait moves the same clock
        engine_sleep(seconds)
        now[0] += seconds

    eng.engine._sleep = advancing_sleep
    eng.run()
    assert fault.count == 2
    assert limiter.pauses == 1
    assert eng.waits == [5.0]
    assert limiter_sleeps == []


def test_backoff_really_waits_with_a_short_base(fault: FaultServer) -> None:
    """Real clock: the gaps between the attempts the server saw are at least the backoff."""
    base = 0.05
    fault.push(status(503), status(503), completion(GOOD))
    eng = Engine(fault.url, base=base, real_sleep=True)
    eng.run()
    gaps = fault.gaps()
    assert len(gaps) == 2
    assert gaps[0] >= base and gaps[1] >= 2 * base, gaps
    assert gaps[1] < 2 * base + base + 1.0, gaps  # no extra retry layer hiding in the SDK


def test_retry_after_ms_is_honoured_in_real_time(fault: FaultServer) -> None:
    fault.push(status(429, headers={"retry-after-ms": "250"}), completion(GOOD))
    eng = Engine(fault.url, real_sleep=True)
    eng.run()
    assert eng.waits == [0.25]
    assert fault.gaps()[0] >= 0.25


def test_connection_refused() -> None:
    url = closed_port_url()
    eng = Engine(url, max_retries=2)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert len(eng.waits) == 2  # three connection attempts, two backoffs
    assert_exponential(eng.waits)
    assert str(info.value) == f"cannot connect to {url} (3 requests)"
    assert info.value.usage["requests"] == 3


@pytest.mark.parametrize("after", ["headers", "body"])
def test_connection_reset_midway_is_retried(fault: FaultServer, after: str) -> None:
    fault.push(reset(after=after), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.run()
    assert fault.count == 2
    assert len(eng.waits) == 1
    assert usage_of(result)["requests"] == 2


def test_connection_reset_every_time(fault: FaultServer) -> None:
    fault.default(reset(after="body"))
    eng = Engine(fault.url, max_retries=2)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == 3
    assert str(info.value) == f"cannot connect to {fault.url} (3 requests)"


@pytest.mark.timeout(15)
def test_read_timeout(fault: FaultServer) -> None:
    fault.default(hang(10))
    eng = Engine(fault.url, max_retries=1, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        eng.run()
    elapsed = time.monotonic() - started
    assert fault.count == 2
    assert len(eng.waits) == 1
    assert str(info.value) == "server timed out after 0.3s (2 requests)"
    assert 0.6 <= elapsed < 5, elapsed  # the client timeout, not the server's 10 s


def test_read_timeout_then_success(fault: FaultServer) -> None:
    fault.push(hang(10), completion(GOOD))
    eng = Engine(fault.url, timeout=0.3)
    result = eng.run()
    assert fault.count == 2
    assert usage_of(result)["requests"] == 2


# ---------------------------------------------------------------------------------------------
# Not retried: 400, 401, 404, 422


def test_401_is_a_config_error_and_not_retried(fault: FaultServer) -> None:
    fault.default(status(401))
    eng = Engine(fault.url)
    with pytest.raises(ConfigError) as info:
        eng.run()
    assert fault.count == 1
    assert eng.waits == []
    assert str(info.value) == "authentication failed (check OPENAI_API_KEY)"
    assert isinstance(info.value, UserError) and info.value.exit_code == 2


def test_400_is_not_retried(fault: FaultServer) -> None:
    fault.default(status(400))
    eng = Engine(fault.url)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == 1
    assert eng.waits == []
    assert str(info.value) == "server rejected the request (400): fault server: scripted 400"
    assert info.value.usage["requests"] == 1


def test_400_context_overflow_names_the_limit(fault: FaultServer) -> None:
    body = json.dumps(
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 5000,
                "n_ctx": 4096,
            }
        }
    )
    fault.default(status(400, body=body))
    eng = Engine(fault.url)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == 1
    assert "4096 tokens" in str(info.value) and "5000 prompt tokens" in str(info.value)


@pytest.mark.parametrize(
    ("code", "error", "message"),
    [
        (404, ConfigError, "model 'fault-model' or endpoint not found (check --model and --base-url)"),
        (403, ConfigError, "permission denied by the server (check OPENAI_API_KEY and model)"),
        (422, EngineError, "server rejected the request (422): fault server: scripted 422"),
    ],
    ids=["404", "403", "422"],
)
def test_other_4xx_not_retried(fault: FaultServer, code: int, error: type, message: str) -> None:
    fault.default(status(code))
    eng = Engine(fault.url)
    with pytest.raises(error) as info:
        eng.run()
    assert fault.count == 1
    assert eng.waits == []
    assert str(info.value) == message


# ---------------------------------------------------------------------------------------------
# 200s that are not a usable answer: re-asked (no backoff), usage summed


@pytest.mark.parametrize(
    "body",
    [pytest.param("{not json", id="invalid-json"), pytest.param('{"id": "x", "choi', id="truncated")],
)
def test_200_with_unparseable_body_is_reasked(fault: FaultServer, body: str) -> None:
    fault.push(raw(body), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.run()
    assert fault.count == 2
    assert eng.waits == []  # a re-ask, not a transport retry
    assert usage_of(result) == {
        "prompt_tokens": PROMPT,
        "completion_tokens": COMPLETION,
        "total_tokens": PROMPT + COMPLETION,
        "requests": 2,
    }
    assert "valid after 2 attempts (1 re-asks)" in result.warnings


@pytest.mark.parametrize(
    "body",
    [pytest.param("{not json", id="invalid-json"), pytest.param('{"id": "x", "choi', id="truncated")],
)
def test_200_with_unparseable_body_every_time(fault: FaultServer, body: str) -> None:
    fault.default(raw(body))
    eng = Engine(fault.url)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == 3  # 1 + max_reasks
    assert eng.waits == []
    assert str(info.value).startswith(
        "model 'fault-model' gave no valid summary after 3 attempts (2 re-asks); last error: "
    )
    assert info.value.attempts == 3


def test_200_truncated_answer_content_is_reasked(fault: FaultServer) -> None:
    fault.push(completion(json.dumps(GOOD)[:60], finish_reason="length"), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.run()
    assert fault.count == 2
    assert usage_of(result)["prompt_tokens"] == 2 * PROMPT


def test_schema_violation_is_reasked_then_valid(fault: FaultServer) -> None:
    fault.push(completion(BAD_ANSWER), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.run()
    assert fault.count == 2
    assert eng.waits == []
    # The re-ask carries the error; it replaces (does not append to) the conversation.
    first, second = (r.messages for r in fault.requests)
    assert len(second) == len(first) + 2
    assert "'nobody'" in second[-1]["content"]
    assert usage_of(result) == {
        "prompt_tokens": 2 * PROMPT,
        "completion_tokens": 2 * COMPLETION,
        "total_tokens": 2 * (PROMPT + COMPLETION),
        "requests": 2,
    }


def test_schema_violation_exhausts_reasks(fault: FaultServer) -> None:
    fault.default(completion(BAD_ANSWER))
    eng = Engine(fault.url, max_reasks=2)
    with pytest.raises(EngineError) as info:
        eng.run()
    assert fault.count == 3
    assert eng.waits == []
    assert str(info.value) == (
        "model 'fault-model' gave no valid summary after 3 attempts (2 re-asks); last error: "
        "answer: Value error, positions[0].party is 'nobody', not one of the party ids "
        "['china', 'mexico']"
    )
    assert info.value.attempts == 3
    assert info.value.usage == {
        "prompt_tokens": 3 * PROMPT,
        "completion_tokens": 3 * COMPLETION,
        "total_tokens": 3 * (PROMPT + COMPLETION),
        "requests": 3,
    }
    # Bounded context: every re-ask has the same number of messages.
    sizes = [len(r.messages) for r in fault.requests]
    assert sizes[1] == sizes[2] == sizes[0] + 2


def test_usage_summed_across_reasks_and_retries(fault: FaultServer) -> None:
    fault.push(completion(BAD_ANSWER), status(503), reset(), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.run()
    assert fault.count == 4
    assert len(eng.waits) == 2
    assert usage_of(result) == {
        "prompt_tokens": 2 * PROMPT,
        "completion_tokens": 2 * COMPLETION,
        "total_tokens": 2 * (PROMPT + COMPLETION),
        "requests": 4,
    }


# ---------------------------------------------------------------------------------------------
# The async path behaves the same


def test_async_retries_and_usage(fault: FaultServer) -> None:
    fault.push(status(500), status(429, retry_after="2"), completion(BAD_ANSWER), completion(GOOD))
    eng = Engine(fault.url)
    result = eng.arun()
    assert fault.count == 4
    assert len(eng.waits) == 2 and eng.waits[1] == 2.0
    assert usage_of(result)["requests"] == 4
    assert usage_of(result)["prompt_tokens"] == 2 * PROMPT


def test_async_401(fault: FaultServer) -> None:
    fault.default(status(401))
    eng = Engine(fault.url)
    with pytest.raises(ConfigError, match=r"^authentication failed \(check OPENAI_API_KEY\)$"):
        eng.arun()
    assert fault.count == 1


def test_async_connection_refused() -> None:
    url = closed_port_url()
    eng = Engine(url, max_retries=1)
    with pytest.raises(EngineError, match=r"^cannot connect to .* \(2 requests\)$"):
        eng.arun()
    assert len(eng.waits) == 1


# ---------------------------------------------------------------------------------------------
# The SDK never retries on its own (one retry layer)


def test_sdk_retries_are_off(fault: FaultServer) -> None:
    fault.default(status(500))
    eng = Engine(fault.url, max_retries=0)
    with pytest.raises(EngineError):
        eng.run()
    assert fault.count == 1
    assert {r.headers.get("x-stainless-retry-count") for r in fault.requests} <= {"0", None}


def test_injected_client_sdk_retries_are_switched_off(fault: FaultServer) -> None:
    import openai

    fault.default(status(500))
    client = openai.OpenAI(base_url=fault.url, api_key=PLANTED_KEY, max_retries=5)
    config = LLMConfig(model="fault-model", base_url=fault.url, api_key=PLANTED_KEY, max_retries=1)
    waits: list[float] = []
    eng = llm.LLMEngine(
        config, client=client, prompt=PROMPT_V1, hints=False, backoff_base=BASE,
        sleep=waits.append,
    )
    with pytest.raises(EngineError):
        summarize(SEED_TEXT, engine=eng)
    assert fault.count == 2  # tenacity's 2 attempts, none from the SDK's own 5 retries


# ---------------------------------------------------------------------------------------------
# Through the CLI: exit codes and one error line


@pytest.mark.parametrize(
    ("action", "code", "line"),
    [
        (status(401), 2, "readout: error: authentication failed (check OPENAI_API_KEY)"),
        (
            status(400),
            1,
            "readout: error: server rejected the request (400): fault server: scripted 400"
            " (--debug for details)",
        ),
    ],
    ids=["401", "400"],
)
def test_cli_exit_code_and_one_line(fault: FaultServer, tmp_path, action, code, line) -> None:
    from .conftest import cli_run

    fault.default(action)
    path = tmp_path / "r.txt"
    path.write_text(SEED_TEXT, encoding="utf-8")
    res = cli_run(
        ["summarize", "--engine", "llm", "--base-url", fault.url, str(path)],
        env={"OPENAI_API_KEY": PLANTED_KEY, "READOUT_MODEL": "fault-model"},
    )
    assert res.exception is None
    assert res.exit_code == code
    assert res.stderr.strip() == line
    assert fault.count == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "actions",
    [[status(400)], [completion("{bad")] * 3],
    ids=["400", "reasks-exhausted"],
)
def test_cli_real_process_prints_exactly_one_line(fault: FaultServer, tmp_path, actions) -> None:
    """No library log record (instructor logs failed attempts at ERROR) reaches stderr."""
    from .conftest import assert_one_line_error, cli_subprocess

    fault.push(*actions)
    path = tmp_path / "r.txt"
    path.write_text(SEED_TEXT, encoding="utf-8")
    proc = cli_subprocess(
        ["summarize", "--engine", "llm", "--base-url", fault.url, str(path)],
        env={"OPENAI_API_KEY": PLANTED_KEY, "READOUT_MODEL": "fault-model"},
    )
    assert proc.returncode == 1
    assert_one_line_error(proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

"""LLM engine overhead and token accounting, replayed from the recorded cassettes (offline).

    .venv/bin/python benchmarks/llm_overhead.py [--runs 200] [--json]

- Library overhead per `summarize()` call: wall time of the whole call minus the time spent
  inside the HTTP transport (which, when replayed, is vcrpy's matching instead of the network).
  That is everything readout, instructor and the openai SDK do: segmentation, prompt rendering,
  schema building, request building, parsing, validation, grounding, provenance. Target: < 5 ms
  median for a ~300-word readout.
- Tokens, from the usage the real server reported in the cassettes (Qwen2.5-Coder-1.5B, hints
  off): prompt tokens = fixed overhead + per-word cost (a line through the recorded readouts),
  completion tokens per returned item. Target: fixed overhead < 1,200 tokens.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import openai
import vcr
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from readout import api  # noqa: E402
from readout.config import LLMConfig  # noqa: E402
from readout.engines.llm import LLMEngine  # noqa: E402
from readout.prompting import load_prompt  # noqa: E402
from readout.segmentation import parse_document  # noqa: E402

CASSETTES = ROOT / "cassettes"
SEED = ROOT / "seeds" / "wangyi-ebrard-2021.txt"
INJECTION = ROOT / "tests" / "llm" / "data" / "injection.txt"
MODEL = "qwen2.5-coder-1.5b-instruct"


class TimedTransport(httpx2.HTTPTransport):
    """Counts the seconds spent in the transport (vcrpy patches `handle_request` underneath)."""

    spent = 0.0

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        t0 = time.perf_counter()
        try:
            response = super().handle_request(request)
            response.read()
            return response
        finally:
            TimedTransport.spent += time.perf_counter() - t0


def engine(version: str = "1") -> LLMEngine:
    # Must match tests/llm/conftest.py:make_engine so the request body matches the recording.
    config = LLMConfig(model=MODEL, base_url="http://127.0.0.1:8080/v1", timeout=600.0)
    client = openai.OpenAI(
        api_key="not-needed",
        base_url=config.base_url,
        max_retries=0,
        http_client=httpx2.Client(transport=TimedTransport()),
    )
    return LLMEngine(
        config,
        client=client,
        hints=False,
        rng=random.Random(20240601),
        seed=7,
        prompt=load_prompt("summarize", version),  # the version the cassette was recorded with
    )


def overhead_ms(text: str, cassette: str, runs: int, version: str = "1") -> list[float]:
    my_vcr = vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="none",
        match_on=["method", "path", "body"],
    )
    out: list[float] = []
    eng = engine(version)  # one engine for many calls, as `readout batch` and eval use it
    with my_vcr.use_cassette(cassette, allow_playback_repeats=True):
        for i in range(runs + 5):
            eng.rng = random.Random(20240601)  # the recorded boundary, so the body matches
            TimedTransport.spent = 0.0
            t0 = time.perf_counter()
            api.summarize(text, engine=eng)
            total = time.perf_counter() - t0
            if i >= 5:  # warm-up: imports, caches
                out.append((total - TimedTransport.spent) * 1000)
    return out


def recorded_usage(cassette: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((CASSETTES / cassette).read_text(encoding="utf-8"))
    return [
        json.loads(i["response"]["body"]["string"]) for i in data["interactions"]
    ]


def tokens_report() -> dict[str, Any]:
    points = []
    items = 0
    completion = 0
    for text_path, cassette in ((SEED, "qwen-seed.yaml"), (INJECTION, "qwen-injection.yaml")):
        text = text_path.read_text(encoding="utf-8")
        words = len(parse_document(text).body.split())
        answers = recorded_usage(cassette)
        first = answers[0]["usage"]
        points.append((words, first["prompt_tokens"]))
        for a in answers:
            completion += a["usage"]["completion_tokens"]
            content = json.loads(a["choices"][0]["message"]["content"])
            items += sum(len(content.get(k, [])) for k in ("positions", "requests", "agreements"))
    (w1, p1), (w2, p2) = points
    per_word = (p1 - p2) / (w1 - w2)
    fixed = p1 - per_word * w1
    return {
        "readouts": [{"words": w, "prompt_tokens": p} for w, p in points],
        "fixed_prompt_overhead_tokens": round(fixed),
        "prompt_tokens_per_word": round(per_word, 3),
        "completion_tokens_per_item": round(completion / items, 1) if items else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    text = SEED.read_text(encoding="utf-8")
    times = overhead_ms(text, "qwen-seed.yaml", args.runs)
    report = {
        "readout_words": len(parse_document(text).body.split()),
        "runs": len(times),
        "overhead_ms_median": round(statistics.median(times), 3),
        "overhead_ms_p90": round(sorted(times)[int(len(times) * 0.9)], 3),
        "tokens": tokens_report(),
    }
    review = overhead_ms(text, "qwen-seed-review.yaml", args.runs, version="2")
    review_usage = recorded_usage("qwen-seed-review.yaml")[0]["usage"]
    report["review_v2"] = {
        "overhead_ms_median": round(statistics.median(review), 3),
        "overhead_ms_p90": round(sorted(review)[int(len(review) * 0.9)], 3),
        "prompt_tokens": review_usage["prompt_tokens"],
        "completion_tokens": review_usage["completion_tokens"],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        t = report["tokens"]
        print(
            f"llm overhead per summarize() (replayed, {report['readout_words']}-word readout): "
            f"median {report['overhead_ms_median']} ms, p90 {report['overhead_ms_p90']} ms "
            f"over {report['runs']} runs (target < 5 ms)"
        )
        print(
            f"llm tokens (Qwen2.5-Coder-1.5B, recorded): fixed prompt overhead "
            f"{t['fixed_prompt_overhead_tokens']} tokens (target < 1200), "
            f"{t['prompt_tokens_per_word']} prompt tokens per readout word, "
            f"{t['completion_tokens_per_item']} completion tokens per item"
        )
        r = report["review_v2"]
        print(
            f"llm prompt v2 (review of the offline draft, the default): overhead median "
            f"{r['overhead_ms_median']} ms, p90 {r['overhead_ms_p90']} ms (offline pre-pass "
            f"included); seed request {r['prompt_tokens']} prompt + {r['completion_tokens']} "
            "completion tokens"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

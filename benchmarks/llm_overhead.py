"""LLM engine overhead and token accounting, replayed from the recorded cassettes (offline).

    .venv/bin/python benchmarks/llm_overhead.py [--runs 200] [--json]

- Library overhead per `summarize()` call: wall time of the whole call minus the time spent
  inside the HTTP transport (which, when replayed, is vcrpy's matching instead of the network).
  That is everything readout, instructor and the openai SDK do: segmentation, the offline
  pre-pass (the draft a review prompt sends), prompt rendering, schema, request building,
  parsing, validation, grounding, provenance. Each call is measured as a *new* document: the
  caches keyed by text are cleared first, as in a batch where every readout is different.
  Target: < 5 ms median for a ~300-word readout with the default prompt.
- Tokens, from the usage the real server reported in the cassettes (Qwen2.5-Coder-1.5B):
  prompt tokens = fixed overhead + per-word cost (a least-squares line through the recorded
  readouts of one prompt version), completion tokens per answer item. Target: fixed overhead
  < 1,200 tokens.
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
from readout.engines import rules  # noqa: E402
from readout.engines.llm import LLMEngine  # noqa: E402
from readout.prompting import load_prompt  # noqa: E402
from readout.segmentation import parse_document  # noqa: E402

CASSETTES = ROOT / "cassettes"
SEED = ROOT / "seeds" / "wangyi-ebrard-2021.txt"
INJECTION = ROOT / "tests" / "llm" / "data" / "injection.txt"
CALL300 = ROOT / "tests" / "llm" / "data" / "call-300.txt"
MODEL = "qwen2.5-coder-1.5b-instruct"
DEFAULT = load_prompt("summarize").version
# (readout, cassette) recorded with the default prompt and with v1 (see tests/llm)
RECORDED = {
    DEFAULT: ((CALL300, "qwen-call300-review.yaml"), (SEED, "qwen-seed-review.yaml"),
              (INJECTION, "qwen-injection-review.yaml")),
    "1": ((SEED, "qwen-seed.yaml"), (INJECTION, "qwen-injection.yaml")),
}


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


def engine(version: str) -> LLMEngine:
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


def fresh_document() -> None:
    """Forget what the offline pre-pass cached about earlier texts (a batch never repeats one)."""
    rules._country_spans.cache_clear()


def overhead_ms(text: str, cassette: str, runs: int, version: str) -> list[float]:
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
            fresh_document()
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


def answer_items(content: dict[str, Any]) -> int:
    """Items the model wrote: found items (v1) or draft decisions plus added items (review)."""
    if "review" in content:
        return len(content.get("review") or {}) + len(content.get("missing") or [])
    return sum(len(content.get(k, [])) for k in ("positions", "requests", "agreements"))


def tokens_report(version: str) -> dict[str, Any]:
    points = []
    items = completion = 0
    for text_path, cassette in RECORDED[version]:
        text = text_path.read_text(encoding="utf-8")
        words = len(parse_document(text).body.split())
        answers = recorded_usage(cassette)
        points.append((words, answers[0]["usage"]["prompt_tokens"]))
        for a in answers:
            completion += a["usage"]["completion_tokens"]
            items += answer_items(json.loads(a["choices"][0]["message"]["content"]))
    n = len(points)
    mw = sum(w for w, _ in points) / n
    mp = sum(p for _, p in points) / n
    per_word = sum((w - mw) * (p - mp) for w, p in points) / sum((w - mw) ** 2 for w, _ in points)
    return {
        "prompt_version": version,
        "readouts": [{"words": w, "prompt_tokens": p} for w, p in points],
        "fixed_prompt_overhead_tokens": round(mp - per_word * mw),
        "prompt_tokens_per_word": round(per_word, 3),
        "completion_tokens": completion,
        "completion_tokens_per_item": round(completion / items, 1) if items else None,
    }


def timing(text_path: Path, cassette: str, runs: int, version: str) -> dict[str, Any]:
    text = text_path.read_text(encoding="utf-8")
    times = overhead_ms(text, cassette, runs, version)
    return {
        "prompt_version": version,
        "readout": text_path.name,
        "readout_words": len(parse_document(text).body.split()),
        "runs": len(times),
        "overhead_ms_median": round(statistics.median(times), 3),
        "overhead_ms_p90": round(sorted(times)[int(len(times) * 0.9)], 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {
        "timing": [
            timing(CALL300, "qwen-call300-review.yaml", args.runs, DEFAULT),
            timing(SEED, "qwen-seed-review.yaml", args.runs, DEFAULT),
            timing(SEED, "qwen-seed.yaml", args.runs, "1"),
        ],
        "tokens": [tokens_report(DEFAULT), tokens_report("1")],
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for t in report["timing"]:
        target = " (target < 5 ms)" if t["readout"] == CALL300.name else ""
        print(
            f"llm overhead per summarize(), prompt v{t['prompt_version']}, "
            f"{t['readout_words']}-word readout (replayed, new document each call): "
            f"median {t['overhead_ms_median']} ms, p90 {t['overhead_ms_p90']} ms "
            f"over {t['runs']} runs{target}"
        )
    for t in report["tokens"]:
        per = ", ".join(f"{r['words']} words -> {r['prompt_tokens']}" for r in t["readouts"])
        print(
            f"llm tokens, prompt v{t['prompt_version']} (Qwen2.5-Coder-1.5B, recorded): fixed "
            f"prompt overhead {t['fixed_prompt_overhead_tokens']} tokens (target < 1200), "
            f"{t['prompt_tokens_per_word']} prompt tokens per readout word ({per}); "
            f"{t['completion_tokens_per_item']} completion tokens per item"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The batch with the real LLM engine against the local fixed-latency benchmark server."""

from __future__ import annotations

import importlib.util
import threading
import time
import warnings
from pathlib import Path

import pytest

from readout.batch import _build_engine, run_batch
from readout.ratelimit import RateLimiter

from .conftest import assert_consistent

pytest.importorskip("readout.engines.llm")

SERVER = Path(__file__).parents[2] / "benchmarks" / "fixed_latency_server.py"


@pytest.fixture
def server_url():
    spec = importlib.util.spec_from_file_location("fixed_latency_server", SERVER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    server = module.serve(0.2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def no_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "READOUT_API_KEY", "READOUT_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_llm_engine_gets_the_shared_limiter():
    limiter = RateLimiter(rpm=60)
    engine, closers = _build_engine(
        "llm", model="m", base_url="http://127.0.0.1:9/v1", limiter=limiter
    )
    assert engine.name == "llm" and engine.limiter is limiter
    assert len(closers) == 1


def test_llm_batch_runs_concurrently_and_is_idempotent(tmp_path, corpus, server_url):
    import instructor  # noqa: F401  (import time is not what this test measures)

    db = tmp_path / "s.db"
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        report = run_batch(
            [corpus], db=db, engine="llm", base_url=server_url, model="m", concurrency=10
        )
    elapsed = time.perf_counter() - started
    assert (report.done, report.failed) == (20, 0), report.failures
    assert report.engine == "llm" and report.model == "m"
    assert report.requests == 20 and report.tokens > 0
    assert elapsed < 20 * 0.2 * 0.75  # overlapped: one after another takes >= 4 s
    assert_consistent(db)
    again = run_batch([corpus], db=db, engine="llm", base_url=server_url, model="m")
    assert (again.skipped, again.requests, again.writes) == (20, 0, 0)

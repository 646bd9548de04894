"""Real processes: SIGKILL midway loses nothing, and two concurrent runs never both work."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import add_bad_documents, assert_consistent, counts, make_corpus, snapshot

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("slow_driver.py")
N_DOCS = 300


def _results(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # not created or not migrated yet
        return 0


def _wait_for_results(db: Path, proc: subprocess.Popen, at_least: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = _results(db)
        if n >= at_least:
            return n
        if proc.poll() is not None:
            pytest.fail(f"the batch process ended early: {proc.communicate()}")
        time.sleep(0.01)
    pytest.fail("the batch process made no progress")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENAI_API_KEY", "READOUT_API_KEY", "READOUT_BASE_URL", "OPENAI_BASE_URL"):
        env.pop(name, None)
    return env


def _driver(db: Path, delay: float, *inputs: Path) -> list[str]:
    return [sys.executable, str(DRIVER), str(db), str(delay), *map(str, inputs)]


def _cli(db: Path, *inputs: Path, engine: str = "rules") -> list[str]:
    return [
        sys.executable,
        "-m",
        "readout",
        "batch",
        "--db",
        str(db),
        "--engine",
        engine,
        *map(str, inputs),
    ]


def _rules_available() -> bool:
    try:
        import readout.engines.rules  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crash") / "inbox"
    make_corpus(folder, N_DOCS)
    add_bad_documents(folder)
    return folder


def _crash_and_compare(tmp_path: Path, command, kill_at: int) -> None:
    killed_db = tmp_path / "killed.db"
    proc = subprocess.Popen(
        command(killed_db), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _wait_for_results(killed_db, proc, kill_at)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    partial = counts(killed_db)
    assert 0 < partial["results"] < N_DOCS, partial
    assert_consistent(killed_db)  # no half-written document, even right after the kill

    rerun = subprocess.run(
        command(killed_db), env=_env(), capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode in (0, 1), rerun.stderr

    clean_db = tmp_path / "clean.db"
    clean = subprocess.run(
        command(clean_db), env=_env(), capture_output=True, text=True, timeout=120
    )
    assert clean.returncode == 1, clean.stderr  # the four bad documents fail
    assert_consistent(killed_db)
    assert (
        counts(killed_db)
        == counts(clean_db)
        == {"documents": N_DOCS + 4, "results": N_DOCS, "failures": 4}
    )
    assert snapshot(killed_db) == snapshot(clean_db)


def test_sigkill_midway_then_rerun_equals_an_uninterrupted_run(tmp_path, inbox):
    _crash_and_compare(tmp_path, lambda db: _driver(db, 0.004, inbox), kill_at=60)


@pytest.mark.skipif(not _rules_available(), reason="the rules engine is not there yet")
def test_sigkill_of_readout_batch_cli(tmp_path, inbox):
    _crash_and_compare(tmp_path, lambda db: _cli(db, inbox), kill_at=30)


def test_two_concurrent_runs_never_both_process(tmp_path, inbox):
    db = tmp_path / "store.db"
    first = subprocess.Popen(
        _driver(db, 0.004, inbox),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_results(db, first, 5)
    second = subprocess.run(
        _driver(db, 0.0, inbox), env=_env(), capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0
    assert "another readout batch is running" in second.stderr
    assert json.loads(second.stdout) == {"locked": True, "calls": 0}
    out, _ = first.communicate(timeout=120)
    report = json.loads(out)
    assert report["calls"] == report["done"] == N_DOCS
    assert_consistent(db)
    assert counts(db)["results"] == N_DOCS


def test_cli_lock_message_and_exit_code(tmp_path, inbox):
    db = tmp_path / "store.db"
    first = subprocess.Popen(
        _driver(db, 0.004, inbox), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_for_results(db, first, 1)
        second = subprocess.run(
            _cli(db, inbox, engine="auto"), env=_env(), capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 0, second.stderr
        assert "another readout batch is running" in second.stderr
        assert "pid" in second.stderr
    finally:
        first.kill()
        first.communicate()

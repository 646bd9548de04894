"""Fixtures of the reliability matrix: a fault server, a planted key, CLI helpers, engine probes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from ..faultserver import FaultServer

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "wangyi-ebrard-2021.txt"
PLANTED_KEY = "sk-test-PLANTED-abc123def456ghi789"
"""A fake API key planted in every LLM test; no log, error, file or export may ever show it."""


def have(module: str) -> bool:
    """True when `module` can be imported (features still being written by other engineers)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def need(module: str):
    """Import `module` or skip the test: the feature has not landed yet."""
    return pytest.importorskip(module, reason=f"{module} has not landed yet")


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    """A started fault-injecting OpenAI-compatible server on 127.0.0.1 (stopped after the test)."""
    with FaultServer() as server:
        yield server


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


def cli_run(args: list[str], *, input: bytes | None = None, env: dict | None = None) -> CliResult:
    """Run the CLI in process with click's CliRunner (stdout and stderr kept apart)."""
    from readout.cli import cli

    res = CliRunner().invoke(cli, args, input=input, env=env, catch_exceptions=True)
    exc = res.exception if not isinstance(res.exception, SystemExit) else None
    return CliResult(res.exit_code, res.stdout, res.stderr, exc)


def cli_subprocess(
    args: list[str], *, input: bytes | None = None, env: dict | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `python -m readout ARGS` in a real process (no API key or server in its environment)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"OPENAI_API_KEY", "READOUT_API_KEY", "READOUT_BASE_URL", "OPENAI_BASE_URL"}
    }
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "readout", *args],
        input=input.decode("latin-1") if input is not None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env=clean,
        cwd=ROOT,
    )


def assert_one_line_error(stderr: str, *needles: str) -> str:
    """stderr holds exactly one `readout: error:` line, no traceback, and names every needle."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("readout: error:")]
    assert len(errors) == 1, f"expected one error line, got: {stderr!r}"
    assert "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle.lower() in errors[0].lower(), f"{needle!r} not in {errors[0]!r}"
    return errors[0]

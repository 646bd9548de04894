"""Secrets: a planted API key never shows up in logs, errors, tracebacks, the database, exports
or cassettes. Every test first proves the key was really in play (the server received it).
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from pathlib import Path

import pytest

from readout.api import summarize
from readout.config import LLMConfig
from readout.errors import ReadoutError
from readout.prompting import load_prompt

from ..faultserver import FaultServer, closed_port_url, completion, hang, raw, reset, status
from .conftest import PLANTED_KEY, ROOT, SEED, cli_run, cli_subprocess, need
from .test_failing_servers import BAD_ANSWER, GOOD

llm = need("readout.engines.llm")

pytestmark = pytest.mark.timeout(60)

SEED_TEXT = SEED.read_text(encoding="utf-8")
KEY_PARTS = (PLANTED_KEY, PLANTED_KEY[-12:], "PLANTED-abc123")
KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")


def assert_no_key(where: str, text: str | bytes) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace") + text.decode("utf-16-le", "replace")
    for part in KEY_PARTS:
        assert part not in text, f"planted key found in {where}"


def exception_texts(exc: BaseException) -> str:
    """str, repr and the formatted traceback of an exception and of every chained one."""
    out, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        out += [str(cur), repr(cur), *traceback.format_exception(cur)]
        out += [repr(getattr(cur, name, "")) for name in ("args", "usage", "body", "message")]
        # Follow the chain a traceback shows: the cause, or the context unless `from None`.
        cur = cur.__cause__ or (None if cur.__suppress_context__ else cur.__context__)
    return "\n".join(out)


def engine(url: str, **kw):
    config = LLMConfig(
        model="fault-model", base_url=url, api_key=PLANTED_KEY, timeout=0.5, max_retries=1
    )
    kw.setdefault("prompt", load_prompt("summarize", "1"))  # v1-shaped answers
    return llm.LLMEngine(config, hints=False, sleep=lambda s: None, **kw)


SCENARIOS = {
    "200": [completion(GOOD)],
    "reask-then-200": [completion(BAD_ANSWER), completion(GOOD)],
    "reasks-exhausted": [completion(BAD_ANSWER)] * 3,
    "401": [status(401, message="Incorrect API key provided.")],
    "400": [status(400)],
    "500-exhausted": [status(500), status(500)],
    "429": [status(429, retry_after="1"), status(429, retry_after="1")],
    "reset": [reset(after="body"), reset()],
    "timeout": [hang(5), hang(5)],
    "invalid-json": [raw("{nope")] * 3,
}



def _review_answer() -> dict:
    from readout.segmentation import parse_document

    draft = llm.offline_draft(parse_document(SEED_TEXT))
    review = {d.id: {"decision": "keep", "summary": "kept"} for d in draft.items}
    return {"review": review, "missing": [], "headline": "H", "event": "call"}


CLI_SCENARIOS = {"200": [completion(_review_answer())]}

@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_key_absent_from_logs_and_errors(
    fault: FaultServer, caplog: pytest.LogCaptureFixture, scenario: str
) -> None:
    fault.push(*SCENARIOS[scenario])
    caplog.set_level(logging.DEBUG)  # root: readout, openai, httpx, instructor, everything
    for name in ("readout", "openai", "httpx", "httpx2", "httpcore", "instructor"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    eng = engine(fault.url)
    error: BaseException | None = None
    try:
        result = summarize(SEED_TEXT, engine=eng)
        assert_no_key("result JSON", result.model_dump_json())
    except ReadoutError as exc:
        error = exc
    assert fault.requests, "no request reached the server"
    assert fault.requests[0].headers["authorization"] == f"Bearer {PLANTED_KEY}"  # it was live
    assert caplog.records, "nothing was logged at DEBUG: the capture is not working"
    assert_no_key("log messages", caplog.text)
    for rec in caplog.records:
        assert_no_key(f"log record {rec.name}", repr(rec.args) + repr(rec.__dict__))
    if error is not None:
        assert_no_key("exception", exception_texts(error))
    assert_no_key("engine repr", repr(eng) + repr(eng.config))


@pytest.mark.parametrize("code", [400, 401, 500])
def test_server_echoing_the_key_is_redacted(
    fault: FaultServer, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    """Some servers and proxies echo the key they were sent; readout must not repeat it."""
    caplog.set_level(logging.DEBUG)
    fault.default(status(code, message=f"Incorrect API key provided: {PLANTED_KEY}."))
    with pytest.raises(ReadoutError) as info:
        summarize(SEED_TEXT, engine=engine(fault.url))
    problems = []
    for where, text in (("error", exception_texts(info.value)), ("logs", caplog.text)):
        try:
            assert_no_key(where, text)
        except AssertionError as exc:
            problems.append(str(exc).splitlines()[0])
    assert not problems, problems


def test_connection_refused_error_has_no_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ReadoutError) as info:
        summarize(SEED_TEXT, engine=engine(closed_port_url()))
    assert_no_key("error", exception_texts(info.value))
    assert_no_key("logs", caplog.text)


def test_config_repr_hides_key() -> None:
    config = LLMConfig(api_key=PLANTED_KEY, base_url="http://127.0.0.1:1/v1")
    assert_no_key("LLMConfig repr", repr(config) + str(config))
    assert_no_key("LLMEngine repr", repr(llm.LLMEngine(config)))


# ---------------------------------------------------------------------------------------------
# The CLI with --debug, in real processes (logging configured exactly as users get it)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario", "code"),
    [("401", 2), ("400", 1), ("200", 0), ("reasks-exhausted", 1)],
)
def test_cli_debug_stderr_has_no_key(
    fault: FaultServer, tmp_path: Path, scenario: str, code: int
) -> None:
    # The CLI uses the default prompt (v2, a review of the offline draft): answer in its shape.
    fault.push(*(CLI_SCENARIOS.get(scenario) or SCENARIOS[scenario]))
    path = tmp_path / "r.txt"
    path.write_text(SEED_TEXT, encoding="utf-8")
    proc = cli_subprocess(
        ["--debug", "summarize", "--engine", "llm", "--base-url", fault.url, str(path)],
        env={"OPENAI_API_KEY": PLANTED_KEY, "READOUT_MODEL": "fault-model"},
        timeout=30,
    )
    assert proc.returncode == code, proc.stderr[-2000:]
    assert fault.requests[0].headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert "DEBUG" in proc.stderr  # debug logging really was on
    if code:
        assert "Traceback" in proc.stderr  # --debug shows it ...
    assert_no_key("stderr with --debug", proc.stderr)  # ... and it still holds no key
    assert_no_key("stdout", proc.stdout)


def test_cli_error_line_has_no_key(fault: FaultServer, tmp_path: Path) -> None:
    fault.push(*SCENARIOS["401"])
    path = tmp_path / "r.txt"
    path.write_text(SEED_TEXT, encoding="utf-8")
    res = cli_run(
        ["summarize", "--engine", "llm", "--base-url", fault.url, str(path)],
        env={"OPENAI_API_KEY": PLANTED_KEY},
    )
    assert res.exit_code == 2
    assert res.stderr.strip() == "readout: error: authentication failed (check OPENAI_API_KEY)"


# ---------------------------------------------------------------------------------------------
# The batch database and its exports


@pytest.fixture
def batch_db(fault: FaultServer, tmp_path: Path) -> Path:
    need("readout.batch")
    docs = tmp_path / "in"
    docs.mkdir()
    for i in range(4):
        (docs / f"doc{i}.txt").write_text(SEED_TEXT + f"\n\nReference {i}.", encoding="utf-8")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    fault.push(status(400))
    fault.default(completion({**GOOD, **_review_answer()}))  # fits prompt v1 and v2 (default)
    db = tmp_path / "readout.db"
    res = cli_run(
        [
            "batch",
            str(docs),
            "--db",
            str(db),
            "--engine",
            "llm",
            "--base-url",
            fault.url,
            "--concurrency",
            "1",
        ],
        env={"OPENAI_API_KEY": PLANTED_KEY, "READOUT_MODEL": "fault-model"},
    )
    assert res.exit_code == 1, res.stdout + res.stderr  # one LLM failure + one bad document
    assert fault.requests[0].headers["authorization"] == f"Bearer {PLANTED_KEY}"
    assert_no_key("batch stdout/stderr", res.stdout + res.stderr)
    return db


def test_database_bytes_have_no_key(batch_db: Path) -> None:
    files = [p for p in batch_db.parent.glob(batch_db.name + "*") if p.is_file()]
    assert batch_db in files
    for p in files:
        assert_no_key(p.name, p.read_bytes())


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "markdown"])
def test_exports_have_no_key(batch_db: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"export.{fmt}"
    res = cli_run(["export", "--db", str(batch_db), "--format", fmt, "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert out.stat().st_size > 0
    assert_no_key(f"{fmt} export", out.read_bytes())


def test_failures_listing_has_no_key(batch_db: Path) -> None:
    res = cli_run(["failures", "--db", str(batch_db), "--json"])
    assert res.exit_code == 0, res.stderr
    assert "400" in res.stdout
    assert_no_key("failures", res.stdout + res.stderr)


# ---------------------------------------------------------------------------------------------
# Cassettes

CASSETTE_DIRS = [ROOT / "cassettes", *sorted((ROOT / "tests").glob("**/cassettes"))]
FORBIDDEN_HEADERS = {
    "authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
    "proxy-authorization",
}


def cassette_files() -> list[Path]:
    out: list[Path] = []
    for d in CASSETTE_DIRS:
        if d.is_dir():
            out += [p for p in d.rglob("*") if p.suffix in {".yaml", ".yml", ".json"}]
    return sorted(set(out))


def _headers(obj) -> list[str]:
    names: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "headers" and isinstance(v, dict):
                names += [str(h).lower() for h in v]
            names += _headers(v)
    elif isinstance(obj, list):
        for v in obj:
            names += _headers(v)
    return names


def test_cassettes_hold_no_secrets() -> None:
    files = cassette_files()
    if not files:
        pytest.skip("no cassettes recorded yet (cassettes/ is empty)")
    yaml = pytest.importorskip("yaml")
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert_no_key(str(path), text)
        assert not KEY_LIKE.search(text), f"key-like string in {path}"
        assert "bearer " not in text.lower(), f"bearer token in {path}"
        data = yaml.safe_load(text) if path.suffix != ".json" else __import__("json").loads(text)
        bad = FORBIDDEN_HEADERS & set(_headers(data))
        assert not bad, f"{path}: forbidden headers {sorted(bad)}"


def test_cassette_scanner_catches_a_planted_cassette(tmp_path: Path, monkeypatch) -> None:
    """The scanner itself works: a cassette with the key and an auth header is caught."""
    yaml = pytest.importorskip("yaml")
    planted = {
        "interactions": [
            {
                "request": {"headers": {"Authorization": [f"Bearer {PLANTED_KEY}"]}, "body": "{}"},
                "response": {"headers": {"Set-Cookie": ["a=b"]}, "body": {"string": "{}"}},
            }
        ]
    }
    d = tmp_path / "cassettes"
    d.mkdir()
    (d / "x.yaml").write_text(yaml.safe_dump(planted), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "CASSETTE_DIRS", [d])
    with pytest.raises(AssertionError, match=r"planted key|forbidden headers|key-like"):
        test_cassettes_hold_no_secrets()

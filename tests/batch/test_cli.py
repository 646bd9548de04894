"""`readout batch`, `readout failures`, `readout export` through click, in process."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

import readout.batch
from readout.cli import cli
from readout.engines import FakeEngine
from readout.store import BatchLock

from .conftest import add_bad_documents


@pytest.fixture
def fake(monkeypatch):
    """Make `--engine` resolve to a FakeEngine (the CLI stays otherwise untouched)."""
    engine = FakeEngine()
    monkeypatch.setattr(readout.batch, "_build_engine", lambda *a, **k: (engine, []))
    return engine


def _run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_batch_reports_and_exit_codes(tmp_path, corpus, fake):
    db = tmp_path / "s.db"
    result = _run("batch", str(corpus), "--db", str(db), "--engine", "rules")
    assert result.exit_code == 0, result.output
    for word in (
        "done:      20",
        "skipped:   0",
        "failed:    0",
        "tokens:",
        "wall time:",
        "docs/s:",
    ):
        assert word in result.stdout
    # not a terminal: plain log lines, one per document
    assert result.stderr.count("readout batch: [") == 20

    again = _run("batch", str(corpus), "--db", str(db), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["skipped"] == 20
    assert fake.calls == 20

    add_bad_documents(corpus)
    failed = _run("batch", str(corpus), "--db", str(db))
    assert failed.exit_code == 1
    assert "failed:    4" in failed.stdout
    assert "bad-empty.txt: document is empty" in failed.stderr


def test_usage_errors_exit_2(tmp_path, corpus, fake):
    db = tmp_path / "s.db"
    assert _run("batch", str(tmp_path / "missing"), "--db", str(db)).exit_code == 2
    assert _run("batch", str(corpus), "--db", str(db), "--concurrency", "0").exit_code == 2
    assert _run("batch", "--db", str(db)).exit_code == 2
    assert _run("export", "--db", str(db), "--format", "xml").exit_code == 2
    assert _run("export", "--db", str(tmp_path / "none.db"), "--format", "csv").exit_code == 2
    assert fake.calls == 0


def test_readout_db_environment_variable(tmp_path, corpus, fake):
    db = tmp_path / "env.db"
    result = _run("batch", str(corpus), env={"READOUT_DB": str(db)})
    assert result.exit_code == 0
    assert db.exists()
    assert _run("failures", env={"READOUT_DB": str(db)}).stdout.strip() == "no failures"


def test_locked_database_exits_cleanly(tmp_path, corpus, fake):
    db = tmp_path / "s.db"
    with BatchLock(db):
        result = _run("batch", str(corpus), "--db", str(db))
    assert result.exit_code == 0
    assert "another readout batch is running" in result.stderr
    assert fake.calls == 0


def test_failures_command(tmp_path, corpus, fake):
    db = tmp_path / "s.db"
    add_bad_documents(corpus)
    _run("batch", str(corpus), "--db", str(db))
    listed = _run("failures", "--db", str(db), "--json")
    rows = json.loads(listed.stdout)
    assert len(rows) == 4
    assert {r["error"] for r in rows} == {"InputError"}
    table = _run("failures", "--db", str(db))
    assert "bad-latin1.txt" in table.stdout


def test_export_formats(tmp_path, corpus, fake):
    db = tmp_path / "s.db"
    _run("batch", str(corpus), "--db", str(db))

    out = tmp_path / "items.csv"
    result = _run("export", "--db", str(db), "--format", "csv", "--out", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == [
        "document", "category", "party", "country", "summary", "evidence", "start", "end"
    ]  # fmt: skip
    with sqlite3.connect(db) as conn:
        n_items = sum(
            len(json.loads(r)["summary"]["positions"])
            for (r,) in conn.execute("SELECT result FROM results")
        )
    assert len(rows) == n_items
    source = (corpus / "doc-00000.txt").read_text(encoding="utf-8")
    first = next(r for r in rows if r["document"].endswith("doc-00000.txt"))
    assert source[int(first["start"]) : int(first["end"])] == first["evidence"]
    assert first["party"] == "Fake Party" and first["category"] == "position"

    jsonl = _run("export", "--db", str(db), "--format", "jsonl").stdout.splitlines()
    assert len(jsonl) == 20
    record = json.loads(jsonl[0])
    assert set(record) == {"document", "result"}
    assert record["result"]["provenance"]["engine"] == "fake"

    md = _run("export", "--db", str(db), "--format", "markdown").stdout
    assert md.count("# Fake summary") == 20

    assert _run("export", "--db", str(db), "-f", "jsonl", "--since", "2999-01-01").stdout == ""
    assert len(_run("export", "--db", str(db), "-f", "jsonl", "--since", "2000-01-01").stdout
               .splitlines()) == 20  # fmt: skip
    assert _run("export", "--db", str(db), "-f", "csv", "--since", "yesterday").exit_code == 2


def test_every_command_has_help():
    for command in ("batch", "failures", "export"):
        result = _run(command, "--help")
        assert result.exit_code == 0 and len(result.stdout) > 200

"""Stored document texts (migration 2): HTML export, migrating a v1 store, --retry-failed
without INPUT, and a quiet exit when the reader of `readout export` goes away."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import readout.batch
from readout.batch import run_batch
from readout.cli import cli
from readout.engines import FakeEngine
from readout.errors import EngineError
from readout.report import page_names
from readout.store import MIGRATIONS, Store

from .conftest import add_bad_documents, assert_consistent, counts, make_corpus, snapshot

HTML_DOC = (
    "<html><head><title>Call readout</title></head><body><h1>Ministers&nbsp;speak</h1>"
    "<p>The minister said   that ties\nwere strong.</p><p>Both sides agreed to meet.</p>"
    "</body></html>"
)


def _run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _page_text(path: Path) -> str:
    """The visible text of a page: tags dropped, entities decoded."""
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", "", raw, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def _texts(db: Path) -> dict[str, str | None]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT name, text FROM documents"))


def test_the_analysed_text_is_stored(tmp_path, corpus):
    (corpus / "call.html").write_text(HTML_DOC, encoding="utf-8")
    add_bad_documents(corpus)
    db = tmp_path / "s.db"
    run_batch([corpus], db=db, engine=FakeEngine())
    texts = {Path(k).name: v for k, v in _texts(db).items()}
    assert texts["doc-00003.txt"] == (corpus / "doc-00003.txt").read_text(encoding="utf-8")
    assert "The minister said that ties were strong." in texts["call.html"]
    assert "<p>" not in texts["call.html"]  # the converted text, not the HTML
    for bad in ("bad-empty.txt", "bad-binary.txt", "bad-latin1.txt", "bad-huge.txt"):
        assert texts[bad] is None
    with Store(db) as store:
        assert store.user_version == len(MIGRATIONS) == 2


def test_export_html_writes_an_index_and_one_page_per_document(tmp_path, corpus):
    (corpus / "call.html").write_text(HTML_DOC, encoding="utf-8")
    db = tmp_path / "s.db"
    run_batch([corpus], db=db, engine=FakeEngine())
    # a second configuration of the same documents still gives one page per document
    run_batch([corpus], db=db, engine=FakeEngine(model="other"))
    out = tmp_path / "site"
    result = _run("export", "--db", str(db), "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "exported 21 documents" in result.stderr
    pages = sorted(p.name for p in out.glob("*.html"))
    assert "index.html" in pages and len(pages) == 21 + 1

    index = (out / "index.html").read_text(encoding="utf-8")
    with Store(db, readonly=True) as store:
        rows = list(store.iter_results())
    assert len(rows) == 42
    names = page_names(row["name"] for row in rows)
    for row in rows:
        result_json = json.loads(row["result"])
        page = out / names[row["name"]]
        assert f'href="{page.name}"' in index
        text = _page_text(page)
        evidence = [
            span["text"]
            for category in ("positions", "requests", "agreements")
            for item in result_json["summary"][category]
            for span in item["evidence"]
        ]
        assert evidence
        for snippet in evidence:
            assert snippet in text, (page.name, snippet)
    html_page = _page_text(out / names[str(corpus / "call.html")])
    assert "The minister said that ties were strong." in html_page
    assert "<p>" not in html_page  # the converted text, not the HTML source

    # --since applies; --out is required and must be a directory
    later = tmp_path / "later"
    _run("export", "--db", str(db), "-f", "html", "--out", str(later), "--since", "2999-01-01")
    assert sorted(p.name for p in later.iterdir()) == ["index.html"]
    assert _run("export", "--db", str(db), "-f", "html").exit_code == 2
    a_file = tmp_path / "file.html"
    a_file.write_text("x")
    assert _run("export", "--db", str(db), "-f", "html", "--out", str(a_file)).exit_code == 2
    assert _run("export", "--db", str(db), "-f", "csv", "--out", str(out)).exit_code == 2


def _make_v1(db: Path, source_db: Path) -> None:
    """A database as readout with migration 1 only wrote it, with the rows of `source_db`."""
    with sqlite3.connect(db) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute("ATTACH DATABASE ? AS src", (str(source_db),))
        cols = "id, name, source, sha256, metadata, first_seen"
        conn.execute(f"INSERT INTO documents ({cols}) SELECT {cols} FROM src.documents")
        conn.execute("INSERT INTO results SELECT * FROM src.results")
        conn.execute("INSERT INTO failures SELECT * FROM src.failures")
        conn.commit()
        conn.execute("DETACH DATABASE src")


def test_a_v1_database_migrates_forward_with_its_rows_intact(tmp_path, corpus):
    add_bad_documents(corpus)
    (corpus / "broken.txt").write_text("Readout 999: the engine fails on this one.\n")
    reference = tmp_path / "reference.db"

    class Flaky(FakeEngine):
        def run(self, document):
            if "Readout 999" in document.source:
                self.calls += 1
                raise EngineError("server said 500 three times")
            return super().run(document)

    run_batch([corpus], db=reference, engine=Flaky())
    db = tmp_path / "v1.db"
    _make_v1(db, reference)
    before = snapshot(db)
    assert counts(db) == {"documents": 25, "results": 20, "failures": 5}

    # readers never migrate: export works on the v1 file; html has no texts to show
    with Store(db, readonly=True) as store:
        assert store.user_version == 1 and not store.has_text
    jsonl = _run("export", "--db", str(db), "-f", "jsonl").stdout.splitlines()
    assert len(jsonl) == 20
    site = _run("export", "--db", str(db), "-f", "html", "--out", str(tmp_path / "site1"))
    assert site.exit_code == 0
    assert "skipped 20 documents without a stored text" in site.stderr
    assert sorted(p.name for p in (tmp_path / "site1").iterdir()) == ["index.html"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1

    # without INPUT, the old failures cannot be retried: no stored text, nothing written
    report = run_batch([], db=db, engine=Flaky(), retry_failed=True)
    assert report.total == 5 and report.failed == 5 and report.no_text == 5
    assert report.done == 0
    messages = dict(report.failures)
    assert "recorded before readout stored document texts" in messages[str(corpus / "broken.txt")]
    assert "not valid utf-8" in messages[str(corpus / "bad-latin1.txt")].lower()
    with sqlite3.connect(db) as conn:  # the batch migrated the file forward
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2

    # a run over the same inputs: nothing to summarize, every row intact, texts filled in
    engine = FakeEngine()
    report = run_batch([corpus], db=db, engine=engine)
    assert engine.calls == 0 and report.done == 0
    assert snapshot(db) == before
    assert_consistent(db)
    texts = {Path(k).name: v for k, v in _texts(db).items()}
    assert texts["doc-00007.txt"] == (corpus / "doc-00007.txt").read_text(encoding="utf-8")
    assert texts["broken.txt"] is not None and texts["bad-binary.txt"] is None
    # the engine failure now retries from its stored text; undecodable inputs stay failed
    fixed = FakeEngine()
    report = run_batch([], db=db, engine=fixed, retry_failed=True)
    assert (report.done, report.no_text, fixed.calls) == (1, 4, 1)
    site = _run("export", "--db", str(db), "-f", "html", "--out", str(tmp_path / "site2"))
    assert "skipped" not in site.stderr
    assert len(list((tmp_path / "site2").glob("*.html"))) == 21 + 1


def test_retry_failed_without_input_uses_the_stored_texts(tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    make_corpus(inbox, 6)
    (inbox / "call.html").write_text(HTML_DOC, encoding="utf-8")
    add_bad_documents(inbox)
    reference = tmp_path / "reference.db"
    run_batch([inbox], db=reference, engine=FakeEngine())

    db = tmp_path / "s.db"
    broken = FakeEngine(error=EngineError("server said 500 three times"))
    assert run_batch([inbox], db=db, engine=broken).failed == 11
    shutil.rmtree(inbox)  # the inputs are gone: the store has what is needed

    engine = FakeEngine()
    report = run_batch([], db=db, engine=engine, retry_failed=True)
    assert (report.total, report.done, report.failed, report.no_text) == (11, 7, 4, 4)
    assert engine.calls == 7 and report.exit_code == 1
    assert_consistent(db)
    # the same results as a run over the inputs, and the undecodable ones still failed, as they
    # were (not attempted: no write, attempts unchanged)
    ref, got = snapshot(reference), snapshot(db)
    assert got["documents"] == ref["documents"] and got["results"] == ref["results"]
    assert [f[3:] for f in got["failures"]] == [f[3:] for f in ref["failures"]]
    for _name, message in report.failures:
        assert "not retried: no stored text" in message

    # the CLI: no INPUT with --retry-failed; the report line says why some stay failed
    fake = FakeEngine()
    monkeypatch.setattr(readout.batch, "_build_engine", lambda *a, **k: (fake, []))
    result = _run("batch", "--retry-failed", "--db", str(db))
    assert result.exit_code == 1
    assert "failed:    4  (see `readout failures`; 4 not retried: no stored text" in result.stdout
    assert "bad-binary.txt: looks like binary data" in result.stderr
    assert "not retried" in result.stderr
    assert fake.calls == 0
    usage = _run("batch", "--db", str(db))
    assert usage.exit_code == 2 and "--retry-failed" in usage.stderr


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("OPENAI_API_KEY", "READOUT_API_KEY", "READOUT_BASE_URL", "OPENAI_BASE_URL"):
        env.pop(name, None)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "markdown", "csv"])
def test_export_into_a_closed_pipe_exits_quietly(tmp_path, corpus, fmt):
    db = tmp_path / "s.db"
    run_batch([corpus], db=db, engine="rules")
    cmd = [sys.executable, "-m", "readout", "export", "--db", str(db), "-f", fmt]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), text=True
    )
    proc.stdout.close()  # the reader is gone before the first write: like `| head -0`
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert stderr == ""

    # and through a real `| head -n 1`
    shell = subprocess.run(
        " ".join(cmd) + " | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert shell.returncode == 0
    assert len(shell.stdout.splitlines()) == 1
    assert "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr

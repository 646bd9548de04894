"""run_batch: idempotence, bad documents, inputs, retries, configurations, concurrency."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from readout.batch import discover, run_batch
from readout.engines import Engine, EngineOutput, FakeEngine
from readout.errors import EngineError, UserError
from readout.segmentation import Document
from readout.store import BatchLock, LockedError, Store

from .conftest import add_bad_documents, assert_consistent, counts, make_corpus, make_text


def _files_bytes(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file()}


def test_second_run_makes_no_engine_calls_and_no_writes(tmp_path, corpus):
    db = tmp_path / "store.db"
    first = FakeEngine()
    report = run_batch([corpus], db=db, engine=first)
    assert (report.done, report.failed, report.skipped) == (20, 0, 0)
    assert first.calls == 20
    assert report.writes > 0
    before = _files_bytes(db)
    mtime = db.stat().st_mtime_ns

    second = FakeEngine()
    again = run_batch([corpus], db=db, engine=second)
    assert second.calls == 0
    assert (again.done, again.failed, again.skipped) == (0, 0, 20)
    assert again.writes == 0
    assert db.stat().st_mtime_ns == mtime
    assert _files_bytes(db) == before
    assert again.exit_code == 0
    assert_consistent(db)


def test_bad_documents_are_recorded_and_the_rest_succeed(tmp_path, corpus):
    expected = add_bad_documents(corpus)
    db = tmp_path / "store.db"
    report = run_batch([corpus], db=db, engine=FakeEngine())
    assert report.done == 20
    assert report.failed == 4
    assert report.exit_code == 1
    assert_consistent(db)
    with Store(db) as store:
        failures = {Path(f["name"]).name: f for f in store.failures()}
    assert set(failures) == set(expected)
    for name, fragment in expected.items():
        assert fragment in failures[name]["message"].lower(), failures[name]
        assert failures[name]["error"] == "InputError"
        assert "\n" not in failures[name]["message"]
    # a re-run does not retry them (nor write), and exits 0: they are recorded already
    again = run_batch([corpus], db=db, engine=FakeEngine())
    assert (again.skipped, again.skipped_failed, again.failed, again.writes) == (20, 4, 0, 0)
    assert again.exit_code == 0


def test_engine_failures_are_recorded_and_retried_only_with_retry_failed(tmp_path, corpus):
    db = tmp_path / "store.db"
    broken = FakeEngine(error=EngineError("server said 500 three times"))
    report = run_batch([corpus], db=db, engine=broken, limit=5)
    assert (report.done, report.failed, report.limited) == (0, 5, True)
    assert counts(db) == {"documents": 5, "results": 0, "failures": 5}

    # a normal run does the 15 new documents and leaves the 5 failures alone
    engine = FakeEngine()
    report = run_batch([corpus], db=db, engine=engine)
    assert (report.done, report.skipped_failed, engine.calls) == (15, 5, 15)

    # --retry-failed retries exactly the failures; success removes them
    engine = FakeEngine()
    report = run_batch([corpus], db=db, engine=engine, retry_failed=True)
    assert (report.done, report.skipped, engine.calls) == (5, 15, 5)
    assert counts(db) == {"documents": 20, "results": 20, "failures": 0}
    assert_consistent(db)


def test_failed_attempts_are_counted(tmp_path, corpus):
    db = tmp_path / "store.db"
    broken = FakeEngine(error=RuntimeError("boom\nsecond line"))
    run_batch([corpus], db=db, engine=broken, limit=1)
    run_batch([corpus], db=db, engine=broken, retry_failed=True)
    with Store(db) as store:
        (failure,) = store.failures()
    assert failure["attempts"] == 2
    assert failure["error"] == "RuntimeError"
    assert failure["message"] == "RuntimeError: boom second line"


def test_a_new_model_summarizes_again_and_keeps_the_old_result(tmp_path, corpus):
    db = tmp_path / "store.db"
    run_batch([corpus], db=db, engine=FakeEngine(model="m1"))
    engine = FakeEngine(model="m2", prompt_version="2")
    report = run_batch([corpus], db=db, engine=engine)
    assert report.done == 20 and engine.calls == 20
    assert counts(db) == {"documents": 20, "results": 40, "failures": 0}
    again = FakeEngine(model="m1")
    assert run_batch([corpus], db=db, engine=again).skipped == 20
    assert again.calls == 0


def test_identical_texts_are_one_document(tmp_path, corpus):
    copy = tmp_path / "copy"
    make_corpus(copy, 3)  # the same texts as doc-00000..2 under other paths
    db = tmp_path / "store.db"
    engine = FakeEngine()
    report = run_batch([corpus, copy], db=db, engine=engine)
    assert (report.done, report.skipped, engine.calls) == (20, 3, 20)
    assert counts(db)["documents"] == 20


def test_jsonl_records_and_their_metadata(tmp_path):
    src = tmp_path / "in.jsonl"
    records = [
        {"id": "r1", "text": make_text(1), "source": "https://example.org/1", "date": "2023-03-02"},
        {"id": "r2", "text": make_text(2), "tags": ["a", "b"]},
        {"id": "r3", "text": ""},
        {"id": "r4"},
    ]
    lines = [json.dumps(r) for r in records] + ["", "{not json", "[1, 2]"]
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "r5", "text": "caf\xe9"}\n')
    db = tmp_path / "store.db"
    report = run_batch([src], db=db, engine=FakeEngine())
    assert (report.total, report.done, report.failed) == (7, 2, 5)
    assert_consistent(db)
    with Store(db) as store:
        rows = {r["name"]: r for r in store.iter_results()}
        messages = " | ".join(f["message"] for f in store.failures())
    assert rows["r1"]["source"] == "https://example.org/1"
    result = json.loads(rows["r1"]["result"])
    assert result["summary"]["event"]["date"] == "2023-03-02"
    assert result["metadata"]["id"] == "r1"
    assert json.loads(rows["r2"]["metadata"])["tags"] == '["a", "b"]'
    assert "empty" in messages and 'no "text"' in messages
    assert "not valid JSON" in messages and "expected a JSON object" in messages
    assert "not valid UTF-8" in messages


def test_html_is_converted_and_offsets_index_the_text(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "call.html").write_text(
        "<html><head><title>Call readout</title><script>var x = 1;</script></head><body>"
        "<h1>Ministers&nbsp;speak</h1><p>The minister said   that ties\nwere strong.</p>"
        "<p>Both sides agreed to meet again.</p></body></html>",
        encoding="utf-8",
    )
    (folder / "empty.html").write_text("<html><body><script>x</script></body></html>")
    (folder / "notes.csv").write_text("not picked up from a folder")
    db = tmp_path / "store.db"
    report = run_batch([folder], db=db, engine=FakeEngine())
    assert (report.total, report.done, report.failed) == (2, 1, 1)
    with Store(db) as store:
        (row,) = list(store.iter_results())
    result = json.loads(row["result"])
    assert result["metadata"]["converted_from"] == "html"
    assert result["metadata"]["title"] == "Call readout"
    texts = [p["evidence"][0]["text"] for p in result["summary"]["positions"]]
    assert "The minister said that ties were strong." in texts
    assert not any("var x" in t for t in texts)


def test_discover_folders_globs_and_missing_paths(tmp_path, corpus):
    (corpus / "sub").mkdir()
    (corpus / "sub" / "x.md").write_text("A readout.")
    (corpus / ".hidden.txt").write_text("no")
    assert len(discover([corpus])) == 21
    assert len(discover([str(corpus / "doc-0000*.txt")])) == 10
    assert discover([str(tmp_path / "nothing-*.txt")]) == []
    assert len(discover([corpus, corpus / "doc-00001.txt"])) == 21
    with pytest.raises(UserError, match="no such file"):
        discover([tmp_path / "missing"])


def test_limit_and_usage_errors(tmp_path, corpus):
    db = tmp_path / "store.db"
    engine = FakeEngine()
    report = run_batch([corpus], db=db, engine=engine, limit=7)
    assert report.done == 7 and engine.calls == 7 and report.limited
    with pytest.raises(UserError):
        run_batch([corpus], db=db, engine=engine, concurrency=0)
    with pytest.raises(UserError):
        run_batch([tmp_path / "missing"], db=db, engine=engine)


def test_a_held_lock_stops_a_second_run_before_any_work(tmp_path, corpus):
    db = tmp_path / "store.db"
    engine = FakeEngine()
    with BatchLock(db), pytest.raises(LockedError, match="another readout batch is running"):
        run_batch([corpus], db=db, engine=engine)
    assert engine.calls == 0
    assert not db.exists()
    assert run_batch([corpus], db=db, engine=engine).done == 20  # released


def test_store_migrations_and_newer_schema(tmp_path):
    db = tmp_path / "store.db"
    with Store(db) as store:
        assert store.user_version >= 1
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.conn.execute("PRAGMA user_version = 999")
    with pytest.raises(Exception, match="newer than this readout"):
        Store(db)


class AsyncSleepyEngine(Engine):
    """An engine with a native `arun` that waits like a network call and tracks concurrency."""

    name = "sleepy"
    model = "sleepy-1"

    def __init__(self, delay: float) -> None:
        self.delay, self.active, self.peak, self.calls = delay, 0, 0, 0
        self.fake = FakeEngine()

    def run(self, document: Document) -> EngineOutput:  # pragma: no cover - batch uses arun
        raise AssertionError("batch must use arun for an async engine")

    async def arun(self, document: Document) -> EngineOutput:
        self.calls += 1
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
            if "Readout 13:" in document.source:
                raise EngineError("model never produced a valid summary", usage={"total_tokens": 7})
            return self.fake.run(document)
        finally:
            self.active -= 1


def test_async_engine_runs_bounded_by_concurrency(tmp_path, corpus):
    db = tmp_path / "store.db"
    engine = AsyncSleepyEngine(0.05)
    started = time.perf_counter()
    report = run_batch([corpus], db=db, engine=engine, concurrency=5)
    elapsed = time.perf_counter() - started
    assert engine.calls == 20 and engine.peak == 5
    assert (report.done, report.failed, report.tokens) == (19, 1, 7)
    assert elapsed < 20 * 0.05 / 2
    assert_consistent(db)


def test_async_limit_is_exact(tmp_path, corpus):
    engine = AsyncSleepyEngine(0.01)
    report = run_batch([corpus], db=tmp_path / "s.db", engine=engine, concurrency=8, limit=3)
    assert engine.calls == 3 and report.done == 3


def test_default_db_honours_readout_db(tmp_path, monkeypatch):
    from readout.store import default_db_path

    monkeypatch.setenv("READOUT_DB", str(tmp_path / "env.db"))
    assert default_db_path() == tmp_path / "env.db"
    monkeypatch.delenv("READOUT_DB")
    assert default_db_path().name == "readout.db"

"""The batch job: summarize whatever arrived into the SQLite store, safely and only once.

`run_batch(inputs, db=...)` discovers documents (folders of `.txt`/`.md`/`.html` files, globs,
explicit files, JSONL files of `{"id", "text", "source", "date", ...}` records), skips every
document whose result already exists for this engine configuration, summarizes the rest and
records each one in its own transaction, either as a result or as a failure with its reason. A
bad document never stops the others. An engine with a native `arun` (the LLM engine) runs under
asyncio with at most `concurrency` documents in flight and one shared `RateLimiter`; offline
engines run in-process, one document after another (they are fast and CPU-bound).

`.html` files are converted to text with `readout.htmltext` first; the converted text is what is
hashed, analysed (evidence offsets index it) and stored, and the document metadata says
`converted_from: html`.

The store keeps the exact text of every document, so `run_batch([], retry_failed=True)` re-runs
the recorded failures without the original input. Documents that never had a usable text
(binary, invalid UTF-8, ...) stay failures and are reported as such.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import asummarize_document, summarize_document
from .config import ENGINES, LLMConfig, llm_configured
from .engines import Engine, resolve_engine
from .errors import ConfigError, EngineError, InputError, ReadoutError, UserError
from .inputs import HTML_SUFFIXES, MAX_CHARS, check_text, convert_html, decode, text_sha256
from .ratelimit import RateLimiter
from .schema import SummaryResult
from .segmentation import Document, parse_document
from .store import BatchLock, Config, Store

__all__ = [
    "BatchEvent",
    "BatchReport",
    "Loaded",
    "build_engine",
    "count_documents",
    "discover",
    "iter_documents",
    "iter_stored_failures",
    "run_batch",
]

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
FOLDER_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
"""Files picked up when a folder is given (recursively; hidden files and folders are skipped)."""

MAX_BYTES = MAX_CHARS * 4


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- discovery ------------------------------------------------------------------------------


def _is_glob(arg: str) -> bool:
    return any(c in arg for c in "*?[")


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in FOLDER_SUFFIXES:
                yield Path(root) / name


def discover(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The input files, in a stable order, without duplicates.

    A folder contributes its `.txt`/`.md`/`.markdown`/`.html`/`.htm` files (recursively); a glob
    (quoted, for cron) its matching files and folders; a file itself whatever its extension
    (`.jsonl`/`.ndjson` are read as records). A missing path is a `UserError`; a glob matching
    nothing contributes nothing (a quiet night).
    """
    found: list[Path] = []
    for arg in inputs:
        raw = os.path.expanduser(os.fspath(arg))
        path = Path(raw)
        if _is_glob(raw) and not path.exists():
            candidates = [Path(m) for m in sorted(glob.glob(raw, recursive=True))]
        elif path.exists():
            candidates = [path]
        else:
            raise UserError(f"{raw}: no such file or directory")
        for candidate in candidates:
            if candidate.is_dir():
                found.extend(_walk(candidate))
            else:
                found.append(candidate)
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def count_documents(files: Sequence[Path]) -> int:
    """How many documents `iter_documents(files)` yields (JSONL: non-blank lines)."""
    total = 0
    for path in files:
        if path.suffix.lower() in JSONL_SUFFIXES:
            try:
                with path.open("rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                total += 1
        else:
            total += 1
    return total


@dataclass
class Loaded:
    """One document as read: its text and metadata, or the `InputError` that made it unusable.

    `sha256` is the hash of the text, or of the raw bytes when there is no usable text.
    `stored` marks a document read back from the store (a recorded failure), with the error
    class and message recorded for it in `prior`.
    """

    name: str
    source: str
    sha256: str
    text: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    error: ReadoutError | None = None
    stored: bool = False
    prior: tuple[str, str] = ("", "")


def _load_file(path: Path) -> Loaded:
    name, source = str(path), str(path.absolute())
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            return Loaded(
                name,
                source,
                digest.hexdigest(),
                error=InputError(
                    f"{name}: file is {size:,} bytes; the limit is {MAX_CHARS:,} characters"
                ),
            )
        data = path.read_bytes()
    except OSError as exc:
        return Loaded(
            name,
            source,
            _sha(f"unreadable:{source}".encode("utf-8", "surrogateescape")),
            error=InputError(f"{name}: cannot read: {exc.strerror or exc}"),
        )
    try:
        text = decode(data, name=name)
        metadata: dict[str, str] = {}
        if path.suffix.lower() in HTML_SUFFIXES:
            text, metadata = convert_html(text, name=name)
    except ReadoutError as exc:
        return Loaded(name, source, _sha(data), error=exc)
    return Loaded(name, source, text_sha256(text), text=text, metadata=metadata)


def _record(path: Path, lineno: int, raw: bytes) -> Loaded:
    where = f"{path}:{lineno}"
    bad = _sha(raw)
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Loaded(
            where,
            where,
            bad,
            error=InputError(f"{where}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})"),
        )
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return Loaded(where, where, bad, error=InputError(f"{where}: not valid JSON: {exc.msg}"))
    if not isinstance(record, dict):
        return Loaded(where, where, bad, error=InputError(f"{where}: expected a JSON object"))
    name = str(record["id"]) if record.get("id") not in (None, "") else where
    source = str(record["source"]) if record.get("source") not in (None, "") else where
    metadata = {
        str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for k, v in record.items()
        if k != "text" and v is not None
    }
    text = record.get("text")
    if not isinstance(text, str):
        return Loaded(
            name,
            source,
            bad,
            metadata=metadata,
            error=InputError(f'{where}: no "text" string in the record'),
        )
    try:
        check_text(text, name=f"{where} ({name})" if name != where else where)
    except InputError as exc:
        return Loaded(name, source, bad, metadata=metadata, error=exc)
    return Loaded(name, source, text_sha256(text), text=text, metadata=metadata)


def _iter_jsonl(path: Path) -> Iterator[Loaded]:
    try:
        fh = path.open("rb")
    except OSError as exc:
        yield Loaded(
            str(path),
            str(path.absolute()),
            _sha(f"unreadable:{path.absolute()}".encode("utf-8", "surrogateescape")),
            error=InputError(f"{path}: cannot read: {exc.strerror or exc}"),
        )
        return
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if raw.strip():
                yield _record(path, lineno, raw.rstrip(b"\r\n"))


def iter_documents(files: Iterable[Path]) -> Iterator[Loaded]:
    """Read documents one at a time (memory stays flat whatever the number of documents)."""
    for path in files:
        if path.suffix.lower() in JSONL_SUFFIXES:
            yield from _iter_jsonl(path)
        else:
            yield _load_file(path)


def iter_stored_failures(store: Store, config: Config) -> Iterator[Loaded]:
    """The documents that failed with `config`, read back from the store with their text."""
    for row in store.failed_documents(config):
        try:
            metadata = json.loads(row["metadata"])
        except (TypeError, ValueError):
            metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        text = row["text"]
        if text is not None and text_sha256(text) != row["sha256"]:
            text = None  # never summarize a text that is not the one recorded
        yield Loaded(
            row["name"],
            row["source"],
            row["sha256"],
            text=text,
            metadata={str(k): str(v) for k, v in metadata.items()},
            stored=True,
            prior=(row["error"], row["message"]),
        )


# --- engines ----------------------------------------------------------------------------------


def build_engine(
    engine: str | Engine = "auto",
    *,
    model: str | None = None,
    base_url: str | None = None,
    limiter: RateLimiter | None = None,
) -> Engine:
    """Resolve an engine for a batch; the LLM engine gets the run's shared `limiter`."""
    return _build_engine(engine, model=model, base_url=base_url, limiter=limiter)[0]


Closer = Callable[[], Awaitable[Any]]


def _build_engine(
    engine: str | Engine,
    *,
    model: str | None,
    base_url: str | None,
    limiter: RateLimiter | None,
) -> tuple[Engine, list[Closer]]:
    """The engine and what to close inside the run's event loop when the run ends.

    For the LLM engine the batch owns the `AsyncOpenAI` client: it is bound to the event loop
    of the run, and must be closed before that loop ends.
    """
    if isinstance(engine, Engine):
        closer = getattr(engine, "aclose", None)
        return engine, [closer] if callable(closer) else []
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if engine == "auto":
        engine = "llm" if (base_url is not None or llm_configured()) else "rules"
    if engine != "llm":
        return resolve_engine(engine, model=model, base_url=base_url), []
    try:
        import openai

        from .engines.llm import LLMEngine
    except ImportError as exc:  # pragma: no cover - only while the LLM engine is missing
        raise ConfigError(f"the LLM engine is not available: {exc}") from None
    config = LLMConfig.resolve(model=model, base_url=base_url)
    client = openai.AsyncOpenAI(
        api_key=config.api_key or "not-needed",  # local servers need none; the SDK wants one
        base_url=config.base_url,
        timeout=config.timeout,
        max_retries=0,  # retries belong to the engine (and the shared limiter)
    )
    return LLMEngine(config, client=client, limiter=limiter), [client.close]


def _is_async(engine: Engine) -> bool:
    """True when the engine implements `arun` natively (I/O bound: run documents concurrently)."""
    return type(engine).arun is not Engine.arun


# --- the run ----------------------------------------------------------------------------------


@dataclass
class BatchReport:
    """What a run did. `exit_code` is 0 when nothing failed in this run, else 1."""

    db: str = ""
    engine: str = ""
    model: str = ""
    total: int = 0
    done: int = 0
    skipped: int = 0
    skipped_failed: int = 0
    failed: int = 0
    no_text: int = 0
    """Of `failed`: recorded failures not retried because the store has no text for them."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens: int = 0
    requests: int = 0
    wall_s: float = 0.0
    writes: int = 0
    """Rows the run changed in the database (0 when there was nothing new)."""
    limited: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)
    """(document, message) of the first `MAX_LISTED` failures of this run."""

    MAX_LISTED = 50

    @property
    def attempted(self) -> int:
        return self.done + self.failed

    @property
    def seen(self) -> int:
        return self.done + self.failed + self.skipped + self.skipped_failed

    @property
    def docs_per_s(self) -> float:
        return self.attempted / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "engine": self.engine,
            "model": self.model,
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "skipped_failed": self.skipped_failed,
            "failed": self.failed,
            "no_text": self.no_text,
            "tokens": self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "requests": self.requests,
            "wall_s": round(self.wall_s, 3),
            "writes": self.writes,
            "docs_per_s": round(self.docs_per_s, 2),
            "limited": self.limited,
            "failures": [{"document": d, "message": m} for d, m in self.failures],
        }


@dataclass(frozen=True)
class BatchEvent:
    """A progress event: `status` is done, skipped, skipped_failed or failed."""

    status: str
    name: str
    report: BatchReport
    message: str = ""


Progress = Callable[[BatchEvent], None]


@dataclass
class _Job:
    loaded: Loaded
    document: Document


class _Run:
    """The shared state of one run: store, counters, and the per-document decisions."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        report: BatchReport,
        *,
        limit: int | None,
        retry_failed: bool,
        progress: Progress | None,
    ) -> None:
        self.store, self.engine, self.report = store, engine, report
        self.config = Config.of(engine)
        self.limit, self.retry_failed, self.progress = limit, retry_failed, progress
        self.claimed = 0
        self.inflight: set[str] = set()

    def _emit(self, status: str, name: str, message: str = "") -> None:
        if self.progress is not None:
            self.progress(BatchEvent(status, name, self.report, message))

    def full(self) -> bool:
        if self.limit is not None and self.claimed >= self.limit:
            self.report.limited = True
            return True
        return False

    def claim(self, loaded: Loaded) -> _Job | None:
        """Decide what to do with a document: None when skipped or recorded as failed."""
        sha = loaded.sha256
        status = "skipped" if sha in self.inflight else self.store.status(sha, self.config)
        wanted = status == "failed" if self.retry_failed else status is None
        if not wanted:
            if status in ("done", "failed") and loaded.text is not None and not loaded.stored:
                self.fill_text(loaded)
            if status == "failed":
                self.report.skipped_failed += 1
                self._emit("skipped_failed", loaded.name)
            else:
                self.report.skipped += 1
                self._emit("skipped", loaded.name)
            return None
        self.claimed += 1
        if loaded.stored and loaded.text is None:
            self.keep_failed(loaded)
            return None
        if loaded.error is not None or loaded.text is None:
            self.fail(loaded, loaded.error or InputError(f"{loaded.name}: no text"))
            return None
        self.inflight.add(sha)
        try:
            document = parse_document(loaded.text, metadata=loaded.metadata)
        except Exception as exc:  # a segmenter bug must not stop the batch
            self.fail(loaded, exc)
            return None
        return _Job(loaded, document)

    def fill_text(self, loaded: Loaded) -> None:
        """Store the text of a document recorded before texts were stored (once per document)."""
        if loaded.text is not None and self.store.missing_text(loaded.sha256):
            self.store.store_text(loaded.sha256, loaded.text)

    def keep_failed(self, loaded: Loaded) -> None:
        """A recorded failure that cannot be retried from the store: it has no text.

        Nothing is written (nothing was attempted); it counts as failed in this run.
        """
        error, prior = loaded.prior
        if error == "InputError":  # the input never had a usable text (binary, bad UTF-8, ...)
            message = (
                f"{prior} (not retried: no stored text, the input has no usable text; fix it "
                "and run `readout batch --retry-failed INPUT`)"
            )
        else:  # recorded by a readout that did not store texts yet
            message = (
                f"{loaded.name}: not retried: no stored text (recorded before readout stored "
                f"document texts; last error {error}); run `readout batch --retry-failed INPUT`"
            )
        self.report.failed += 1
        self.report.no_text += 1
        if len(self.report.failures) < BatchReport.MAX_LISTED:
            self.report.failures.append((loaded.name, message))
        self._emit("failed", loaded.name, message)

    def fail(self, loaded: Loaded, exc: BaseException) -> None:
        self.inflight.discard(loaded.sha256)
        message = str(exc) if isinstance(exc, ReadoutError) else f"{type(exc).__name__}: {exc}"
        message = " ".join(message.split()) or type(exc).__name__
        if isinstance(exc, EngineError):
            self.report.tokens += int(exc.usage.get("total_tokens", 0))
            self.report.requests += int(exc.usage.get("requests", 0))
        self.store.record_failure(
            sha256=loaded.sha256,
            name=loaded.name,
            source=loaded.source,
            metadata=loaded.metadata,
            config=self.config,
            error=type(exc).__name__,
            message=message,
            text=loaded.text,
        )
        self.report.failed += 1
        if len(self.report.failures) < BatchReport.MAX_LISTED:
            self.report.failures.append((loaded.name, message))
        self._emit("failed", loaded.name, message)

    def succeed(self, job: _Job, result: SummaryResult) -> None:
        loaded = job.loaded
        self.inflight.discard(loaded.sha256)
        self.store.record_result(
            sha256=loaded.sha256,
            name=loaded.name,
            source=loaded.source,
            metadata=loaded.metadata,
            config=self.config,
            result=result,
            text=loaded.text,
        )
        usage = result.provenance.usage
        if usage is not None:
            self.report.prompt_tokens += usage.prompt_tokens
            self.report.completion_tokens += usage.completion_tokens
            self.report.tokens += usage.total_tokens
            self.report.requests += usage.requests
        self.report.done += 1
        self._emit("done", loaded.name)

    def run_sync(self, documents: Iterator[Loaded]) -> None:
        for loaded in documents:
            if self.full():
                return
            job = self.claim(loaded)
            if job is None:
                continue
            try:
                result = summarize_document(job.document, self.engine)
            except Exception as exc:
                self.fail(loaded, exc)
            else:
                self.succeed(job, result)

    async def run_async(
        self, documents: Iterator[Loaded], concurrency: int, closers: Sequence[Closer] = ()
    ) -> None:
        async def worker() -> None:
            while not self.full():
                loaded = next(documents, None)  # no await inside: safe across workers
                if loaded is None:
                    return
                job = self.claim(loaded)
                if job is None:
                    continue
                try:
                    result = await asummarize_document(job.document, self.engine)
                except Exception as exc:
                    self.fail(loaded, exc)
                else:
                    self.succeed(job, result)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, concurrency)):
                    group.create_task(worker())
        finally:
            for close in closers:  # clients bound to this loop close with it
                await close()


def run_batch(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    db: str | os.PathLike[str],
    engine: str | Engine = "auto",
    model: str | None = None,
    base_url: str | None = None,
    concurrency: int = 4,
    limit: int | None = None,
    retry_failed: bool = False,
    rpm: int | None = None,
    tpm: int | None = None,
    progress: Progress | None = None,
) -> BatchReport:
    """Summarize every new document of `inputs` into the store at `db`; see the module docs.

    Documents already summarized with this engine configuration are skipped (no engine call, no
    write); documents that failed before are skipped unless `retry_failed`, which retries only
    them. With `retry_failed` and no `inputs`, the failures recorded for this engine
    configuration are retried from the texts in the store; those without a stored text stay
    failures (counted in `failed` and `no_text`, not written). `limit` caps the documents
    attempted in this run. Raises `UserError` for bad arguments, missing inputs or
    configuration, and `LockedError` when another run holds the database. Engine and input
    failures are recorded, counted, and never raised.
    """
    if concurrency < 1:
        raise UserError("--concurrency must be at least 1")
    if limit is not None and limit < 0:
        raise UserError("--limit must be zero or more")
    if (rpm is not None and rpm <= 0) or (tpm is not None and tpm <= 0):
        raise UserError("--rpm and --tpm must be positive")
    started = time.perf_counter()
    inputs = list(inputs)
    from_store = retry_failed and not inputs
    files = discover(inputs)
    with BatchLock(db):  # first: an overlapping run leaves at once, whatever else is wrong
        limiter = RateLimiter(rpm=rpm, tpm=tpm)
        eng, closers = _build_engine(engine, model=model, base_url=base_url, limiter=limiter)
        report = BatchReport(db=str(db), engine=eng.name, model=str(eng.model or ""))
        with Store(db) as store:
            if from_store:
                report.total = store.count_failures(Config.of(eng))
                documents = iter_stored_failures(store, Config.of(eng))
            else:
                report.total = count_documents(files)
                documents = iter_documents(files)
            _execute(
                store,
                eng,
                report,
                documents,
                closers=closers,
                concurrency=concurrency,
                limit=limit,
                retry_failed=retry_failed,
                progress=progress,
                started=started,
            )
    return report


def _execute(
    store: Store,
    eng: Engine,
    report: BatchReport,
    documents: Iterator[Loaded],
    *,
    closers: Sequence[Closer],
    concurrency: int,
    limit: int | None,
    retry_failed: bool,
    progress: Progress | None,
    started: float,
) -> None:
    run = _Run(store, eng, report, limit=limit, retry_failed=retry_failed, progress=progress)
    try:
        if _is_async(eng):
            asyncio.run(run.run_async(documents, concurrency, closers))
        else:
            run.run_sync(documents)
    finally:
        report.wall_s = time.perf_counter() - started
        report.writes = store.total_changes

"""`readout summarize`, `readout schema` and `readout eval`."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click
from rich.console import Console

from ..api import summarize
from ..config import ENGINES, llm_configured
from ..engines import resolve_engine
from ..errors import ReadoutError
from ..inputs import HTML_NOTE, read_readout
from ..rendering import render_json, render_markdown, render_table
from ..schema import SummaryResult, json_schemas
from . import cli

ENGINE_OPTION = click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="auto",
    show_default=True,
    help="auto: LLM when OPENAI_API_KEY or READOUT_BASE_URL is set, else the offline rules engine.",
)
MODEL_OPTION = click.option("--model", help="LLM model name (env READOUT_MODEL).")
BASE_URL_OPTION = click.option(
    "--base-url",
    help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8080/v1 (env READOUT_BASE_URL).",
)


def note_engine_choice(engine: str) -> None:
    """Say on stderr when `auto` falls back to the offline engine."""
    if engine == "auto" and not llm_configured():
        click.echo(
            "readout: no OPENAI_API_KEY or READOUT_BASE_URL set; using the offline rules engine",
            err=True,
        )


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text)
    else:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def _emit_html(
    texts: list[tuple[str, str]], results: list[SummaryResult], out: Path | None, *, site: bool
) -> None:
    """One page (to --out or stdout), or with `site` one page per file plus index.html in --out."""
    from ..report import render_html, write_site

    names = [Path(n).name if n != "-" else "stdin" for n, _ in texts]
    if len(set(names)) < len(names):  # same file name in two folders: keep the paths
        names = [n if n != "-" else "stdin" for n, _ in texts]
    if not site:
        if results:
            _emit(render_html(results[0], texts[0][1], doc_id=names[0]), out)
        return
    assert out is not None
    written = write_site(zip(names, results, (t for _, t in texts), strict=True), out)
    click.echo(f"readout: wrote {len(written) - 1} page(s) and {written['']}", err=True)


@cli.command("summarize")
@click.argument("files", nargs=-1, required=True, metavar="FILE... | -")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown", "table", "html"]),
    default="json",
    show_default=True,
    help="json: the full SummaryResult; markdown: a report; table: a terminal table; "
    "html: a self-contained page with the evidence highlighted (several FILEs: --out DIR).",
)
@ENGINE_OPTION
@MODEL_OPTION
@BASE_URL_OPTION
@click.option("--summary-language", help="Language of the summaries (LLM engine; default English).")
@click.option("--encoding", help="Decode input files with this encoding instead of UTF-8.")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="Write to this file. With --format html and several FILEs (or an existing directory): "
    "a directory, created if needed, getting one page per FILE plus index.html.",
)
def summarize_command(
    files: tuple[str, ...],
    fmt: str,
    engine: str,
    model: str | None,
    base_url: str | None,
    summary_language: str | None,
    encoding: str | None,
    out: Path | None,
) -> None:
    """Summarize readout FILEs (or - for standard input).

    Prints the summary of each file: parties, positions, requests and agreements, each with
    evidence spans into the file's exact text. With several files, JSON output is a JSON array;
    HTML output needs --out DIR and writes one page per file (named after it) plus index.html.
    Exit code 0 when every file was summarized, 2 for bad input or options, 1 for run failures.
    """
    site = fmt == "html" and (len(files) > 1 or (out is not None and out.is_dir()))
    if site and (out is None or (out.exists() and not out.is_dir())):
        raise click.UsageError("--format html with several files needs --out DIR (a directory)")
    if out is not None and out.is_dir() and not site:
        raise click.UsageError(f"--out {out} is a directory")
    note_engine_choice(engine)
    eng = resolve_engine(engine, model=model, base_url=base_url, summary_language=summary_language)
    results: list[SummaryResult] = []
    texts: list[tuple[str, str]] = []  # (file, its text) per result, for html
    worst = 0
    for name in files:
        try:
            text, metadata = read_readout(name, encoding=encoding)
            result = summarize(text, engine=eng, metadata=metadata)
            if metadata.get("converted_from") == "html":
                result.warnings.append(HTML_NOTE)
            results.append(result)
            texts.append((name, text))
        except ReadoutError as exc:
            if len(files) == 1:
                raise
            click.echo(f"readout: error: {exc}", err=True)
            worst = max(worst, exc.exit_code)
    if fmt == "json":
        if len(files) == 1:
            _emit(render_json(results[0]), out)
        else:
            _emit("[" + ",\n".join(render_json(r) for r in results) + "]", out)
    elif fmt == "markdown":
        _emit("\n---\n\n".join(render_markdown(r) for r in results), out)
    elif fmt == "html":
        _emit_html(texts, results, out, site=site)
    else:
        with contextlib.ExitStack() as stack:
            fh = None if out is None else stack.enter_context(out.open("w", encoding="utf-8"))
            console = Console(file=fh, width=120 if fh else None)
            for r in results:
                console.print(render_table(r))
    if worst:
        sys.exit(worst)


@cli.command("schema")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write the JSON Schema files to.",
)
@click.option(
    "--check", is_flag=True, help="Do not write; exit 1 if the files differ from the models."
)
def schema_command(out_dir: Path, check: bool) -> None:
    """Export the JSON Schema of ReadoutSummary and SummaryResult.

    The files in schemas/ are generated from the Pydantic models; run this after changing them.
    """
    drift = []
    for name, schema in json_schemas().items():
        text = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        path = out_dir / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                drift.append(str(path))
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    if drift:
        raise ReadoutError(f"schema files out of date: {', '.join(drift)}; run `readout schema`")


@cli.command("eval")
@click.argument("gold_dir", type=click.Path(path_type=Path))
@click.option(
    "--corpus",
    required=True,
    type=click.Path(path_type=Path),
    help="Directory with the readout files named in the gold files.",
)
@ENGINE_OPTION
@MODEL_OPTION
@BASE_URL_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
@click.option("--per-file", is_flag=True, help="Also show scores per file.")
def eval_command(
    gold_dir: Path,
    corpus: Path,
    engine: str,
    model: str | None,
    base_url: str | None,
    as_json: bool,
    per_file: bool,
) -> None:
    """Score an engine against gold annotations (format of GUIDELINES.md).

    A predicted item matches a gold item when the category is the same, the speaker country
    sets intersect and an evidence span overlaps the gold evidence; matching is one-to-one,
    greedy in source order. Prints precision, recall and F1 per category and macro-F1.
    """
    from ..evaluation import evaluate
    from .tables import eval_table

    note_engine_choice(engine)
    eng = resolve_engine(engine, model=model, base_url=base_url)
    console = Console(stderr=True)
    with console.status("evaluating…") as status:
        report = evaluate(gold_dir, corpus, eng, progress=lambda n: status.update(f"evaluated {n}"))
    if as_json:
        click.echo(json.dumps(report.to_dict(per_file=per_file), indent=2))
    else:
        Console().print(eval_table(report, per_file=per_file))

"""Bad input: each gets a correct result or one clear error line (exit code 2), never a traceback,
never a hang. Runs the CLI in process (CliRunner) and, for a few cases, as a real process.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from readout.api import summarize
from readout.errors import InputError
from readout.inputs import MAX_CHARS, read_text
from readout.schema import SummaryResult

from .conftest import SEED, assert_one_line_error, cli_run, cli_subprocess

pytestmark = pytest.mark.timeout(30)

SEED_TEXT = SEED.read_text(encoding="utf-8")
LATIN1 = (
    "Mexican Foreign Minister Marcelo Ebrard met Chinese Foreign Minister Wang Yi in Querétaro. "
    "Ebrard said Mexico values China's support for the café sector. "
    "Wang said China is ready to deepen cooperation with México."
)

# name -> (bytes, the error words the one line must contain)
BAD_FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "empty": (b"", ("empty",)),
    "whitespace-only": (b"  \n\t\r\n   \n", ("blank",)),
    "binary": (bytes(range(256)) * 40, ("binary",)),
    "png-header": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), ("binary",)),
    "invalid-utf8": (
        SEED_TEXT.encode()[:300] + b"\xff\xfe\xc3" + SEED_TEXT.encode()[300:],
        ("not valid utf-8", "offset 300", "--encoding"),
    ),
    "latin1": (LATIN1.encode("latin-1"), ("not valid utf-8", "--encoding")),
    "nul-bytes": (SEED_TEXT.encode()[:200] + b"\x00\x00" + SEED_TEXT.encode()[200:], ("NUL",)),
}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_grounded(result: SummaryResult, source: str) -> None:
    """Every evidence span indexes the exact text read from the file."""
    for _, item in result.summary.items():
        for span in item.evidence:
            assert source[span.start : span.end] == span.text


# ---------------------------------------------------------------------------------------------
# One clear error line, exit code 2


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_one_error_line(tmp_path: Path, case: str) -> None:
    data, needles = BAD_FILES[case]
    path = write(tmp_path, f"{case}.txt", data)
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exception is None, res.exception
    assert res.exit_code == 2
    assert res.stdout == ""
    assert_one_line_error(res.stderr, str(path), *needles)


@pytest.mark.parametrize("case", ["empty", "binary", "invalid-utf8"])
def test_bad_file_from_stdin(case: str) -> None:
    data, needles = BAD_FILES[case]
    res = cli_run(["summarize", "--engine", "rules", "-"], input=data)
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "<stdin>", *needles)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["empty", "binary", "invalid-utf8", "latin1"])
def test_bad_file_real_process_no_traceback(tmp_path: Path, case: str) -> None:
    data, needles = BAD_FILES[case]
    path = write(tmp_path, f"{case}.txt", data)
    proc = cli_subprocess(["summarize", "--engine", "rules", str(path)], timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert_one_line_error(proc.stderr, *needles)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    res = cli_run(["summarize", "--engine", "rules", str(tmp_path / "nope.txt")])
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "no such file")
    res = cli_run(["summarize", "--engine", "rules", str(tmp_path)])
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "directory")


def test_one_bad_file_among_good_ones(tmp_path: Path) -> None:
    """Several files: the bad one gets its error line, the good ones their results, exit 2."""
    good = write(tmp_path, "good.txt", SEED_TEXT.encode())
    bad = write(tmp_path, "bad.txt", b"")
    res = cli_run(["summarize", "--engine", "rules", str(good), str(bad)])
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "bad.txt", "empty")
    assert len(json.loads(res.stdout)) == 1


# ---------------------------------------------------------------------------------------------
# Encodings and line endings that are fine


def test_latin1_with_encoding_flag(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.txt", LATIN1.encode("latin-1"))
    res = cli_run(["summarize", "--engine", "rules", "--encoding", "latin-1", str(path)])
    assert res.exit_code == 0, res.stderr
    result = SummaryResult.model_validate_json(res.stdout)
    assert_grounded(result, LATIN1)
    spans = [span.text for _, it in result.summary.items() for span in it.evidence]
    assert any("café" in t for t in spans), spans  # decoded, not mojibake


def test_unknown_encoding_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", SEED_TEXT.encode())
    res = cli_run(["summarize", "--engine", "rules", "--encoding", "klingon-8", str(path)])
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "unknown encoding")


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-8-sig"], ids=str
)
def test_bom_encodings_are_decoded(tmp_path: Path, encoding: str) -> None:
    if encoding == "utf-16-le-bom":
        data = codecs.BOM_UTF16_LE + SEED_TEXT.encode("utf-16-le")
    elif encoding == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + SEED_TEXT.encode("utf-16-be")
    else:
        data = SEED_TEXT.encode(encoding)
    path = write(tmp_path, "bom.txt", data)
    assert read_text(path) == SEED_TEXT  # the BOM is not part of the text
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exit_code == 0, res.stderr
    result = SummaryResult.model_validate_json(res.stdout)
    assert_grounded(result, SEED_TEXT)
    assert result.summary.positions


def test_mixed_line_endings_keep_exact_offsets(tmp_path: Path) -> None:
    text = SEED_TEXT.replace("\n\n", "\r\n\r\n", 4).replace("\n\n", "\r\r", 3)
    assert "\r\n" in text and "\r\r" in text and "\n\n" in text
    path = write(tmp_path, "mixed.txt", text.encode())
    assert read_text(path) == text  # no newline translation
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exit_code == 0, res.stderr
    result = SummaryResult.model_validate_json(res.stdout)
    assert_grounded(result, text)
    reference = summarize(SEED_TEXT, engine="rules")
    assert len(list(result.summary.items())) == len(list(reference.summary.items()))


def test_markdown_readout(tmp_path: Path) -> None:
    text = (
        "# Wang Yi holds talks with Marcelo Ebrard\n\n"
        "**Chinese** State Councilor Wang Yi met _Mexican_ Foreign Minister Marcelo Ebrard.\n\n"
        "- Wang said China supports Mexico in developing its economy.\n"
        "- Ebrard said Mexico regards China as a partner and friend.\n\n"
        "> The two sides agreed to deepen cooperation in multilateral fields.\n"
    )
    path = write(tmp_path, "readout.md", text.encode())
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exit_code == 0, res.stderr
    result = SummaryResult.model_validate_json(res.stdout)
    assert_grounded(result, text)
    assert result.summary.positions and result.summary.agreements


def test_html_page_in_batch_is_converted_and_offsets_index_the_text(tmp_path: Path) -> None:
    batch = pytest.importorskip("readout.batch")
    from readout.htmltext import html_to_text
    from readout.store import Store

    page = (
        "<html><head><title>Readout</title><script>var x = 1;</script></head><body>"
        "<h1>Wang Yi holds phone talks with Ebrard</h1>"
        f"<p>{SEED_TEXT.split(chr(10))[2]}</p><p>Ebrard said Mexico regards China as a friend.</p>"
        "</body></html>"
    )
    (tmp_path / "in").mkdir()
    write(tmp_path / "in", "page.html", page.encode())
    db = tmp_path / "r.db"
    report = batch.run_batch([str(tmp_path / "in")], db=db, engine="rules")
    assert report.exit_code == 0
    text, _title = html_to_text(page)
    with Store(db, readonly=True) as store:
        rows = list(store.iter_results())
    assert len(rows) == 1
    result = SummaryResult.model_validate_json(rows[0]["result"])
    assert "<p>" not in json.dumps(result.model_dump(mode="json"))
    assert "var x" not in text
    assert_grounded(result, text)


# ---------------------------------------------------------------------------------------------
# Degenerate but valid input


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Hello", id="single-word"),
        pytest.param("Wang Yi holds phone talks with Mexican foreign minister", id="headline-only"),
        pytest.param("?!.", id="punctuation-only"),
        pytest.param("a" * 5000, id="one-5000-char-word"),
    ],
)
def test_tiny_input_gives_a_valid_result(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "tiny.txt", text.encode())
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exception is None
    assert res.exit_code == 0, res.stderr
    result = SummaryResult.model_validate_json(res.stdout)
    assert result.summary.headline
    assert_grounded(result, text)


def test_tiny_input_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, "word.txt", b"Hello")
    proc = cli_subprocess(["summarize", "--engine", "rules", str(path)], timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    json.loads(proc.stdout)


# ---------------------------------------------------------------------------------------------
# Size limits


@pytest.mark.timeout(30)
def test_5mb_file_is_refused_naming_the_limit(tmp_path: Path) -> None:
    sentence = b"Wang said China supports Mexico. "
    path = write(tmp_path, "big.txt", sentence * (5_000_000 // len(sentence) + 1))
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "1,000,000 characters")


@pytest.mark.timeout(30)
def test_5mb_text_via_api_is_refused_naming_the_limit() -> None:
    with pytest.raises(InputError, match=r"5,000,000 characters; the limit is 1,000,000"):
        summarize("x" * 5_000_000, engine="rules")


@pytest.mark.timeout(30)
def test_just_over_the_char_limit_in_a_small_file(tmp_path: Path) -> None:
    """Under the byte pre-check (4 bytes/char) but over MAX_CHARS characters."""
    path = write(tmp_path, "big.txt", b"a. " * (MAX_CHARS // 3 + 10))
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exit_code == 2
    assert_one_line_error(res.stderr, "the limit is 1,000,000")


@pytest.mark.slow
@pytest.mark.timeout(30)
def test_5mb_file_real_process(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", b"Wang said China supports Mexico. " * 160_000)
    proc = cli_subprocess(["summarize", "--engine", "rules", str(path)], timeout=30)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr, "the limit is 1,000,000")


def two_hundred_sentences() -> str:
    speakers = ["Wang said", "Ebrard said", "The two sides agreed that", "Wang urged Mexico"]
    lines = [
        "Chinese Foreign Minister Wang Yi held a phone call with Mexican Foreign Minister "
        "Marcelo Ebrard on Thursday."
    ]
    for i in range(1, 200):
        lines.append(f"{speakers[i % 4]} cooperation on topic number {i} should deepen.")
    return " ".join(lines)


@pytest.mark.timeout(30)
def test_200_sentences_with_rules_engine() -> None:
    text = two_hundred_sentences()
    result = summarize(text, engine="rules")
    assert len(list(result.summary.items())) >= 100
    assert_grounded(result, text)


def test_html_page_with_summarize_is_converted(tmp_path: Path) -> None:
    page = (
        "<html><body><p>Chinese Foreign Minister Wang Yi spoke by phone with Mexican Foreign "
        "Minister Marcelo Ebrard.</p><p>Wang said China supports Mexico in developing its "
        "economy.</p></body></html>"
    )
    path = write(tmp_path, "page.html", page.encode())
    res = cli_run(["summarize", "--engine", "rules", str(path)])
    assert res.exit_code == 0, res.stderr
    result = SummaryResult.model_validate_json(res.stdout)
    assert "<" not in result.summary.headline
    assert result.summary.positions
    assert result.metadata["converted_from"] == "html"
    assert any("converted to text" in w for w in result.warnings)


@pytest.mark.timeout(60)
def test_bad_documents_in_a_batch_are_recorded_failures(tmp_path: Path) -> None:
    """In a batch each bad file becomes a recorded failure with its reason; the rest succeed."""
    batch = pytest.importorskip("readout.batch")
    from readout.store import Store

    docs = tmp_path / "in"
    docs.mkdir()
    for i in range(3):
        write(docs, f"good{i}.txt", (SEED_TEXT + f"\n\nReference {i}.").encode())
    write(docs, "mixed-endings.txt", SEED_TEXT.replace("\n\n", "\r\n\r\n", 3).encode())
    write(docs, "utf16.txt", SEED_TEXT.replace("Thursday", "Friday").encode("utf-16"))
    bad = {
        "empty.txt": ("empty", b""),
        "binary.txt": ("binary", BAD_FILES["binary"][0]),
        "invalid-utf8.txt": ("not valid utf-8", BAD_FILES["invalid-utf8"][0]),
        "nul.txt": ("NUL", BAD_FILES["nul-bytes"][0]),
        "big.txt": ("1,000,000", b"The minister spoke at length. " * 170_000),
    }
    for name, (_, data) in bad.items():
        write(docs, name, data)
    report = batch.run_batch([str(docs)], db=tmp_path / "r.db", engine="rules")
    assert report.exit_code == 1
    with Store(tmp_path / "r.db", readonly=True) as store:
        counts = store.counts()
        failures = {Path(f["name"]).name: f for f in store.failures()}
    assert counts["results"] == 5
    assert counts["failures"] == len(bad)
    assert counts["results"] + counts["failures"] == counts["documents"]
    for name, (needle, _) in bad.items():
        message = failures[name]["message"]
        assert needle.lower() in message.lower() and "\n" not in message, (name, message)

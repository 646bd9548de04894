from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from readout.cli import cli

from .conftest import SEED


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, (*prefix, name))


def test_every_command_has_help() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    for path, cmd in all_commands(cli):
        assert cmd.help and len(cmd.help) > 40, f"{path} lacks help text"
        res = runner.invoke(cli, [*path, "--help"])
        assert res.exit_code == 0, path
        assert "Usage:" in res.output
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert param.help, f"{path} option {param.name} lacks help"


def test_summarize_seed_json() -> None:
    res = CliRunner().invoke(cli, ["summarize", str(SEED), "--engine", "rules"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["provenance"]["engine"] == "rules"
    assert data["summary"]["positions"]


def test_auto_says_it_falls_back_on_stderr() -> None:
    res = CliRunner().invoke(cli, ["summarize", str(SEED), "--format", "markdown"])
    assert res.exit_code == 0
    assert "offline rules engine" in res.stderr
    assert res.stdout.startswith("# ")


def test_summarize_table_and_out(tmp_path: Path) -> None:
    out = tmp_path / "s.txt"
    res = CliRunner().invoke(
        cli, ["summarize", str(SEED), "-f", "table", "--engine", "rules", "-o", str(out)]
    )
    assert res.exit_code == 0
    assert "Parties" in out.read_text()


def test_stdin() -> None:
    res = CliRunner().invoke(cli, ["summarize", "-", "--engine", "rules"], input=SEED.read_bytes())
    assert res.exit_code == 0
    assert json.loads(res.stdout)["summary"]["headline"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"caf\xe9 au lait", "not valid utf-8"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    res = CliRunner().invoke(cli, ["summarize", str(p), "--engine", "rules"])
    assert res.exit_code == 2
    assert needle in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_missing_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["summarize", str(tmp_path / "nope.txt"), "--engine", "rules"])
    assert res.exit_code == 2
    assert "no such file" in res.stderr


def test_several_files_one_bad(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    res = CliRunner().invoke(cli, ["summarize", str(SEED), str(bad), "--engine", "rules"])
    assert res.exit_code == 2
    assert len(json.loads(res.stdout)) == 1


def test_llm_without_key_is_a_usage_error() -> None:
    res = CliRunner().invoke(cli, ["summarize", str(SEED), "--engine", "llm"])
    assert res.exit_code == 2
    assert "OPENAI_API_KEY" in res.stderr


def test_usage_error_exit_2() -> None:
    res = CliRunner().invoke(cli, ["summarize", str(SEED), "--format", "pdf"])
    assert res.exit_code == 2


def test_schema_check(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["schema", "--out", str(tmp_path)]).exit_code == 0
    assert runner.invoke(cli, ["schema", "--out", str(tmp_path), "--check"]).exit_code == 0
    (tmp_path / "readout-summary.schema.json").write_text("{}")
    res = runner.invoke(cli, ["schema", "--out", str(tmp_path), "--check"])
    assert res.exit_code == 1
    assert "out of date" in res.stderr


def test_eval_on_development_set(shared_readouts: Path) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "eval",
            str(shared_readouts / "gold"),
            "--corpus",
            str(shared_readouts),
            "--engine",
            "rules",
            "--json",
            "--per-file",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["documents"] == 10
    assert set(data["categories"]) == {"position", "request", "agreement"}
    assert 0.0 <= data["macro_f1"] <= 1.0


def test_eval_missing_dir(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["eval", str(tmp_path / "nope"), "--corpus", str(tmp_path), "--engine", "rules"]
    )
    assert res.exit_code == 2
    assert "not found" in res.stderr

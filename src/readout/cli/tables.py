"""Rich tables for command output."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table

from ..evaluation import EvalReport


def eval_table(report: EvalReport, *, per_file: bool = False) -> Group:
    """Precision, recall and F1 per category and macro-F1 (and per file when asked)."""
    t = Table(title=f"Evaluation: engine {report.engine}, {len(report.files)} documents")
    for col in ("category", "tp", "fp", "fn", "precision", "recall", "F1"):
        t.add_column(col, justify="right" if col != "category" else "left")
    for cat, c in report.totals.items():
        t.add_row(
            cat,
            str(c.tp),
            str(c.fp),
            str(c.fn),
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.f1:.3f}",
        )
    t.add_row("macro-F1", "", "", "", "", "", f"{report.macro_f1:.3f}", style="bold")
    parts: list = [t]
    if per_file:
        f = Table(title="Per file")
        for col in ("file", "position F1", "request F1", "agreement F1", "macro-F1", "ms"):
            f.add_column(col, justify="left" if col == "file" else "right")
        for fs in report.files:
            f.add_row(
                fs.file,
                *(
                    f"{fs.counts[c].f1:.2f}"
                    if fs.counts[c].tp + fs.counts[c].fp + fs.counts[c].fn
                    else "-"
                    for c in ("position", "request", "agreement")
                ),
                f"{fs.macro_f1:.3f}",
                f"{fs.millis:.1f}",
            )
        parts.append(f)
    return Group(*parts)

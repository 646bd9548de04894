"""Benchmark the offline rules engine: speed, memory and quality on the development set.

    python benchmarks/offline_bench.py [--shared ../shared] [--rounds 20]

Prints readouts per second (one core), median and p95 ms per readout, peak memory, import plus
first-call time (fresh interpreter), the share of exactly grounded spans, and the evaluation table.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from readout.api import summarize_document
from readout.cli.tables import eval_table
from readout.engines.rules import RulesEngine
from readout.evaluation import evaluate
from readout.segmentation import parse_document

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    console = Console()

    texts = [(ROOT / "seeds" / "wangyi-ebrard-2021.txt").read_text(encoding="utf-8")]
    corpus = args.shared / "readouts"
    if corpus.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt"))]
    else:
        console.print(f"[yellow]{corpus} not found: timing the seed only, no evaluation[/]")
    words = sum(len(t.split()) for t in texts) / len(texts)

    cmd = [
        sys.executable,
        "-c",
        "import time; t=time.perf_counter(); import readout; "
        f"readout.summarize(open({str(ROOT / 'seeds/wangyi-ebrard-2021.txt')!r}).read(), engine='rules'); "
        "print(time.perf_counter()-t)",
    ]
    first_call = float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)

    engine = RulesEngine()
    spans = exact = 0
    for t in texts:  # warm-up and grounding check
        doc = parse_document(t)
        for _, item in summarize_document(doc, engine).summary.items():
            for s in item.evidence:
                spans += 1
                exact += t[s.start : s.end] == s.text
    times: list[float] = []
    started = time.perf_counter()
    for _ in range(args.rounds):
        for t in texts:
            t0 = time.perf_counter()
            summarize_document(parse_document(t), engine)
            times.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    console.print(
        f"[bold]Offline engine[/] — {len(texts)} readouts (mean {words:.0f} words) x {args.rounds} rounds, one core"
    )
    console.print(f"  readouts/second        {len(times) / wall:10.1f}   (target >= 200)")
    console.print(f"  median ms / readout    {statistics.median(times):10.2f}")
    console.print(f"  p95 ms / readout       {p95:10.2f}   (target < 20)")
    console.print(f"  peak memory (RSS) MB   {peak_mb:10.1f}")
    console.print(f"  import + first call s  {first_call:10.3f}   (target < 1)")
    console.print(f"  exact spans            {exact}/{spans} ({100 * exact / max(spans, 1):.1f}%)")
    if corpus.is_dir():
        report = evaluate(corpus / "gold", corpus, engine)
        console.print(eval_table(report, per_file=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark `readout batch`: offline throughput and memory, and LLM concurrency scaling.

    python benchmarks/batch_bench.py [--docs 1000] [--llm-latency 1.0] [--skip-llm] [--json]

1. Offline (rules) engine: generates `--docs` readouts of about 300 words each (recombined
   sentence templates, written by this script into a temporary folder), runs them end to end into
   a fresh SQLite store, and prints documents per second and the process RSS after 25% of the
   documents and at the end (flat memory: the two stay close). Target: >= 100 docs/s.
2. LLM engine against `benchmarks/fixed_latency_server.py` (a real HTTP server on 127.0.0.1 that
   answers after a fixed latency): throughput with `--concurrency 16` over that with
   `--concurrency 1`. Target: >= 12x.

Exit code 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

# --- a generator of realistic readouts ---------------------------------------------------------

COUNTRIES = [
    ("China", "Chinese", "Foreign Minister", "Wang Lin"),
    ("the United States", "U.S.", "Secretary of State", "Mark Ellison"),
    ("Japan", "Japanese", "Foreign Minister", "Hiroshi Tanaka"),
    ("France", "French", "Minister for Europe and Foreign Affairs", "Claire Dubois"),
    ("Germany", "German", "Federal Foreign Minister", "Anna Keller"),
    ("India", "Indian", "External Affairs Minister", "Rajesh Mehta"),
    ("Brazil", "Brazilian", "Foreign Minister", "Paulo Ramos"),
    ("Canada", "Canadian", "Minister of Foreign Affairs", "Sarah Whitfield"),
    ("Indonesia", "Indonesian", "Foreign Minister", "Dewi Santoso"),
    ("Kenya", "Kenyan", "Cabinet Secretary for Foreign Affairs", "James Mwangi"),
    ("Mexico", "Mexican", "Secretary of Foreign Affairs", "Lucia Herrera"),
    ("the Republic of Korea", "Korean", "Foreign Minister", "Park Ji-ho"),
]
KINDS = ["held a telephone call with", "met with", "held a video call with", "received"]
TOPICS = [
    "trade and investment",
    "climate change and the energy transition",
    "food security",
    "public health cooperation",
    "maritime security",
    "the situation in the Middle East",
    "the war in Ukraine",
    "critical minerals and supply chains",
    "people-to-people exchanges",
    "development finance",
    "counter-terrorism cooperation",
    "the reform of the multilateral trading system",
]
OPENING = "{title_a} {a} {kind} {adj_b} {title_b} {b} in {city} on {day}."
POSITIONS = [
    "{a} said that {ca} attaches great importance to its relations with {cb} and is ready to "
    "work with {cb} to deepen cooperation on {t1}.",
    "{b} noted that relations between the two countries have maintained sound momentum over the "
    "past year, with steady progress on {t1} and {t2}.",
    "{a} expressed concern about the humanitarian situation and stressed the need to protect "
    "civilians and to ensure unimpeded access for humanitarian aid.",
    "{b} thanked {ca} for its support during the recent natural disaster and said the assistance "
    "had been deeply appreciated by the people of {cb}.",
    "{a} welcomed the progress achieved since the last round of consultations and described "
    "cooperation on {t2} as a bright spot in the relationship.",
    "{b} stressed that {cb} remains firmly committed to dialogue and diplomacy as the only viable "
    "way to resolve differences.",
]
REQUESTS = [
    "{a} urged {cb} to take concrete steps to facilitate market access for agricultural products "
    "and to remove discriminatory measures against {adj_a} companies.",
    "{b} called on {ca} to support the early conclusion of negotiations on {t1}.",
    "{a} hoped that the two sides would resume the regular meetings of the joint commission on "
    "{t2} at an early date.",
    "{b} asked {ca} to use its influence to encourage all parties to exercise restraint.",
]
AGREEMENTS = [
    "The two sides agreed to strengthen coordination in multilateral fora, including the United "
    "Nations and the G20, on {t1}.",
    "Both ministers agreed to hold the next round of strategic dialogue in {cityb} later this "
    "year.",
    "The two sides reaffirmed their commitment to the joint action plan on {t2} signed last year.",
    "They agreed to keep in close contact on regional and international issues of common concern.",
]
CLOSING = [
    "The two ministers also exchanged views on {t2}.",
    "Both sides described the talks as candid, constructive and productive.",
    "The meeting took place in a friendly and cordial atmosphere.",
]
BACKGROUND = [
    "This year marks the {n}th anniversary of the establishment of diplomatic relations between "
    "{ca} and {cb}.",
    "Bilateral trade between the two countries reached a record high last year, and {adj_a} "
    "investment in {cb} continued to grow.",
    "The visit is the first by a {adj_a} foreign minister to {cb} in more than {m} years.",
    "Officials from the ministries of trade, energy and health also attended the talks.",
    "Earlier in the day, {a} laid a wreath at the national monument and met with business leaders.",
    "{b} briefed {a} on the outcomes of the recent regional summit.",
]
CITIES = ["Beijing", "Washington", "Tokyo", "Paris", "Berlin", "New Delhi", "Brasilia", "Ottawa",
          "Jakarta", "Nairobi", "Mexico City", "Seoul", "Geneva", "New York"]  # fmt: skip
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]  # fmt: skip


def generate_readout(i: int) -> str:
    """A readout of about 300 words, deterministic in `i`, unique per `i`."""
    rng = random.Random(i)
    (ca, adj_a, title_a, a), (cb, adj_b, title_b, b) = rng.sample(COUNTRIES, 2)
    t1, t2 = rng.sample(TOPICS, 2)
    city, cityb = rng.sample(CITIES, 2)
    day = f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {2015 + i % 10}"
    ctx = dict(a=a, b=b, ca=ca, cb=cb, adj_a=adj_a, adj_b=adj_b, title_a=title_a,
               title_b=title_b, t1=t1, t2=t2, city=city, cityb=cityb, day=day,
               kind=rng.choice(KINDS))  # fmt: skip
    ctx.update(n=rng.randint(20, 70), m=rng.randint(3, 15))
    title = f"{title_a} {a} Holds Talks with {title_b} {b} (No. {i})"
    paragraphs = [OPENING.format(**ctx)]
    sentences = rng.sample(POSITIONS, 4) + rng.sample(REQUESTS, 2) + rng.sample(AGREEMENTS, 2)
    rng.shuffle(sentences)
    body = [s.format(**ctx) for s in sentences]
    paragraphs += [" ".join(body[k : k + 2]) for k in range(0, len(body), 2)]
    paragraphs.append(rng.choice(CLOSING).format(**ctx))
    words = sum(len(p.split()) for p in paragraphs)
    unused = [t for t in POSITIONS + AGREEMENTS + BACKGROUND if t not in sentences]
    rng.shuffle(unused)
    while words < 280 and unused:  # more statements and background until about 300 words
        extra = unused.pop().format(**ctx)
        paragraphs.insert(-1, extra)
        words += len(extra.split())
    header = (
        f"source: https://example.org/readouts/{i}\n"
        f"issuer: Ministry of Foreign Affairs of {ca} (generated benchmark readout)\n"
        f"date: {2015 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}\n"
        "language: en\n---\n"
    )
    return header + title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, n: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    words = 0
    for i in range(n):
        text = generate_readout(i)
        words += len(text.split())
        (folder / f"readout-{i:05d}.txt").write_text(text, encoding="utf-8")
    return words


# --- measurements ------------------------------------------------------------------------------


def _rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:  # Linux fallback
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_offline(n: int, workdir: Path) -> dict[str, float]:
    from readout.batch import run_batch

    inbox = workdir / "offline"
    words = write_corpus(inbox, n)
    marks: dict[str, float] = {}
    quarter = max(1, n // 4)

    def progress(event) -> None:  # type: ignore[no-untyped-def]
        seen = event.report.seen
        if seen == quarter:
            marks["rss_quarter_mb"] = _rss_mb()

    report = run_batch([inbox], db=workdir / "offline.db", engine="rules", progress=progress)
    marks["rss_end_mb"] = _rss_mb()
    return {
        "docs": n,
        "mean_words": words / n,
        "done": report.done,
        "failed": report.failed,
        "wall_s": report.wall_s,
        "docs_per_s": report.docs_per_s,
        "rss_quarter_mb": marks.get("rss_quarter_mb", 0.0),
        "rss_end_mb": marks["rss_end_mb"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _start_server(latency: float) -> tuple[subprocess.Popen, str]:
    server = Path(__file__).with_name("fixed_latency_server.py")
    proc = subprocess.Popen(
        [sys.executable, str(server), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("listening on "):
        proc.kill()
        raise RuntimeError(f"the fixed-latency server did not start: {line!r}")
    return proc, line.split()[-1]


def bench_llm(latency: float, workdir: Path, n1: int, n16: int) -> dict[str, float]:
    from readout.batch import run_batch

    inbox = workdir / "llm"
    write_corpus(inbox, max(n1, n16))
    files = sorted(inbox.iterdir())
    for name in ("OPENAI_API_KEY", "READOUT_API_KEY"):
        os.environ.pop(name, None)
    proc, url = _start_server(latency)
    try:
        out: dict[str, float] = {"latency_s": latency}
        # warm up (imports, first connection) outside the measured runs
        run_batch(files[:2], db=workdir / "llm-warmup.db", engine="llm", base_url=url,
                  model="fixed-latency", concurrency=2)  # fmt: skip
        for concurrency, n in ((1, n1), (16, n16)):
            report = run_batch(
                files[:n],
                db=workdir / f"llm-{concurrency}.db",
                engine="llm",
                base_url=url,
                model="fixed-latency",
                concurrency=concurrency,
            )
            if report.failed:
                raise RuntimeError(f"LLM benchmark documents failed: {report.failures[:3]}")
            out[f"c{concurrency}_docs"] = report.done
            out[f"c{concurrency}_docs_per_s"] = report.docs_per_s
            out[f"c{concurrency}_tokens"] = report.tokens
        out["speedup"] = out["c16_docs_per_s"] / out["c1_docs_per_s"]
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark readout batch.")
    parser.add_argument("--docs", type=int, default=1000, help="offline documents (default 1000)")
    parser.add_argument("--llm-latency", type=float, default=1.0, help="server latency, seconds")
    parser.add_argument("--llm-docs-1", type=int, default=8, help="documents at concurrency 1")
    parser.add_argument("--llm-docs-16", type=int, default=160, help="documents at concurrency 16")
    parser.add_argument("--skip-offline", action="store_true")
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    ok = True
    with tempfile.TemporaryDirectory(prefix="readout-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_offline:
            off = results["offline"] = bench_offline(args.docs, workdir)
            ok &= off["docs_per_s"] >= 100 and off["done"] == args.docs
            if not args.json:
                print(
                    f"offline: {off['done']}/{args.docs} readouts (~{off['mean_words']:.0f} words)"
                    f" in {off['wall_s']:.2f} s = {off['docs_per_s']:.0f} docs/s (target >= 100);"
                    f" RSS {off['rss_quarter_mb']:.1f} MB after {args.docs // 4},"
                    f" {off['rss_end_mb']:.1f} MB after {args.docs}"
                    f" (ru_maxrss {off['peak_rss_mb']:.1f} MB)"
                )
        if not args.skip_llm:
            try:
                llm = results["llm"] = bench_llm(
                    args.llm_latency, workdir, args.llm_docs_1, args.llm_docs_16
                )
            except ImportError as exc:
                print(f"llm: skipped, the LLM engine is not available ({exc})")
                ok = False
            else:
                ok &= llm["speedup"] >= 12
                if not args.json:
                    print(
                        f"llm: latency {llm['latency_s']} s; concurrency 1:"
                        f" {llm['c1_docs_per_s']:.2f} docs/s ({llm['c1_docs']:.0f} docs);"
                        f" concurrency 16: {llm['c16_docs_per_s']:.2f} docs/s"
                        f" ({llm['c16_docs']:.0f} docs); speedup {llm['speedup']:.1f}x"
                        " (target >= 12x)"
                    )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""The HTML report in a real browser: headless system Chromium driven by Playwright.

Needs Debian's `chromium` at /usr/bin/chromium (no browser download) and the `playwright` Python
package. Opens the seed's report, checks every evidence span is highlighted in the DOM, that a
click on a table row scrolls its evidence into view, and saves a screenshot under tmp_path.
With READOUT_UPDATE_DOCS=1 it also refreshes docs/report-seed.png.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from readout import summarize
from readout.engines import FakeEngine
from readout.grounding import clause_span, sentence_span
from readout.report import render_html, write_site
from readout.schema import Agreement, Party, Position, ReadoutSummary, Request, SummaryResult
from readout.segmentation import Document

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "wangyi-ebrard-2021.txt"
GOLD = ROOT / "seeds" / "wangyi-ebrard-2021.gold.json"
DOCS_PNG = ROOT / "docs" / "report-seed.png"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    # CI installs Chromium (.ci/run): there, a missing browser is a failure, not a skip.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="no system Chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="the playwright Python package is not installed (pip install -e '.[dev]')",
)


def gold_script(extra_overlap: bool):
    """A FakeEngine script turning the seed's gold annotation into a grounded summary."""
    gold = json.loads(GOLD.read_text(encoding="utf-8"))

    def script(document: Document) -> ReadoutSummary:
        ids = {"CHN": "wang", "MEX": "ebrard"}
        parties = [
            Party(
                id="wang",
                name="Wang Yi",
                title="State Councilor and Foreign Minister",
                country="CHN",
            ),
            Party(
                id="ebrard", name="Marcelo Ebrard", title="Foreign Affairs Minister", country="MEX"
            ),
        ]
        positions, requests, agreements = [], [], []
        for it in gold["items"]:
            start = document.source.index(it["evidence"])
            span = clause_span(document, start, start + len(it["evidence"]))
            text = it["evidence"][0].upper() + it["evidence"][1:]
            speakers = [ids[c] for c in it["speaker"]]
            if it["category"] == "position":
                positions.append(Position(party=speakers[0], summary=text, evidence=[span]))
            elif it["category"] == "request":
                to = [ids[c] for c in it["addressee"]]
                requests.append(
                    Request(by=speakers[0], to=to, summary=text, force="ask", evidence=[span])
                )
            else:
                agreements.append(Agreement(parties=speakers, summary=text, evidence=[span]))
        if extra_overlap:  # a whole sentence cited by an item whose clauses other items cite
            sentence = next(
                s
                for s in document.sentences
                if "multilateral fields" in s.text and s.text.startswith("China is willing")
            )
            agreements.append(
                Agreement(
                    parties=["wang", "ebrard"],
                    kind="joint_action",
                    summary="Both sides will <b>coordinate</b> in multilateral fields",
                    evidence=[sentence_span(document, sentence.index), sentence_span(document, 0)],
                )
            )
        return ReadoutSummary(
            event={"kind": "call", "location": None, "initiated_by": None},
            parties=parties,
            headline="Wang Yi and Marcelo Ebrard pledge closer cooperation in a phone call",
            positions=positions,
            requests=requests,
            agreements=agreements,
        )

    return script


def seed_result(kind: str) -> SummaryResult:
    text = SEED.read_text(encoding="utf-8")
    if kind == "rules":
        return summarize(text, engine="rules")
    engine = FakeEngine(gold_script(kind == "gold+overlap"), model=None, prompt_version=None)
    engine.name = "gold"
    return summarize(text, engine=engine)


def _rules_available() -> bool:
    try:
        import readout.engines.rules  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path, **context):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, **context)
    ctx.route("http*://**", lambda route: route.abort())  # the page must need no network
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    return ctx, page, errors


def _spans_in_dom(page) -> dict[str, str]:
    return page.evaluate(
        """() => {
            const out = {};
            for (const m of document.querySelectorAll("#source mark[data-span]")) {
                const k = m.dataset.span;
                // a segment's text: its own text nodes and those of nested marks
                out[k] = (out[k] || "") + m.textContent;
            }
            return out;
        }"""
    )


@pytest.mark.parametrize(
    "kind",
    [
        "gold",
        "gold+overlap",
        pytest.param(
            "rules",
            marks=pytest.mark.skipif(
                not _rules_available(), reason="the rules engine is not available yet"
            ),
        ),
    ],
)
def test_seed_report_in_browser(browser, tmp_path, kind):
    result = seed_result(kind)
    source = SEED.read_text(encoding="utf-8")
    html_path = tmp_path / "report.html"
    html_path.write_text(render_html(result, source, doc_id=SEED.name), encoding="utf-8")
    ctx, page, errors = _open(browser, html_path, reduced_motion="reduce")
    try:
        page.screenshot(path=str(tmp_path / "report.png"))  # as first opened
        assert (tmp_path / "report.png").stat().st_size > 10_000
        items = list(result.summary.items())
        assert items, "the seed summary has no items"
        # every evidence span is present and highlighted: marks of span N.J concatenate to its text
        dom = _spans_in_dom(page)
        expected = {
            f"{n}.{j}": s.text
            for n, (_, item) in enumerate(items, start=1)
            for j, s in enumerate(item.evidence)
        }
        assert dom == expected
        # highlighted: a category background and an underline on every mark
        styles = page.evaluate(
            """() => [...document.querySelectorAll("#source mark[data-span]")].map(m => {
                const cs = getComputedStyle(m);
                return [m.dataset.span, cs.backgroundColor, cs.borderBottomStyle];
            })"""
        )
        for key, bg, underline in styles:
            assert bg not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)"), key
            assert underline in ("solid", "dashed", "double"), key
        # the table has one row per item; clicking a row scrolls its evidence into view
        rows = page.locator("table.items tbody tr[data-item]")
        assert rows.count() == len(items)
        for n in (len(items), 1, max(1, len(items) // 2)):
            row = page.locator(f'table.items tbody tr[data-item="{n}"] td.text')
            row.click()
            page.wait_for_function(
                """n => {
                    const r = document.getElementById("ev-" + n).getBoundingClientRect();
                    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight
                        && r.left >= 0 && r.right <= window.innerWidth;
                }""",
                arg=n,
                timeout=3000,
            )
            flashed = page.evaluate(
                "n => document.querySelectorAll('mark.flash[data-item=\"' + n + '\"]').length", n
            )
            assert flashed >= 1
        # focusing a highlight shows its tooltip (CSS ::after with the item)
        mark = page.locator("#source mark[data-tip]").first
        mark.focus()
        tip = page.evaluate('() => getComputedStyle(document.activeElement, "::after").content')
        first_item = mark.get_attribute("data-tip").split("\n")[0]
        assert first_item.split(":")[0] in tip  # e.g. "Position P1 · Wang Yi (CHN)"
        page.screenshot(path=str(tmp_path / "report-after-click.png"))
        assert not errors, errors
        if kind == "gold+overlap":  # the injected HTML in a summary is text
            assert page.locator("table.items b").count() == 0
            assert "<b>coordinate</b>" in page.inner_text("table.items")
        want_docs = os.environ.get("READOUT_UPDATE_DOCS") == "1"
        if want_docs and kind == ("rules" if _rules_available() else "gold"):
            DOCS_PNG.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp_path / "report.png", DOCS_PNG)
    finally:
        ctx.close()


def test_index_sorts_by_date(browser, tmp_path):
    source = SEED.read_text(encoding="utf-8")
    base = seed_result("gold")
    docs = []
    dates_in = (("b.txt", dt.date(2021, 3, 5)), ("a.txt", dt.date(2020, 12, 31)), ("c.txt", None))
    for doc_id, date in dates_in:
        s = base.summary.model_copy(
            update={"event": base.summary.event.model_copy(update={"date": date})}
        )
        docs.append((doc_id, base.model_copy(update={"summary": s}), source))
    written = write_site(docs, tmp_path / "site")
    ctx, page, errors = _open(browser, written[""])
    try:

        def dates():
            return page.eval_on_selector_all(
                "#docs tbody td.date", "tds => tds.map(t => t.textContent)"
            )

        assert dates() == ["2020-12-31", "2021-03-05", "undated"]
        page.click('th[data-col="date"] button')
        assert dates() == ["undated", "2021-03-05", "2020-12-31"]
        page.click('th[data-col="date"] button')
        assert dates() == ["2020-12-31", "2021-03-05", "undated"]
        page.click("#docs tbody a >> nth=0")
        page.wait_for_load_state()
        assert page.url.endswith("/a.html")
        assert page.locator("#source mark").count() > 0
        page.screenshot(path=str(tmp_path / "index.png"))
        assert not errors, errors
    finally:
        ctx.close()

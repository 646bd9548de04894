"""Run `run_batch` in a real process with a slow fake engine (for the crash and lock tests).

Usage: python slow_driver.py DB DELAY_SECONDS INPUT...
Prints the report as JSON on stdout; exit code as `readout batch` (0, 1; 0 with a message when
another run holds the lock). The engine is fake: it echoes sentences after sleeping DELAY.
"""

from __future__ import annotations

import json
import sys
import time

from readout.batch import run_batch
from readout.engines import FakeEngine
from readout.segmentation import Document
from readout.store import LockedError


class SlowFake(FakeEngine):
    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def run(self, document: Document):  # type: ignore[override]
        time.sleep(self.delay)
        return super().run(document)


def main() -> int:
    db, delay, *inputs = sys.argv[1:]
    engine = SlowFake(float(delay))
    try:
        report = run_batch(inputs, db=db, engine=engine)
    except LockedError as exc:
        print(f"locked: {exc}", file=sys.stderr)
        print(json.dumps({"locked": True, "calls": engine.calls}))
        return 0
    print(json.dumps({**report.to_dict(), "calls": engine.calls}))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())

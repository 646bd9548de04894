"""Locate the data directories that ship with readout (`prompts/`, `schemas/`).

In a wheel they are package data (`readout/prompts`); in a source checkout (editable install)
they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory `name` (e.g. "prompts"): packaged copy first, then the source checkout."""
    packaged = _PACKAGE / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"readout data directory {name!r} not found (broken install?)")

"""The small diagrams of data/ and ways to vary them for one test."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def bundle(*names: str) -> dict[str, bytes]:
    """Files of data/ by name, as `deploy` and `validate_bundle` take them."""
    return {name: (DATA / name).read_bytes() for name in names}


def text(name: str) -> str:
    """A file of data/ as text."""
    return (DATA / name).read_text(encoding="utf-8")


def edit(source: str, old: str, new: str) -> str:
    """Replace the one occurrence of `old` (a test that edits the wrong thing fails here)."""
    assert source.count(old) == 1, f"{old!r} must occur once"
    return source.replace(old, new)


def line_of(source: str, needle: str) -> int:
    """The 1-based number of the first line of `source` that contains `needle`."""
    for number, line in enumerate(source.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the diagram")

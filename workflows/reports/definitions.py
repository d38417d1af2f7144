"""The figures' definitions (口径) as data: which channels, which dates, which tier (workflows/data/figures.yaml).

The monthly report (reports/monthly.py) and the year view (reports/year.py) count only through these rules, so a
county that counts differently edits the file, not the code. Every mistake in the file is reported at once as
`file:line: field: message`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from workflows import DATA_DIR, LineDict, LineList, ProblemLog, read_data_file
from workflows.cases.record import PETITIONERS_OWN

CHANNELS = ("visit", "letter", "phone", "online", "grid")
CHANNEL_NAMES = {"visit": "来访", "letter": "来信", "phone": "来电", "online": "网上留言", "grid": "网格上报"}
SECTIONS = {  # section → its keys
    "petition_total": ("channels",), "internet_work": ("channels",), "repeat": ("channels",),
    "zero_visit": ("channels",), "bypass": ("levels_above", "exempt_categories"), "handling": ("channels",),
    "satisfaction": ("sources",),
}


@dataclass(frozen=True)
class FigureRules:
    """How each published figure is counted; the defaults are the shipped figures.yaml."""

    petition_channels: tuple[str, ...] = ("visit", "letter", "phone")
    internet_channels: tuple[str, ...] = ("online",)
    repeat_channels: tuple[str, ...] = ("visit", "letter", "phone")
    zero_visit_channels: tuple[str, ...] = ("visit",)
    bypass_levels_above: int = 1
    bypass_exempt_categories: tuple[str, ...] = ("accusation",)
    handling_channels: tuple[str, ...] = CHANNELS
    rating_sources: tuple[str, ...] = PETITIONERS_OWN  # the petitioner's own ratings; staff's own never count

    @property
    def counted_channels(self) -> tuple[str, ...]:
        """Every channel some figure reads."""
        used = {*self.petition_channels, *self.internet_channels, *self.handling_channels, "grid"}
        return tuple(c for c in CHANNELS if c in used)

    def zero_visit_text(self) -> str:
        """The zero-visit rule in words, for the report's notes."""
        return "、".join(CHANNEL_NAMES[c] for c in self.zero_visit_channels)


def load_figure_rules(path: Path | str | None = None) -> FigureRules:
    """Read the definitions (default: workflows/data/figures.yaml); missing sections keep the defaults."""
    source = Path(path) if path is not None else DATA_DIR / "figures.yaml"
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", *SECTIONS)) or LineDict()
    if doc.get("version") != 1:
        log.add(doc.line_of("version"), "version", f"expected 1, not {doc.get('version')!r}")
    values: dict[str, Any] = {}  # FigureRules' fields by name
    fields = {("petition_total", "channels"): "petition_channels", ("internet_work", "channels"): "internet_channels",
              ("repeat", "channels"): "repeat_channels", ("zero_visit", "channels"): "zero_visit_channels",
              ("handling", "channels"): "handling_channels", ("satisfaction", "sources"): "rating_sources",
              ("bypass", "exempt_categories"): "bypass_exempt_categories"}
    allowed_values = {"sources": PETITIONERS_OWN, "channels": CHANNELS, "exempt_categories": None}
    for section, keys in SECTIONS.items():
        if section not in doc:
            continue
        body = log.mapping(doc[section], doc.line_of(section), section, keys)
        if body is None:
            continue
        for key in keys:
            if key not in body:
                continue
            where, value = f"{section}.{key}", body[key]
            if key == "levels_above":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    log.add(body.line_of(key), where, f"expected a whole number of at least 0, not {value!r}")
                else:
                    values["bypass_levels_above"] = value
                continue
            listed = _names(log, body, key, where, allowed_values[key])
            if listed is not None:
                values[fields[(section, key)]] = listed
    if set(values.get("petition_channels", ())) & set(values.get("internet_channels", ())):
        log.add(doc.line_of("internet_work"), "internet_work.channels", "a channel cannot count in both "
                "petition_total and internet_work")
    log.raise_if_any()
    return FigureRules(**values)


def _names(log: ProblemLog, body: LineDict, key: str, where: str,
           allowed: tuple[str, ...] | None) -> tuple[str, ...] | None:
    value = body[key]
    if not isinstance(value, LineList) or not all(isinstance(item, str) for item in value):
        log.add(body.line_of(key), where, f"expected a list of names, not {value!r}")
        return None
    unknown = [item for item in value if allowed is not None and item not in allowed]
    if unknown:
        log.add(body.line_of(key), where, f"unknown {', '.join(unknown)} (expected some of {', '.join(allowed or ())})")
        return None
    return tuple(value)


@cache
def packaged_figure_rules() -> FigureRules:
    """The shipped definitions, read once."""
    return load_figure_rules()

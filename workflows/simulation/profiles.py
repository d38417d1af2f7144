"""The simulator's rates per profile (workflows/data/simulation.yaml) and its figures next to the article's.

A profile is a year of the county as the rates describe it: `2021` (the article's recent year: 333 visit batches,
955 person-visits, 1,839 online messages handled apart) and `2012` (1,280 batches, 5,118 person-visits). The
rates the article does not give are assumptions, marked so in the file. `expected_volumes` says what a profile's
rates produce on average in a year, so the calibration can be checked without simulating a year.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from workflows import DATA_DIR, LineDict, ProblemLog, read_data_file
from workflows.cases.record import HIGHER_LEVELS
from workflows.reports.monthly import Figures
from workflows.simulation.county import Rates

VOLUMES = ("visits", "online_messages", "grid_reports", "letters", "phone_calls")
SHARES = ("county_visits", "handed_down", "repeats", "online_repeats")
PUBLISHED = {"visit_batches": "来访批次", "visit_persons": "来访人次", "online_messages": "网上留言（另计）"}
DEFAULT_PROFILE = "2021"


@dataclass(frozen=True)
class Profile:
    """One simulated year: its rates and the figures the article published for it."""

    name: str
    title: str
    rates: Rates
    published: dict[str, int]


def expected_volumes(rates: Rates, months: int = 12) -> dict[str, float]:
    """The figures the rates give on average over `months` months (seasons average out over a year)."""
    weights = sum(w for _h, w in rates.headcounts)
    mean_heads = sum(h * w for h, w in rates.headcounts) / weights
    share = months / 12
    return {"visit_batches": rates.visits * share, "visit_persons": rates.visits * mean_heads * share,
            "online_messages": rates.online_messages * share}


def comparison(figures: Figures, profile: Profile, months: int) -> list[dict[str, Any]]:
    """Each published figure: simulated, the article's (pro rata for a run shorter than a year), the difference."""
    rows = []
    for key, title in PUBLISHED.items():
        simulated = int(getattr(figures, key))
        article = profile.published.get(key)
        expected = None if article is None else article * months / 12
        rows.append({"figure": key, "title": title, "simulated": simulated, "article": expected,
                     "difference": None if not expected else (simulated - expected) / expected})
    rows.append({"figure": "petitions", "title": "信访总量（批+件，不含网上留言）", "simulated": figures.petitions,
                 "article": None, "difference": None})
    return rows


def comparison_lines(rows: list[dict[str, Any]], profile: Profile, months: int) -> list[str]:
    """The comparison as a person reads it."""
    span = "一年" if months == 12 else f"{months}个月（文章数按月折算）"
    out = [f"与新华社报道对照：{profile.title}，模拟{span}", f"{'指标':<26}{'模拟':>8}{'报道':>10}{'差':>9}"]
    for row in rows:
        article = "—" if row["article"] is None else f"{row['article']:.0f}"
        difference = "—" if row["difference"] is None else f"{row['difference']:+.1%}"
        label = row["title"]
        out.append(f"{label:<{26 - _wide(label)}}{row['simulated']:>8}{article:>10}{difference:>9}")
    return out


def load_profiles(path: Path | str | None = None) -> dict[str, Profile]:
    """Read the profiles (default: workflows/data/simulation.yaml); every mistake is reported with its line."""
    source = Path(path) if path is not None else DATA_DIR / "simulation.yaml"
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", "profiles")) or LineDict()
    if doc.get("version") != 1:
        log.add(doc.line_of("version"), "version", f"expected 1, not {doc.get('version')!r}")
    listed = doc.get("profiles")
    if not isinstance(listed, LineDict) or not listed:
        log.add(doc.line_of("profiles"), "profiles", "expected a mapping of profile names to rates")
        listed = LineDict()
    profiles = {}
    allowed = ("title", "published", *VOLUMES, *SHARES, "handed_down_from", "headcounts", "package_repeat",
               "package_overdue")
    for name, body in listed.items():
        where = f"profiles.{name}"
        entry = log.mapping(body, listed.line_of(name), where, allowed)
        if entry is not None:
            profiles[str(name)] = _profile(log, str(name), entry, where)
    log.raise_if_any()
    return profiles


def _profile(log: ProblemLog, name: str, entry: LineDict, where: str) -> Profile:
    values: dict[str, Any] = {}
    defaults = {f.name: f.default for f in fields(Rates)}
    for key in (*VOLUMES, *SHARES, "package_repeat", "package_overdue"):
        value = entry.get(key, defaults[key])
        limit = None if key in VOLUMES else 1
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or \
                (limit is not None and value > limit):
            log.add(entry.line_of(key), f"{where}.{key}",
                    f"expected a number {'≥ 0' if limit is None else 'from 0 to 1'}, not {value!r}")
        else:
            values[key] = float(value)
    for key, allowed in (("handed_down_from", HIGHER_LEVELS), ("headcounts", None)):
        if key in entry:
            table = _weights(log, entry, key, f"{where}.{key}", allowed)
            if table:
                values[key] = table
    published = entry.get("published", {})
    if not isinstance(published, dict) or any(k not in PUBLISHED or isinstance(v, bool) or not isinstance(v, int)
                                              for k, v in published.items()):
        log.add(entry.line_of("published"), f"{where}.published",
                f"expected whole numbers for some of {', '.join(PUBLISHED)}")
        published = {}
    return Profile(name, str(entry.get("title", name)), Rates(**values), dict(published))


def _weights(log: ProblemLog, entry: LineDict, key: str, where: str,
             allowed: tuple[str, ...] | None) -> tuple[tuple[Any, float], ...]:
    table = entry[key]
    good = isinstance(table, dict) and table and all(
        (k in allowed if allowed else isinstance(k, int) and not isinstance(k, bool) and k >= 1)
        and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for k, v in table.items()) \
        and sum(table.values()) > 0
    if not good:
        expected = f"weights of {', '.join(allowed)}" if allowed else "weights by headcount (whole numbers ≥ 1)"
        log.add(entry.line_of(key), where, f"expected {expected}, each ≥ 0 and not all 0")
        return ()
    return tuple((k, float(v)) for k, v in table.items())


def _wide(text: str) -> int:
    return sum(1 for ch in text if ord(ch) > 0x2E80)

"""一月一考核、一月一兑现: monthly scores of villages and townships and the reward list, from documented weights.

The weights and reward amounts are data (workflows/data/assessment.yaml). A place's score is its base points,
plus the zero-visit points (a township: in proportion to its zero-visit villages), plus the rate points times
the rate (all of them when there is nothing to rate), minus the deductions per case, never below 0. The reward
list is the month's zero-visit villages, each with the zero-visit amount, and the bonus at full marks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from workflows import DATA_DIR, LineDict, ProblemLog, read_data_file
from workflows.reports.monthly import Figures, MonthlyReport, PlaceFigures

POINTS = ("base", "zero_visit", "on_time_rate", "satisfaction_rate")
DEDUCTIONS = ("bypass_visits", "group_visits", "repeat_petitions", "overdue")
REWARDS = ("zero_visit_village", "full_marks_bonus")


@dataclass(frozen=True)
class AssessmentRules:
    """Points, deductions and reward amounts (元); the defaults are the shipped assessment.yaml."""

    points: tuple[tuple[str, float], ...] = (("base", 60), ("zero_visit", 10), ("on_time_rate", 20),
                                             ("satisfaction_rate", 10))
    deductions: tuple[tuple[str, float], ...] = (("bypass_visits", 10), ("group_visits", 5),
                                                 ("repeat_petitions", 5), ("overdue", 2))
    zero_visit_reward: int = 1000
    full_marks_bonus: int = 500

    @property
    def full_score(self) -> float:
        """The most a place can score."""
        return sum(weight for _name, weight in self.points)

    def weight(self, name: str) -> float:
        """The points of one part of the score."""
        return dict(self.points).get(name, 0.0)


@dataclass(frozen=True)
class Score:
    """One place's score of the month and its reward (villages only)."""

    place: PlaceFigures
    score: float
    reward: int = 0


@dataclass(frozen=True)
class Assessment:
    """The month's scores, the townships ranked, and the reward list."""

    villages: list[Score]
    townships: list[Score]  # best first
    rewards: list[Score]  # zero-visit villages, in code order
    full_score: float

    @property
    def reward_total(self) -> int:
        """The month's rewards in 元."""
        return sum(s.reward for s in self.rewards)


def assess(report: MonthlyReport, rules: AssessmentRules | None = None) -> Assessment:
    """Score every village and township of the report and list the rewards."""
    rules = rules or packaged_assessment_rules()
    zero = {v.code for v in report.zero_petition_villages}
    villages = [Score(v, score(v.current, 1.0 if v.code in zero else 0.0, rules)) for v in report.villages]
    shares: dict[str, list[int]] = {}
    for v in report.villages:
        counts = shares.setdefault(v.township or "", [0, 0])
        counts[0] += v.code in zero
        counts[1] += 1
    towns = [Score(t, score(t.current, _share(*shares.get(t.code, [0, 0])), rules)) for t in report.townships]
    towns.sort(key=lambda s: (-s.score, s.place.code))
    rewards = [Score(s.place, s.score, rules.zero_visit_reward
                     + (rules.full_marks_bonus if s.score >= rules.full_score else 0))
               for s in villages if s.place.code in zero]
    return Assessment(villages, towns, rewards, rules.full_score)


def score(figures: Figures, zero_share: float, rules: AssessmentRules) -> float:
    """The score of one place's month: base + zero-visit share + rate points − deductions, at least 0."""
    total = rules.weight("base") + rules.weight("zero_visit") * zero_share
    for rate in ("on_time_rate", "satisfaction_rate"):
        value = figures.value(rate)
        total += rules.weight(rate) * (1.0 if value is None else float(value))
    total -= sum(weight * (figures.value(name) or 0) for name, weight in rules.deductions)
    return round(max(total, 0.0), 1)


def assessment_dict(result: Assessment) -> dict[str, Any]:
    """The assessment in JSON-friendly form (the diagram's data, the JSON export)."""
    return {
        "full_score": result.full_score,
        "townships": [{"code": s.place.code, "name": s.place.name, "score": s.score, "rank": rank}
                      for rank, s in enumerate(result.townships, 1)],
        "villages": {s.place.code: s.score for s in result.villages},
        "rewards": [{"code": s.place.code, "name": s.place.name, "township": s.place.township, "amount": s.reward}
                    for s in result.rewards],
        "reward_total": result.reward_total,
    }


def load_assessment_rules(path: Path | str | None = None) -> AssessmentRules:
    """Read the weights and amounts (default: workflows/data/assessment.yaml); missing keys keep the defaults."""
    source = Path(path) if path is not None else DATA_DIR / "assessment.yaml"
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", "points", "deductions", "rewards")) or LineDict()
    if doc.get("version") != 1:
        log.add(doc.line_of("version"), "version", f"expected 1, not {doc.get('version')!r}")
    defaults = AssessmentRules()
    points = _numbers(log, doc, "points", POINTS, dict(defaults.points))
    deductions = _numbers(log, doc, "deductions", DEDUCTIONS, dict(defaults.deductions))
    rewards = _numbers(log, doc, "rewards", REWARDS, {"zero_visit_village": defaults.zero_visit_reward,
                                                      "full_marks_bonus": defaults.full_marks_bonus})
    for name in REWARDS:
        if rewards[name] != int(rewards[name]):
            log.add(doc.line_of("rewards"), f"rewards.{name}", "expected whole 元")
    log.raise_if_any()
    return AssessmentRules(tuple(points.items()), tuple(deductions.items()), int(rewards["zero_visit_village"]),
                           int(rewards["full_marks_bonus"]))


def _numbers(log: ProblemLog, doc: LineDict, section: str, names: tuple[str, ...],
             values: dict[str, float]) -> dict[str, float]:
    if section not in doc:
        return values
    body = log.mapping(doc[section], doc.line_of(section), section, names)
    if body is None:
        return values
    for name in names:
        if name not in body:
            continue
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            log.add(body.line_of(name), f"{section}.{name}", f"expected a number of at least 0, not {value!r}")
        else:
            values[name] = float(value)
    return values


@cache
def packaged_assessment_rules() -> AssessmentRules:
    """The shipped weights and amounts, read once."""
    return load_assessment_rules()


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0

"""The year view of the report page: twelve months of every figure, villages by zero-visit months, townships ranked.

Each month is counted exactly as the monthly report counts it (`figures_by_place`, figures.yaml); the scores are
the monthly assessment's (assessment.yaml), averaged over the twelve months for the ranking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from workflows.reports.assessment import AssessmentRules, packaged_assessment_rules, score
from workflows.reports.definitions import FigureRules, packaged_figure_rules
from workflows.reports.monthly import (
    METRICS,
    Figures,
    PlaceFigures,
    figures_by_place,
    month_period,
    scope_places,
    shift_month,
)

# The figures of the trend, in order: (metric, Chinese heading, is a rate).
TREND_METRICS = tuple(m for m in METRICS if m[0] in (
    "petitions", "visit_batches", "visit_persons", "letters", "phone_calls", "online_messages", "group_visits",
    "repeat_petitions", "bypass_visits", "on_the_spot_rate", "closed", "on_time_rate", "overdue",
    "satisfaction_rate", "grid_reports"))


@dataclass
class VillageYear:
    """One village over the year: which months it had no visit."""

    place: PlaceFigures
    zero_months: list[bool]

    @property
    def zero_count(self) -> int:
        """How many of the twelve months had no visit."""
        return sum(self.zero_months)


@dataclass
class TownshipYear:
    """One township over the year: its monthly scores and its villages' zero-visit months."""

    place: PlaceFigures
    scores: list[float]
    villages: list[VillageYear] = field(default_factory=list)
    visit_batches: int = 0

    @property
    def average(self) -> float:
        """The mean of the twelve monthly scores."""
        return round(sum(self.scores) / len(self.scores), 1) if self.scores else 0.0

    @property
    def zero_village_months(self) -> int:
        """Zero-visit months summed over the township's villages."""
        return sum(v.zero_count for v in self.villages)


@dataclass
class YearView:
    """Twelve months ending with `month`, for the county or one township."""

    month: str
    months: list[str]
    scope: PlaceFigures
    trend: list[Figures]  # the scope's figures, one per month, oldest first
    townships: list[TownshipYear]  # ranked by average score, best first
    full_score: float

    def series(self, metric: str) -> list[float | int | None]:
        """One figure over the twelve months."""
        return [figures.value(metric) for figures in self.trend]

    @property
    def zero_visit_counts(self) -> list[int]:
        """Zero-visit villages in each month."""
        return [sum(v.zero_months[i] for t in self.townships for v in t.villages) for i in range(len(self.months))]


def year_view(session: Session, month: str, *, township: str | None = None, zone: ZoneInfo | None = None,
              group_threshold: int = 5, rules: FigureRules | None = None,
              assessment: AssessmentRules | None = None) -> YearView:
    """The year ending with `month` ("YYYY-MM"), for the county or one township (code or name)."""
    zone = zone or ZoneInfo("Asia/Shanghai")
    rules, assessment = rules or packaged_figure_rules(), assessment or packaged_assessment_rules()
    town, places = scope_places(session, township)
    scope_key = town.code if town is not None else ""
    months = [month_period(shift_month(month, by), zone) for by in range(-11, 1)]
    per_month = [figures_by_place(session, period, town, places, group_threshold, rules) for period in months]
    villages = {key: VillageYear(place, [found[key].zero_visit_items == 0 for found in per_month])
                for key, place in places.items() if place.level == "village"}
    towns = {key: TownshipYear(place, []) for key, place in places.items() if place.level == "township"}
    for village in villages.values():
        owner = towns.get(village.place.township or "")
        if owner is not None:
            owner.villages.append(village)
    for key, town_year in towns.items():
        for index, found in enumerate(per_month):
            share = _share(sum(v.zero_months[index] for v in town_year.villages), len(town_year.villages))
            town_year.scores.append(score(found[key], share, assessment))
            town_year.visit_batches += found[key].visit_batches
    ranked = sorted(towns.values(), key=lambda t: (-t.average, t.place.code))
    return YearView(months[-1].label, [p.label for p in months], places[scope_key],
                    [found[scope_key] for found in per_month], ranked, assessment.full_score)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0

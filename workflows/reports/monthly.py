"""The monthly report (一月一通报): what each village, township and the county received and how it was handled.

Every figure comes from `case_record` through indexed aggregate queries (never from workflow state), for the
local month in the county's time zone, next to the previous month and the same month a year earlier.

How each figure is counted (口径) is data: workflows/data/figures.yaml, read by reports/definitions.py and
explained in workflows/data/README.md. In short:
- 信访总量 (visits in 批次 and 人次, letters and calls in 件), 重复信访, 集体访, 越级访 and 当场化解率 by the month
  a case was registered; 网上留言 (internet work) and 网格上报 are counted apart, never in 信访总量;
- 越级访: a visit made more levels above the competent level than Art. 20 allows (`visit_level` against
  `competent_level`; a case handed down from the city, province or Beijing was visited there);
- 办结, 按期办结率 (never marked overdue), 延期 by the month closed; 超期: overdue cases on the books in the month;
- 满意度: the petitioner's own ratings, by the month they were given (a late rating counts when it comes);
- 零上访村（社区）: villages with no visit batch in the month (the reward list).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from workflows import DomainError
from workflows.cases.record import LEVELS, RECORDED, CaseRecord
from workflows.org.models import OrgUnit
from workflows.org.tree import UnknownUnit, find_unit
from workflows.reports.definitions import FigureRules, packaged_figure_rules

SATISFACTION_LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
SATISFACTION_NAMES = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
                      "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
SATISFACTION_ALIASES = {"basic": ("basic", "basically_satisfied")}  # the online feedback form spells it out
# An aggregate query: township, village, then named figures (quoted: SQLAlchemy 2.0's Select takes one type).
FigureRows: TypeAlias = "Select[*tuple[Any, ...]]"


class ReportError(DomainError):
    """A report that cannot be made as asked (a month not written YYYY-MM, an unknown township)."""


@dataclass
class Figures:
    """The counts of one place in one month; rates are derived from them."""

    petitions: int = 0  # 信访总量: cases of the petition_total channels (visits in 批次, the rest in 件)
    visit_batches: int = 0
    visit_persons: int = 0
    letters: int = 0
    phone_calls: int = 0
    online_messages: int = 0
    grid_reports: int = 0
    zero_visit_items: int = 0  # cases of the zero_visit channels: a village with none is a zero-visit village
    group_visits: int = 0
    repeat_petitions: int = 0
    bypass_visits: int = 0
    on_the_spot: int = 0
    closed: int = 0
    closed_overdue: int = 0
    overdue: int = 0
    extended: int = 0
    very_satisfied: int = 0
    satisfied: int = 0
    basic: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    recorded_ratings: int = 0  # of the ratings counted, those told on a return call and recorded by staff

    @property
    def on_the_spot_rate(self) -> float | None:
        """Share of visits answered or resolved on the spot, or None without visits."""
        return _ratio(self.on_the_spot, self.visit_batches)

    @property
    def on_time_rate(self) -> float | None:
        """Share of the month's closed cases never marked overdue, or None when none closed."""
        return _ratio(self.closed - self.closed_overdue, self.closed)

    @property
    def rated(self) -> int:
        """How many closed cases carry a satisfaction rating."""
        return sum(getattr(self, level) for level in SATISFACTION_LEVELS)

    @property
    def satisfaction_rate(self) -> float | None:
        """Share of ratings that are 基本满意 or better, or None without ratings."""
        return _ratio(self.very_satisfied + self.satisfied + self.basic, self.rated)

    def add(self, other: Figures) -> None:
        """Add another place's counts to these."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def value(self, metric: str) -> float | int | None:
        """A count or a derived rate by name."""
        return getattr(self, metric)


# What the report shows, in order: (metric, Chinese heading, is a rate).
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("petitions", "信访总量", False),
    ("visit_batches", "来访批次", False),
    ("visit_persons", "来访人次", False),
    ("letters", "来信(件)", False),
    ("phone_calls", "来电(件)", False),
    ("online_messages", "网上留言(件)", False),
    ("group_visits", "集体访(批)", False),
    ("repeat_petitions", "重复信访(件)", False),
    ("bypass_visits", "越级访(批)", False),
    ("on_the_spot_rate", "当场化解率", True),
    ("closed", "办结(件)", False),
    ("on_time_rate", "按期办结率", True),
    ("overdue", "超期(件)", False),
    ("extended", "延期(件)", False),
    ("satisfaction_rate", "满意率", True),
    *((level, SATISFACTION_NAMES[level], False) for level in SATISFACTION_LEVELS),
    ("grid_reports", "网格上报(件)", False),
)
HIDDEN_FIELDS = ("zero_visit_items",)  # kept for the zero-visit rule, not published as a figure


@dataclass
class PlaceFigures:
    """One place's figures this month, the month before and the same month a year earlier."""

    level: str
    code: str
    name: str
    township: str | None
    current: Figures = field(default_factory=Figures)
    previous: Figures = field(default_factory=Figures)
    year_ago: Figures = field(default_factory=Figures)
    unrecorded: frozenset[str] = frozenset()  # comparison months before the first recorded case: no figures

    def change(self, metric: str, against: str) -> float | int | None:
        """This month's value minus the previous month's ("previous") or last year's ("year_ago").

        None when that month lies before the first case the system recorded: there is nothing to compare with.
        """
        if against in self.unrecorded:
            return None
        now, then = self.current.value(metric), getattr(self, against).value(metric)
        if now is None or then is None:
            return None
        return now - then


@dataclass
class MonthlyReport:
    """The 通报 of one month for the county or one township."""

    month: str
    scope: PlaceFigures
    townships: list[PlaceFigures]
    villages: list[PlaceFigures]
    zero_petition_villages: list[PlaceFigures]
    previous_month: str
    year_ago_month: str
    group_threshold: int
    zero_rule: str = "来访"  # the channels that take a village off the zero-visit list, in words
    as_of: datetime | None = None  # local time, set while the month is not over: figures count up to it

    @property
    def village_count(self) -> int:
        """How many villages the scope holds."""
        return len(self.villages)


@dataclass(frozen=True)
class Period:
    """A local calendar month as a half-open UTC range."""

    label: str
    start: datetime
    end: datetime


def month_period(month: str, zone: ZoneInfo) -> Period:
    """The month "YYYY-MM" in the county's time zone, as [start, end) in UTC."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise ReportError(f"'{month}' is not a month written YYYY-MM (e.g. 2025-03)") from None
    following = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return Period(f"{year:04d}-{number:02d}", _local_midnight(first, zone), _local_midnight(following, zone))


def shift_month(month: str, by: int) -> str:
    """The month `by` months after "YYYY-MM" (before, when negative)."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def monthly_report(session: Session, month: str, *, township: str | None = None, zone: ZoneInfo | None = None,
                   group_threshold: int = 5, rules: FigureRules | None = None,
                   now: datetime | None = None) -> MonthlyReport:
    """Compute the report of `month` ("YYYY-MM") for the county, or for one township (code or name).

    Given `now` inside the month, the report says it counts up to then (截至); comparison months before the first
    recorded case have no figures rather than zeros.
    """
    zone = zone or ZoneInfo("Asia/Shanghai")
    rules = rules or packaged_figure_rules()
    town = township_unit(session, township) if township else None
    periods = {"current": month_period(month, zone), "previous": month_period(shift_month(month, -1), zone),
               "year_ago": month_period(shift_month(month, -12), zone)}
    places = _places(session, town)
    scope_place = places[town.code] if town is not None else places[""]
    for slot, period in periods.items():
        for key, figures in figures_by_place(session, period, town, places, group_threshold, rules).items():
            setattr(places[key], slot, figures)
    villages = [p for p in places.values() if p.level == "village"]
    townships = [p for p in places.values() if p.level == "township" and p is not scope_place]
    zero = [v for v in villages if v.current.zero_visit_items == 0]
    first = session.scalar(select(func.min(CaseRecord.registered_at)))
    unrecorded = frozenset(slot for slot in ("previous", "year_ago")
                           if first is None or first >= periods[slot].end)
    for place in places.values():
        place.unrecorded = unrecorded
    current = periods["current"]
    as_of = now.astimezone(zone) if now is not None and current.start <= now < current.end else None
    return MonthlyReport(current.label, scope_place, townships,
                         villages, zero, periods["previous"].label, periods["year_ago"].label, group_threshold,
                         rules.zero_visit_text(), as_of)


def monthly_figures(session: Session, month: str, *, zone: ZoneInfo | None = None, group_threshold: int = 5,
                    rules: FigureRules | None = None) -> dict[str, Any]:
    """The month's county figures in JSON-friendly form, for the monthly-report diagram's scripts."""
    report = monthly_report(session, month, zone=zone, group_threshold=group_threshold, rules=rules)
    now = report.scope.current
    return {
        "month": report.month,
        "petitions": now.petitions,
        "visit_batches": now.visit_batches,
        "visit_persons": now.visit_persons,
        "items": {"visit": now.visit_batches, "letter": now.letters, "phone": now.phone_calls,
                  "online": now.online_messages, "grid": now.grid_reports},
        "county": figures_dict(now),
        "previous_month": figures_dict(report.scope.previous),
        "year_ago": figures_dict(report.scope.year_ago),
        "townships": {p.code: {"name": p.name, "petitions": p.current.petitions,
                               "visit_batches": p.current.visit_batches, "overdue": p.current.overdue}
                      for p in report.townships},
        "village_count": report.village_count,
        "zero_petition_villages": [v.code for v in report.zero_petition_villages],
        "zero_petition_count": len(report.zero_petition_villages),
    }


def scope_places(session: Session, township: str | None) -> tuple[OrgUnit | None, dict[str, PlaceFigures]]:
    """The township asked for (None: the county) and the places of that scope (see `_places`)."""
    town = township_unit(session, township) if township else None
    return town, _places(session, town)


def figures_by_place(session: Session, period: Period, town: OrgUnit | None, places: dict[str, PlaceFigures],
                     threshold: int, rules: FigureRules) -> dict[str, Figures]:
    """One period's figures of every place of the scope, by the keys of `places`, villages rolled up into their
    townships and townships into the county."""
    scope_key = town.code if town is not None else ""
    keys = {id(place): key for key, place in places.items()}
    found = {key: Figures() for key in places}
    for (town_code, village_code), figures in _figures(session, period, town, threshold, rules).items():
        found[keys[id(_owner(places, places[scope_key], town_code, village_code))]].add(figures)
    for level in ("village", "township"):
        for key, place in places.items():
            parent = (place.township or "") if level == "village" else scope_key
            if place.level == level and key != scope_key and parent in found and parent != key:
                found[parent].add(found[key])
    return found


def figures_between(session: Session, start: datetime, end: datetime, *, group_threshold: int = 5,
                    rules: FigureRules | None = None) -> Figures:
    """The county's figures over any span [start, end) (a simulated year, say), counted as the monthly report."""
    total = Figures()
    for figures in _figures(session, Period("", start, end), None, group_threshold,
                            rules or packaged_figure_rules()).values():
        total.add(figures)
    return total


def figures_dict(figures: Figures) -> dict[str, Any]:
    """Counts and rates of one place and month, keyed by metric name."""
    values: dict[str, Any] = asdict(figures)
    for hidden in HIDDEN_FIELDS:
        values.pop(hidden)
    for metric, _title, is_rate in METRICS:
        if is_rate or metric == "petitions":
            values[metric] = figures.value(metric)
    values["rated"] = figures.rated
    return values


def report_dict(report: MonthlyReport) -> dict[str, Any]:
    """The whole report in JSON-friendly form (for --format json and the web page)."""

    def place(p: PlaceFigures) -> dict[str, Any]:
        return {"level": p.level, "code": p.code, "name": p.name, "township": p.township,
                "current": figures_dict(p.current), "previous": figures_dict(p.previous),
                "year_ago": figures_dict(p.year_ago)}

    return {
        "month": report.month, "previous_month": report.previous_month, "year_ago_month": report.year_ago_month,
        "group_threshold": report.group_threshold,
        "scope": place(report.scope),
        "townships": [place(p) for p in report.townships],
        "villages": [place(p) for p in report.villages],
        "zero_petition_villages": [{"code": v.code, "name": v.name, "township": v.township}
                                   for v in report.zero_petition_villages],
    }


# -- queries -----------------------------------------------------------------------------------------------------

def _figures(session: Session, period: Period, town: OrgUnit | None, threshold: int,
             rules: FigureRules) -> dict[tuple[str | None, str | None], Figures]:
    """Figures of one period by (township, village) code, from five aggregate queries."""
    found: dict[tuple[str | None, str | None], Figures] = {}
    for query in (_intake(period, threshold, rules), _closed(period, rules), _rated(period, rules),
                  *_overdue(period, rules)):
        if town is not None:
            query = query.where(CaseRecord.township == town.code)
        for row in session.execute(query):
            values = row._mapping
            figures = found.setdefault((values["township"], values["village"]), Figures())
            for key, value in values.items():
                if key not in ("township", "village"):
                    setattr(figures, key, getattr(figures, key) + int(value or 0))
    return found


def count_if(condition: Any, amount: Any = 1) -> Any:
    """SUM(CASE WHEN condition THEN amount ELSE 0 END): a count (or a sum) over the rows meeting a condition."""
    return func.sum(case((condition, amount), else_=0))


def level_rank(column: Any) -> Any:
    """A level's place in LEVELS (village 0 … national 5) in SQL; NULL for an unknown level."""
    return case(*((column == level, rank) for rank, level in enumerate(LEVELS)), else_=None)


def bypass_condition(rules: FigureRules) -> Any:
    """越级访: a visit made more levels above the competent level than Art. 20 allows; exempt categories never."""
    r = CaseRecord
    return and_(r.channel == "visit", r.visit_level.is_not(None), r.competent_level.is_not(None),
                level_rank(r.visit_level) > level_rank(r.competent_level) + rules.bypass_levels_above,
                or_(r.category.is_(None), r.category.not_in(rules.bypass_exempt_categories)))


def _intake(period: Period, threshold: int, rules: FigureRules) -> FigureRows:
    r = CaseRecord
    visit = r.channel == "visit"
    return (select(r.township, r.village,
                   count_if(r.channel.in_(rules.petition_channels)).label("petitions"),
                   count_if(r.channel.in_(rules.zero_visit_channels)).label("zero_visit_items"),
                   count_if(visit).label("visit_batches"),
                   count_if(visit, r.headcount).label("visit_persons"),
                   count_if(r.channel == "letter").label("letters"),
                   count_if(r.channel == "phone").label("phone_calls"),
                   count_if(r.channel.in_(rules.internet_channels)).label("online_messages"),
                   count_if(r.channel == "grid").label("grid_reports"),
                   count_if(and_(visit, r.headcount >= threshold)).label("group_visits"),
                   count_if(and_(r.channel.in_(rules.repeat_channels), r.repeat_of.is_not(None)))
                   .label("repeat_petitions"),
                   count_if(bypass_condition(rules)).label("bypass_visits"),
                   count_if(and_(visit, r.on_the_spot)).label("on_the_spot"))
            .where(r.registered_at >= period.start, r.registered_at < period.end,
                   r.channel.in_(rules.counted_channels))
            .group_by(r.township, r.village))


def _closed(period: Period, rules: FigureRules) -> FigureRows:
    r = CaseRecord
    return (select(r.township, r.village, func.count().label("closed"),
                   count_if(r.overdue).label("closed_overdue"), count_if(r.extended).label("extended"))
            .where(r.closed_at >= period.start, r.closed_at < period.end, r.channel.in_(rules.handling_channels))
            .group_by(r.township, r.village))


def _rated(period: Period, rules: FigureRules) -> FigureRows:
    """满意度: the ratings given in the month by the counted sources (a late rating counts when it is given)."""
    r = CaseRecord
    ratings = [count_if(r.satisfaction.in_(SATISFACTION_ALIASES.get(level, (level,)))).label(level)
               for level in SATISFACTION_LEVELS]
    recorded = count_if(r.rating_source == RECORDED).label("recorded_ratings")
    return (select(r.township, r.village, *ratings, recorded)
            .where(r.rated_at >= period.start, r.rated_at < period.end, r.rating_source.in_(rules.rating_sources),
                   r.channel.in_(rules.handling_channels))
            .group_by(r.township, r.village))


def _overdue(period: Period, rules: FigureRules) -> tuple[FigureRows, FigureRows]:
    """Overdue cases closed in or after the month, and those still open (two ranges of a partial index)."""
    r = CaseRecord
    base = (select(r.township, r.village, func.count().label("overdue"))
            .where(r.overdue == true(), r.registered_at < period.end, r.channel.in_(rules.handling_channels))
            .group_by(r.township, r.village))
    return base.where(r.closed_at >= period.start), base.where(r.closed_at.is_(None))


# -- places ------------------------------------------------------------------------------------------------------

def _places(session: Session, town: OrgUnit | None) -> dict[str, PlaceFigures]:
    """The scope's places keyed by code: the county under "", its townships, its villages (code order)."""
    places: dict[str, PlaceFigures] = {}
    if town is None:
        county = session.scalar(select(OrgUnit).where(OrgUnit.level == "county", OrgUnit.kind == "area",
                                                      OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1))
        places[""] = PlaceFigures("county", county.code if county else "", county.name if county else "全县", None)
        prefix = county.path if county else "/"
    else:
        places[town.code] = PlaceFigures("township", town.code, town.name, None)
        prefix = town.path
    rows = session.execute(select(OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.path)
                           .where(OrgUnit.kind == "area", OrgUnit.level.in_(("township", "village")),
                                  OrgUnit.path.startswith(prefix, autoescape=True))
                           .order_by(OrgUnit.path))
    for code, name, level, path in rows:
        if code in places:
            continue
        parts = path.strip("/").split("/")
        parent = parts[-2] if level == "village" and len(parts) >= 2 else None
        places[code] = PlaceFigures(level, code, name, parent)
    return places


def _owner(places: dict[str, PlaceFigures], scope: PlaceFigures, town_code: str | None,
           village_code: str | None) -> PlaceFigures:
    """Where a group of records counts: its village, else its township (village unknown), else the scope."""
    for code, level in ((village_code, "village"), (town_code, "township")):
        place = places.get(code or "")
        if code and place is not None and place.level == level:
            return place
    return scope


def township_unit(session: Session, name: str) -> OrgUnit:
    """The township of this code or name; a ReportError if there is none."""
    try:
        return find_unit(session, name, level="township")
    except UnknownUnit as error:
        raise ReportError(str(error)) from error


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def sorted_by_petitions(places: Iterable[PlaceFigures]) -> list[PlaceFigures]:
    """Places with the most petitions first, then by code."""
    return sorted(places, key=lambda p: (-p.current.petitions, p.code))

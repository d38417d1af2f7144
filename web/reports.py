"""The monthly report pages (一月一通报): the page with its charts, the CSV, and the A4 通报 as it is posted.

Who sees what, decided here on the server: the county bureau sees the county and any township; a township's
responsible leaders (分管领导) and petition cadres (乡镇信访干部), who compile and answer for the township's
figures, see their own township only; everyone else is refused. The figures come from workflows/reports/monthly.py and
the posted wording from workflows/reports/text.py; this module only picks the scope and lays them out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from workflows.cases.access import Viewer
from workflows.cases.script_helpers import packaged_config
from workflows.cases.task_work import AccessDenied
from workflows.org.models import OrgUnit
from workflows.reports.assessment import assess
from workflows.reports.monthly import (
    METRICS,
    SATISFACTION_LEVELS,
    SATISFACTION_NAMES,
    MonthlyReport,
    PlaceFigures,
    monthly_report,
    shift_month,
    sorted_by_petitions,
)
from workflows.reports.text import (
    TABLE_COLUMNS,
    change_text,
    percent_text,
    report_csv,
    report_notes,
    signed_text,
    summary_sentence,
    value_text,
)
from workflows.reports.trend import category_counts, monthly_trend
from workflows.reports.year import TREND_METRICS, year_view

from .extensions import db, request_session, services
from .security import current_access, login_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
F = TypeVar("F", bound=Callable[..., Any])
COUNTY_READERS = frozenset({"county_bureau"})
TOWNSHIP_READERS = frozenset({"responsible_leader", "township_cadre"})
REPORT_ROLES = COUNTY_READERS | TOWNSHIP_READERS
MONTH = re.compile(r"(\d{4})-(\d{2})")
TREND_MONTHS = 12
# Changes that are good news when they go up; for the other counts (petitions, overdue, ...) up is bad news.
BETTER_WHEN_HIGHER = frozenset({"on_the_spot_rate", "closed", "on_time_rate", "satisfaction_rate",
                                "very_satisfied", "satisfied"})
NEUTRAL = frozenset({"basic", "grid_reports"})
KEY_METRICS = ("petitions", "visit_batches", "visit_persons", "online_messages", "on_time_rate", "overdue")


@dataclass(frozen=True)
class Scope:
    """What a request asks for: a month, and the county (township None) or one township."""

    month: str
    township: OrgUnit | None
    choices: list[OrgUnit]  # the townships the viewer may pick
    county_wide: bool  # whether the viewer may see the county too

    def args(self, **changes: str) -> dict[str, str]:
        """The query arguments of this scope (for links), with changes."""
        values = {"month": self.month, **({"township": self.township.code} if self.township else {})}
        return {**values, **changes}


def report_readers(view: F) -> F:
    """Let in people who are logged in and hold a role that reads monthly reports."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_access().viewer.has_role(*REPORT_ROLES):
            raise AccessDenied("月度通报只对县信访局和乡镇分管领导、乡镇信访干部开放")
        return view(*args, **kwargs)

    return cast(F, login_required(wrapped))


@bp.get("/monthly", endpoint="monthly")
@report_readers
def monthly_page() -> str:
    """The month's figures with changes, tables that need no script, and charts drawn by chart.js."""
    scope = _scope()
    report = _report(scope)
    code = scope.township.code if scope.township else None
    session = request_session()
    trend = monthly_trend(session, scope.month, months=TREND_MONTHS, township=code, zone=_zone())
    categories = category_counts(session, scope.month, township=code, zone=_zone())
    category_names = {c.code: c.name for c in packaged_config().routing.categories.values()}
    named = [(category_names.get(c or "", c or "未分类"), n) for c, n in categories]
    places = report.townships if scope.township is None else sorted_by_petitions(report.villages)
    return render_template(
        "reports/monthly.html", scope=scope, report=report, trend=trend, categories=named, places=places,
        active_villages=_active_villages(report), zero_by_township=_zero_by_township(report),
        charts=_chart_data(report, trend, named, places), **_wording(report))


@bp.get("/monthly.csv", endpoint="monthly_csv")
@report_readers
def monthly_csv() -> Response:
    """The report as CSV, the same as `doorstep report monthly --format csv` (with a BOM, for Excel)."""
    scope = _scope()
    body = "\ufeff" + report_csv(_report(scope))
    place = scope.township.code if scope.township else "county"
    ascii_name = f"monthly-report-{scope.month}-{place}.csv"
    local_name = f"{(scope.township.name if scope.township else '溆浦县')}信访月度通报-{scope.month}.csv"
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(local_name)}")
    return response


@bp.get("/monthly/print", endpoint="monthly_print")
@report_readers
def monthly_print() -> str:
    """The 通报 as it is posted: an A4 page with the text and tables, no navigation."""
    scope = _scope()
    report = _report(scope)
    return render_template("reports/print.html", scope=scope, report=report,
                           active_villages=_active_villages(report), zero_by_township=_zero_by_township(report),
                           made_at=services().now(request_session()), **_wording(report))


@bp.get("/year", endpoint="year")
@report_readers
def year_page() -> str:
    """The twelve months ending with the month asked for: each figure's trend, the villages' zero-visit months on
    a map of the county, and the townships ranked by their average score."""
    scope = _scope()
    config = packaged_config()
    view = year_view(request_session(), scope.month, township=scope.township.code if scope.township else None,
                     zone=_zone(), group_threshold=config.deadlines.group_visit_threshold)
    trend: list[tuple[str, str, bool, Sequence[float | int | None], str]] = [
        (metric, title, is_rate, view.series(metric), _sparkline(view.series(metric)))
        for metric, title, is_rate in TREND_METRICS]
    zero_line = view.zero_visit_counts
    trend.append(("zero_visit_villages", "零上访村（社区）", False, zero_line, _sparkline(zero_line)))
    return render_template("reports/year.html", scope=scope, view=view, trend=trend,
                           month_titles=[_month_title(m) for m in view.months], percent=percent_text,
                           shade=_zero_shade)


def _sparkline(values: list[Any], width: int = 120, height: int = 28) -> str:
    """SVG polyline points of a series (missing values skipped), scaled to the box."""
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if not known:
        return ""
    low, high = min(v for _i, v in known), max(v for _i, v in known)
    span, step = (high - low) or 1.0, width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in known)


def _zero_shade(months: int) -> str:
    """A village's fill on the map: pale for few zero-visit months, deep green for all twelve."""
    return f"hsl(130, 45%, {92 - months * 5}%)"


# -- the scope of a request ----------------------------------------------------------------------------------------

def _scope() -> Scope:
    """The month and place asked for, checked against what the viewer may see (400 / 403 otherwise)."""
    viewer = current_access().viewer
    county_wide = viewer.has_role(*COUNTY_READERS)
    month = _month(request.args.get("month", "").strip())
    asked = request.args.get("township", "").strip()
    if county_wide:
        choices = list(db.session.scalars(select(OrgUnit).where(OrgUnit.level == "township", OrgUnit.kind == "area")
                                          .order_by(OrgUnit.code)))
    else:
        choices = _own_townships(viewer)
        if not choices:
            raise AccessDenied("您的职务不属于任何乡镇，无法查看乡镇月度通报")
    if not asked:
        return Scope(month, None if county_wide else choices[0], choices, county_wide)
    if asked in _county_names():
        if not county_wide:
            raise AccessDenied("您只能查看本乡镇的月度通报")
        return Scope(month, None, choices, county_wide)
    town = next((t for t in choices if asked in (t.code, t.name)), None)
    if town is None:
        if not county_wide:
            raise AccessDenied("您只能查看本乡镇的月度通报")
        abort(400, description=f"没有找到乡镇“{asked}”：请从列表中选择乡镇。")
    return Scope(month, town, choices, county_wide)


def _county_names() -> set[str]:
    """The code and name of the county (the root of the org tree), which ask for the county's report."""
    county = db.session.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.level == "county",
                                                                          OrgUnit.parent_id.is_(None)).limit(1)).first()
    return {county.code, county.name} if county else set()


def _own_townships(viewer: Viewer) -> list[OrgUnit]:
    """The townships where the viewer is a responsible leader or petition cadre (their own township)."""
    codes = {path.strip("/").split("/")[1] for path in
             (seat.area_path for seat in viewer.seats if seat.role in TOWNSHIP_READERS) if path.count("/") >= 3}
    if not codes:
        return []
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(sorted(codes)), OrgUnit.level == "township")
                                   .order_by(OrgUnit.code)))


def _month(given: str) -> str:
    """The month asked for, YYYY-MM; by default the month before the business clock's month."""
    current = services().now(request_session()).astimezone(_zone()).strftime("%Y-%m")
    if not given:
        return shift_month(current, -1)
    found = MONTH.fullmatch(given)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1900:
        abort(400, description=f"月份“{given}”有误：请按“年-月”填写，例如 {shift_month(current, -1)}。")
    if given > current:
        abort(400, description=f"{given} 还没有到：只能查看 {current} 及以前各月的通报。")
    return given


def _report(scope: Scope) -> MonthlyReport:
    config = packaged_config()
    session = request_session()
    return monthly_report(session, scope.month, township=scope.township.code if scope.township else None,
                          zone=_zone(), group_threshold=config.deadlines.group_visit_threshold,
                          now=services().now(session))


def _zone() -> Any:
    return packaged_config().calendar.timezone


# -- what the templates show ---------------------------------------------------------------------------------------

def _wording(report: MonthlyReport) -> dict[str, Any]:
    """The posted wording and the helpers that format figures as the printed 通报 does."""
    return {
        "summary": summary_sentence(report).strip(), "metrics": METRICS, "columns": TABLE_COLUMNS,
        "key_metrics": [(m, t) for m, t, _r in METRICS if m in KEY_METRICS],
        "notes": report_notes(report),
        "value": value_text, "change": change_text, "signed": signed_text, "percent": percent_text,
        "trend_class": _trend_class, "township_names": {p.code: p.name for p in (report.scope, *report.townships)},
        "assessment": assess(report),
        "zero_share": percent_text(len(report.zero_petition_villages) / report.village_count
                                   if report.village_count else None),
        "month_title": _month_title(report.month), "next_month": shift_month(report.month, 1),
    }


def _trend_class(place: PlaceFigures, metric: str, against: str) -> str:
    """"better", "worse" or "" for a change, to colour it."""
    delta = place.change(metric, against)
    if not delta or metric in NEUTRAL:
        return ""
    return "better" if (delta > 0) == (metric in BETTER_WHEN_HIGHER) else "worse"


def _month_title(month: str) -> str:
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


def _active_villages(report: MonthlyReport) -> list[PlaceFigures]:
    """Villages with petitions this month or last, most first (as in the posted text)."""
    active = [v for v in report.villages if v.current.petitions or v.previous.petitions]
    return sorted(active, key=lambda v: (-v.current.petitions, v.code))


def _zero_by_township(report: MonthlyReport) -> list[tuple[str, list[str]]]:
    """The zero-petition villages by township name, in the report's order."""
    names = {p.code: p.name for p in (report.scope, *report.townships)}
    grouped: dict[str, list[str]] = {}
    for village in report.zero_petition_villages:
        grouped.setdefault(names.get(village.township or "", village.township or ""), []).append(village.name)
    return list(grouped.items())


def _chart_data(report: MonthlyReport, trend: list[Any], categories: list[tuple[str, int]],
                places: list[PlaceFigures]) -> dict[str, Any]:
    """What reports.js draws: the trend, the places (townships or villages), categories, satisfaction."""
    shown = sorted((p for p in places if p.current.petitions or p.previous.petitions),
                   key=lambda p: (-p.current.petitions, -p.previous.petitions, p.code))
    now = report.scope.current
    return {
        "trend": {"labels": [_month_title(p.month) for p in trend],
                  "series": [{"label": label, "values": [getattr(p, name) for p in trend]}
                             for name, label in (("visit_batches", "来访（批次）"), ("letters", "来信"),
                                                 ("phone_calls", "来电"), ("online_messages", "网上留言"))],
                  "persons": [p.visit_persons for p in trend]},
        "places": {"labels": [p.name for p in shown],
                   "current": [p.current.petitions for p in shown], "previous": [p.previous.petitions for p in shown],
                   "month": _month_title(report.month), "previous_month": _month_title(report.previous_month)},
        "categories": {"labels": [name for name, _n in categories], "values": [n for _name, n in categories]},
        "satisfaction": {"labels": [SATISFACTION_NAMES[level] for level in SATISFACTION_LEVELS],
                         "values": [getattr(now, level) for level in SATISFACTION_LEVELS]},
    }

"""The functions BPMN scripts, conditions and timer expressions may call (bpmn/CONVENTIONS.md).

Helpers take and return JSON-friendly values: datetimes are ISO 8601 strings. Returned datetimes are in UTC,
like the engine's `now()`, so scripts may compare them as strings. A date without a time ("2025-03-01", as
date fields of forms give) means local midnight. Nothing here reads the wall clock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflows import DATA_DIR, DomainError
from workflows.cases.calendar import Deadlines, WorkCalendar, load_deadlines, load_work_calendar
from workflows.cases.review_bodies import ReviewBodies, load_review_bodies
from workflows.cases.routing import RoutingError, RoutingRules, check_handling_unit, load_routing_rules
from workflows.cases.routing import responsible_leader as find_leader
from workflows.reports.assessment import assess, assessment_dict
from workflows.reports.monthly import ReportError, monthly_report
from workflows.reports.monthly import monthly_figures as report_figures

REPORT_TIME = time(9, 0)


class ScriptArgumentError(DomainError, ValueError):
    """A helper was called with a value it cannot use (not an ISO datetime, not a whole number)."""


@dataclass(frozen=True)
class DomainConfig:
    """The domain's data-file settings: working calendar, statutory deadlines and routing rules."""

    calendar: WorkCalendar
    deadlines: Deadlines
    routing: RoutingRules
    review_bodies: ReviewBodies = ReviewBodies()


@functools.cache
def packaged_config() -> DomainConfig:
    """Return the settings of the data files shipped in workflows/data/, read once per process."""
    return load_domain_config(DATA_DIR)


def load_domain_config(data_dir: Path | str = DATA_DIR) -> DomainConfig:
    """Read calendar.yaml, deadlines.yaml, responsible_leaders.yaml and handling_units.yaml from `data_dir`."""
    folder = Path(data_dir)
    return DomainConfig(
        calendar=load_work_calendar(folder / "calendar.yaml"),
        deadlines=load_deadlines(folder / "deadlines.yaml"),
        routing=load_routing_rules(folder / "responsible_leaders.yaml", folder / "handling_units.yaml"),
        review_bodies=load_review_bodies(folder / "review_bodies.yaml"),
    )


def script_helpers(session: Session, config: DomainConfig | None = None,
                   secret: str = "") -> dict[str, Callable[..., Any]]:
    """Return the helpers by the names scripts call them; `session` serves the org lookups.

    `secret` is the deployment secret the case records key ID numbers with (repeat search).

    Without `config`, the data files shipped in workflows/data/ apply.
    """
    config = config or packaged_config()
    calendar = config.calendar

    def add_days(iso: str, n: int) -> str:
        return _iso(calendar.add_days(_moment(iso, calendar, "add_days"), _whole(n, "add_days")))

    def add_working_days(iso: str, n: int) -> str:
        moment = _moment(iso, calendar, "add_working_days")
        return _iso(calendar.add_working_days(moment, _whole(n, "add_working_days")))

    def end_of_workday(iso: str) -> str:
        return _iso(calendar.end_of_workday(_moment(iso, calendar, "end_of_workday")))

    def statutory_deadline(limit: str, iso: str) -> str:
        moment = _moment(iso, calendar, "statutory_deadline")
        return _iso(config.deadlines.due(limit, moment, calendar))

    def time_limit(limit: str) -> str:
        days = config.deadlines.day_limits().get(limit)
        if days is None:
            raise ScriptArgumentError(f"time_limit: unknown limit {limit!r} (see workflows/data/deadlines.yaml)")
        return f"P{days}D"

    def extended_deadline(iso: str, days: int) -> str:
        moment = _moment(iso, calendar, "extended_deadline")
        return _iso(config.deadlines.extend(moment, _whole(days, "extended_deadline"), calendar))

    def earlier_cases(id_number: Any, claim: Any, township: Any = None) -> list[dict[str, Any]]:
        from workflows.intake.repeats import earlier_cases as find  # intake builds on cases, not the reverse

        found = find(session, secret, _text(id_number), _text(claim), _text(township))
        return [case.as_data() for case in found]

    def handling_unit_problem(code: Any, accused_unit: Any = None, accused_person: Any = None) -> str:
        if not isinstance(code, str) or not code.strip():
            return "请从组织机构中选择承办单位"
        try:
            check_handling_unit(session, code, accused_unit=accused_unit or None,
                                accused_person=accused_person or None)
        except RoutingError as error:
            return str(error)
        return ""

    def review_bodies(handled_by: str) -> dict[str, str]:
        review, reexam = config.review_bodies.for_handler(session, handled_by)
        return {"review_unit": review, "reexam_unit": reexam}

    def responsible_leader(township: str, category: str) -> str:
        return find_leader(session, config.routing, township, category).username

    def report_month(iso: str) -> str:
        day = calendar.local_day(_moment(iso, calendar, "report_month"))
        year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
        return f"{year:04d}-{month:02d}"

    def first_day_of_next_month(iso: str) -> str:
        day = calendar.local_day(_moment(iso, calendar, "first_day_of_next_month"))
        first = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
        return _iso(calendar.at(first, REPORT_TIME))

    def monthly_figures(month: str) -> dict[str, Any]:
        return month_figures(session, config, month)

    def monthly_assessment(month: str) -> dict[str, Any]:
        return month_assessment(session, config, month)

    return {
        "add_days": add_days,
        "add_working_days": add_working_days,
        "end_of_workday": end_of_workday,
        "statutory_deadline": statutory_deadline,
        "extended_deadline": extended_deadline,
        "time_limit": time_limit,
        "earlier_cases": earlier_cases,
        "handling_unit_problem": handling_unit_problem,
        "review_bodies": review_bodies,
        "responsible_leader": responsible_leader,
        "report_month": report_month,
        "first_day_of_next_month": first_day_of_next_month,
        "monthly_figures": monthly_figures,
        "monthly_assessment": monthly_assessment,
    }


def month_figures(session: Session, config: DomainConfig, month: str) -> dict[str, Any]:
    """The county's figures of a local month ("YYYY-MM"), as the monthly report counts them (reports/monthly.py)."""
    try:
        return report_figures(session, str(month), zone=config.calendar.timezone,
                               group_threshold=config.deadlines.group_visit_threshold)
    except ReportError as error:
        raise ScriptArgumentError(f"monthly_figures: {error}") from None


def month_assessment(session: Session, config: DomainConfig, month: str) -> dict[str, Any]:
    """一月一考核、一月一兑现 of a local month: scores, township ranking and reward list (reports/assessment.py)."""
    try:
        report = monthly_report(session, str(month), zone=config.calendar.timezone,
                                group_threshold=config.deadlines.group_visit_threshold)
    except ReportError as error:
        raise ScriptArgumentError(f"monthly_assessment: {error}") from None
    return assessment_dict(assess(report))


def _moment(value: Any, calendar: WorkCalendar, helper: str) -> datetime:
    """Read an ISO 8601 datetime (with offset) or date (local midnight) given to `helper`."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return calendar.at(date.fromisoformat(text), time(0, 0))
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ScriptArgumentError(f"{helper}: {value!r} is not an ISO 8601 date or datetime") from None
    else:
        raise ScriptArgumentError(f"{helper}: expected an ISO 8601 text, not {type(value).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ScriptArgumentError(f"{helper}: {value!r} has no time zone offset (write e.g. +08:00 or Z)")
    return moment


def _whole(value: Any, helper: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ScriptArgumentError(f"{helper}: the number of days must be a whole number, not {value!r}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()

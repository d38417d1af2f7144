"""The report page's charts: the intake of recent months by channel, and the month's petitions by category.

Counted as the monthly report counts (figures.yaml), each from one grouped query over the registration index.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from workflows.cases.record import CaseRecord
from workflows.reports.definitions import FigureRules, packaged_figure_rules
from workflows.reports.monthly import ReportError, count_if, month_period, shift_month, township_unit


@dataclass
class MonthIntake:
    """Petitions received in one month, by channel (a point of the trend chart)."""

    month: str
    petitions: int = 0  # 信访总量: cases of the petition_total channels (visits in 批次, the rest in 件)
    visit_batches: int = 0
    visit_persons: int = 0
    letters: int = 0
    phone_calls: int = 0
    online_messages: int = 0  # 网上留言, apart from 信访总量


def monthly_trend(session: Session, month: str, *, months: int = 12, township: str | None = None,
                  zone: ZoneInfo | None = None, rules: FigureRules | None = None) -> list[MonthIntake]:
    """The intake of the `months` months ending with `month`, oldest first, from one grouped query."""
    zone = zone or ZoneInfo("Asia/Shanghai")
    rules = rules or packaged_figure_rules()
    last = month_period(month, zone)
    if months < 1:
        raise ReportError(f"a trend needs at least one month, not {months}")
    town = township_unit(session, township) if township else None
    periods = [month_period(shift_month(last.label, by), zone) for by in range(1 - months, 1)]
    r = CaseRecord
    visit = r.channel == "visit"
    # The month of each record, as the index of the first period it ends before: portable SQL. The WHERE clause
    # is only the range on registered_at (ix_case_record_registered / _township_registered); the channels are
    # told apart in the sums, as a channel condition there would lead SQLite to the far less selective
    # ix_case_record_channel.
    bucket = case(*((r.registered_at < p.end, index) for index, p in enumerate(periods))).label("bucket")
    query = (select(bucket, count_if(r.channel.in_(rules.petition_channels)).label("petitions"),
                    count_if(visit).label("visit_batches"), count_if(visit, r.headcount).label("visit_persons"),
                    count_if(r.channel == "letter").label("letters"),
                    count_if(r.channel == "phone").label("phone_calls"),
                    count_if(r.channel.in_(rules.internet_channels)).label("online_messages"))
             .where(r.registered_at >= periods[0].start, r.registered_at < periods[-1].end)
             .group_by(bucket))
    if town is not None:
        query = query.where(r.township == town.code)
    points = [MonthIntake(p.label) for p in periods]
    for row in session.execute(query):
        values = row._mapping
        point = points[int(values["bucket"])]
        for key, value in values.items():
            if key != "bucket":
                setattr(point, key, int(value or 0))
    return points


def category_counts(session: Session, month: str, *, township: str | None = None, zone: ZoneInfo | None = None,
                    rules: FigureRules | None = None) -> list[tuple[str | None, int]]:
    """Petitions registered in `month` by claim category (None: not given), most first, from one grouped query."""
    zone = zone or ZoneInfo("Asia/Shanghai")
    rules = rules or packaged_figure_rules()
    period = month_period(month, zone)
    town = township_unit(session, township) if township else None
    r = CaseRecord
    query = (select(r.category, count_if(r.channel.in_(rules.petition_channels)).label("petitions"))
             .where(r.registered_at >= period.start, r.registered_at < period.end)  # channels: see monthly_trend
             .group_by(r.category))
    if town is not None:
        query = query.where(r.township == town.code)
    found = [(category, int(count)) for category, count in session.execute(query) if count]
    return sorted(found, key=lambda item: (-item[1], item[0] or "\uffff"))

"""The report page's chart figures: the monthly trend and the petitions by category, against hand-built cases."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.workflows.test_report import add_case, local
from workflows.reports.monthly import (
    ReportError,
    monthly_report,
)
from workflows.reports.trend import category_counts, monthly_trend


@pytest.fixture
def county(small_org: Session) -> Session:
    """The small org (2 townships, 5 villages) with no cases yet."""
    return small_org


def test_the_trend_counts_each_month_by_channel_oldest_first(county: Session):
    add_case(county, local(2025, 3, 3, 9), "visit", headcount=3)
    add_case(county, local(2025, 3, 31, 23, 59), "letter")  # the last minute of March, Xupu time
    add_case(county, local(2025, 4, 1, 0, 0), "online")  # the first minute of April
    add_case(county, local(2025, 1, 15, 9), "phone", township="t02", village="t02v01")
    add_case(county, local(2025, 2, 10, 9), "grid")  # a grid report is not a petition
    add_case(county, local(2024, 12, 31, 9), "visit")  # before the window

    trend = monthly_trend(county, "2025-04", months=4)

    assert [p.month for p in trend] == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert [p.petitions for p in trend] == [1, 0, 2, 0]  # the online message is counted apart
    march = trend[2]
    assert (march.visit_batches, march.visit_persons, march.letters, march.online_messages) == (1, 3, 1, 0)
    assert (trend[0].phone_calls, trend[3].online_messages) == (1, 1)


def test_the_trend_agrees_with_the_monthly_report_and_narrows_to_a_township(county: Session):
    for month in range(1, 13):
        for _ in range(month % 4):
            add_case(county, local(2024, month, 28, 20), "visit", headcount=2)
        add_case(county, local(2024, month, 2, 9), "online", township="t02", village="t02v02")

    trend = monthly_trend(county, "2024-12")
    assert len(trend) == 12
    for point in trend:
        figures = monthly_report(county, point.month).scope.current
        assert (point.petitions, point.visit_batches, point.visit_persons) == (
            figures.petitions, figures.visit_batches, figures.visit_persons)
    assert [p.online_messages for p in monthly_trend(county, "2024-12", township="云岭乡")] == [1] * 12
    assert [p.petitions for p in monthly_trend(county, "2024-12", township="云岭乡")] == [0] * 12
    assert sum(p.visit_persons for p in monthly_trend(county, "2024-12", township="t01")) == 2 * 18


def test_a_trend_month_must_be_written_yyyy_mm(county: Session):
    with pytest.raises(ReportError):
        monthly_trend(county, "2025-13")
    with pytest.raises(ReportError):
        monthly_trend(county, "2025-03", months=0)


def test_petitions_by_category_most_first(county: Session):
    for category in ("land", "land", "wages", "land", "wages", "housing"):
        add_case(county, local(2025, 3, 5, 9), "letter", category=category)
    add_case(county, local(2025, 3, 5, 9), "grid", category="housing")  # not a petition
    add_case(county, local(2025, 2, 5, 9), "letter", category="housing")  # another month
    add_case(county, local(2025, 3, 5, 9), "online", township="t02", village="t02v01", category="wages")  # apart
    add_case(county, local(2025, 3, 5, 9), "phone", township="t02", village="t02v01", category="wages")

    assert category_counts(county, "2025-03") == [("land", 3), ("wages", 3), ("housing", 1)]
    assert category_counts(county, "2025-03", township="t02") == [("wages", 1)]
    assert category_counts(county, "2025-04") == []


def test_the_trend_and_category_queries_use_the_registration_indexes(county: Session):
    if county.get_bind().dialect.name != "sqlite":
        pytest.skip("reads SQLite's query plan")
    sent: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001 - SQLAlchemy's hook
        if "case_record" in statement:
            sent.append((statement, parameters))

    engine = county.get_bind()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        monthly_trend(county, "2025-03")
        category_counts(county, "2025-03", township="t01")
    finally:
        event.remove(engine, "before_cursor_execute", remember)

    assert len(sent) == 2  # one grouped query each
    plans = [" ".join(str(row[-1]) for row in county.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, args))
             for sql, args in sent]
    assert "ix_case_record_registered" in plans[0], plans[0]
    assert "ix_case_record_township_registered" in plans[1], plans[1]

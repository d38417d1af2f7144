"""The year view: twelve months counted as the monthly report, villages' zero-visit months, townships ranked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflows.reports.monthly import monthly_report
from workflows.reports.year import year_view

from .test_report import add_case, local


def test_twelve_months_of_each_figure_agree_with_the_monthly_reports(small_org: Session):
    add_case(small_org, local(2024, 4, 3, 9), "visit", headcount=3)  # the first month of the window
    add_case(small_org, local(2024, 3, 31, 9), "visit")  # the month before: outside
    add_case(small_org, local(2024, 9, 3, 9), "online", township="t02", village="t02v01")
    add_case(small_org, local(2025, 3, 3, 9), "visit", process_id="petition", handed_down_from="province",
             village="t01v02", closed=local(2025, 3, 20, 9), satisfaction="satisfied")

    view = year_view(small_org, "2025-03")

    assert view.months[0] == "2024-04" and view.months[-1] == "2025-03" and len(view.trend) == 12
    assert view.series("visit_batches") == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert view.series("visit_persons")[0] == 3 and view.series("online_messages")[5] == 1
    assert view.series("bypass_visits")[-1] == 1 and view.series("satisfaction_rate")[-1] == 1.0
    assert view.series("on_time_rate")[0] is None  # nothing closed in April
    for index in (0, 5, 11):
        month = monthly_report(small_org, view.months[index]).scope.current
        assert view.trend[index] == month


def test_villages_by_zero_visit_months_and_townships_ranked_by_their_average_score(small_org: Session):
    add_case(small_org, local(2024, 4, 3, 9), "visit", village="t01v01")
    add_case(small_org, local(2024, 5, 3, 9), "visit", village="t01v01", headcount=5)  # a group visit: −5
    add_case(small_org, local(2024, 6, 3, 9), "letter", village="t01v02")  # not a visit: still zero-visit

    view = year_view(small_org, "2025-03")

    zero = {v.place.code: v.zero_count for t in view.townships for v in t.villages}
    assert zero == {"t01v01": 10, "t01v02": 12, "t01v03": 12, "t02v01": 12, "t02v02": 12}
    assert view.zero_visit_counts[:3] == [4, 4, 5]
    t02, t01 = view.townships  # 云岭乡 kept full marks all year
    assert (t02.place.code, t02.average, t02.zero_village_months) == ("t02", 100.0, 24)
    # 青溪镇: April 60 + 10 × 2/3 + 30 = 96.7; May 96.7 − 5 = 91.7; the other ten months 100.
    assert t01.scores[:3] == [96.7, 91.7, 100.0] and t01.average == round((96.7 + 91.7 + 1000) / 12, 1)
    assert t01.visit_batches == 2


def test_a_township_year_holds_only_its_villages(small_org: Session):
    add_case(small_org, local(2025, 1, 3, 9), "visit", township="t02", village="t02v02")
    view = year_view(small_org, "2025-03", township="云岭乡")
    assert view.scope.code == "t02" and [t.place.code for t in view.townships] == ["t02"]
    assert [v.place.code for v in view.townships[0].villages] == ["t02v01", "t02v02"]
    assert view.series("visit_batches")[-3] == 1 and sum(view.series("visit_batches")) == 1

"""The report page's year view: the trend table with sparklines, the county map, the township ranking."""

from __future__ import annotations

import re

from .test_reports_pages import cells, two_months  # noqa: F401  (two_months is a fixture)


def test_the_county_year_shows_each_figure_the_map_and_the_ranking(two_months, browser):  # noqa: F811
    page = browser("bureau1").get("/reports/year?month=2026-02")

    assert page.status_code == 200
    row = cells(page, "y-visit_batches")
    assert row[0] == "来访批次" and row[-2:] == ["1", "2"] and len(row) == 2 + 12  # heading, sparkline, 12 months
    assert cells(page, "y-petitions")[-1] == "5" and cells(page, "y-online_messages")[-1] == "0"
    assert cells(page, "y-on_time_rate")[-1] == "50.0%" and cells(page, "y-zero_visit_villages")[-1] == "2"
    assert "<polyline" in page.text
    # The map: one square per village, its zero-visit months in the title.
    squares = dict(re.findall(r'<rect data-code="(\w+)" data-zero="(\d+)"', page.text))
    assert squares == {"t01v01": "10", "t01v02": "12", "t02v01": "12"}  # 桃园 had visits in Jan and Feb 2026
    assert "桃园社区：10个月零上访" in page.text
    # The ranking by average score: 青溪镇 (2 villages) lost 5 in January (桃园's visit) and 10 in February (its
    # visits, one a group): (95 + 90 + 10 × 100) / 12 = 98.75; 云岭乡 lost 17 in February (one of its two cases
    # overdue, one of two ratings unhappy): (83 + 11 × 100) / 12 = 98.58.
    assert cells(page, "t01")[:4] == ["1", "青溪镇", "98.8", "90"]
    assert cells(page, "t02")[:4] == ["2", "云岭乡", "98.6", "83"]


def test_a_township_leader_gets_their_township_year_only(two_months, browser):  # noqa: F811
    leader = browser("t01.leader.land")
    page = leader.get("/reports/year?month=2026-02")
    assert page.status_code == 200 and "青溪镇信访工作全年走势" in page.text
    assert 'data-code="t02v01"' not in page.text
    assert leader.get("/reports/year?month=2026-02&township=t02").status_code == 403
    assert browser("t01v01.secretary").get("/reports/year").status_code == 403


def test_the_monthly_page_links_to_the_year(two_months, browser):  # noqa: F811
    page = browser("bureau1").get("/reports/monthly?month=2026-02")
    assert 'href="/reports/year?month=2026-02"' in page.text

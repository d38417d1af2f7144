"""The monthly report pages: figures against case records written by hand, the CSV, the A4 print page, and who
may see which scope.

The test org (tests/web/data/org.yaml): 溆浦县 with 青溪镇 (t01: 桃园社区 t01v01, 杉坡村 t01v02) and 云岭乡 (t02: 栗垄村
t02v01). The business clock stands at 2026-03-02, so the page opens on 2026-02 by default.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from doorstep.services import Services
from engine.models import Instance, ProcessVersion
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import packaged_config
from workflows.reports.monthly import monthly_report
from workflows.reports.text import report_csv

from .conftest import Desk
from .pages import text_of

LOCAL = ZoneInfo("Asia/Shanghai")
ROUTES = {"visit": "reception", "letter": "petition", "phone": "petition", "online": "online_message"}
NUMBERS = count(1)


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL)


def add_case(session: Session, registered: datetime, channel: str = "visit", *, township: str = "t01",
             village: str = "t01v01", headcount: int = 1, category: str = "land", on_the_spot: bool = False,
             closed: datetime | None = None, overdue: bool = False, satisfaction: str | None = None) -> None:
    """Write one case record (and its instance row) exactly as given."""
    version = session.scalar(select(ProcessVersion.id).order_by(ProcessVersion.id).limit(1))
    route = ROUTES[channel]
    instance = Instance(process_version_id=version, process_id=route, status="completed" if closed else "running",
                        state="{}", started_at=registered, started_by="test", updated_at=registered, event_count=0)
    session.add(instance)
    session.flush()
    number = next(NUMBERS)
    session.add(CaseRecord(
        instance_id=instance.id, case_number=f"XP-T{number}", query_code=f"QT{number}", process_id=route,
        channel=channel, petitioners=[], headcount=headcount, is_group=headcount >= 5, category=category,
        township=township, village=village, track=route, status="closed" if closed else "open",
        registered_at=registered, closed_at=closed, deadlines={}, overdue=overdue, on_the_spot=on_the_spot,
        remedies=[], satisfaction=satisfaction, rating_source="petitioner" if satisfaction else None,
        rated_at=closed if satisfaction else None, visit_level="township" if channel == "visit" else None,
        competent_level="township"))


@pytest.fixture
def two_months(services: Services) -> Services:
    """February 2026 with January before it and one case a year earlier (see each line)."""
    with services.unit_of_work() as session:
        # February 2026: 青溪镇 桃园社区 two visits (3 and 5 people, one answered on the spot) and a letter;
        # 云岭乡 栗垄村 two phone calls. 杉坡村 has none: it is a zero-visit village (栗垄村 too: calls are no visits).
        add_case(session, local(2026, 2, 3, 9), "visit", headcount=3, on_the_spot=True, category="labor")
        add_case(session, local(2026, 2, 10, 10), "visit", headcount=5, category="land")
        add_case(session, local(2026, 2, 28, 23, 50), "letter", category="land")  # the month's last minutes
        add_case(session, local(2026, 2, 5, 20), "phone", township="t02", village="t02v01", category="labor",
                 closed=local(2026, 2, 20, 9), satisfaction="satisfied")
        add_case(session, local(2026, 2, 6, 20), "phone", township="t02", village="t02v01", category="land",
                 closed=local(2026, 2, 25, 9), overdue=True, satisfaction="dissatisfied")
        # January 2026: 桃园社区 one visit, 杉坡村 one letter.
        add_case(session, local(2026, 1, 12, 9), "visit", category="land")
        add_case(session, local(2026, 1, 13, 9), "letter", village="t01v02", category="housing")
        # February 2025: 栗垄村 one visit of two people.
        add_case(session, local(2025, 2, 14, 9), "visit", township="t02", village="t02v01", headcount=2)
        # March 2026 (the current month): not in February's figures.
        add_case(session, local(2026, 3, 1, 0, 5), "visit", headcount=4)
    return services


def cells(response: TestResponse, row_id: str) -> list[str]:
    """The texts of the cells of the table row with this id (or data-code)."""
    found = re.search(rf'<tr (?:id|data-code)="{re.escape(row_id)}">(.*?)</tr>', response.text, re.S)
    assert found, f"no row {row_id}"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1),
                                                                           re.S)]


def charts(response: TestResponse) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="report-charts">(.*?)</script>', response.text, re.S)
    assert found
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def report_of(services: Services, month: str, township: str | None = None) -> str:
    config = packaged_config()
    with services.unit_of_work() as session:
        return report_csv(monthly_report(session, month, township=township, zone=config.calendar.timezone,
                                         group_threshold=config.deadlines.group_visit_threshold))


# -- the figures ----------------------------------------------------------------------------------------------------

def test_the_county_page_shows_the_months_figures_and_their_changes(two_months, browser):
    page = browser("bureau1").get("/reports/monthly?month=2026-02")

    assert page.status_code == 200
    # 指标 | 本月 | 上月 | 环比 | 去年同月 | 同比
    assert cells(page, "m-petitions") == ["信访总量", "5", "2", "+3（+150.0%）", "1", "+4（+400.0%）"]
    assert cells(page, "m-visit_batches")[:4] == ["来访批次", "2", "1", "+1（+100.0%）"]
    assert cells(page, "m-visit_persons")[:6] == ["来访人次", "8", "1", "+7（+700.0%）", "2", "+6（+300.0%）"]
    assert cells(page, "m-letters")[:3] == ["来信(件)", "1", "1"]
    assert cells(page, "m-online_messages")[1] == "0" and cells(page, "m-phone_calls")[1] == "2"
    assert cells(page, "m-group_visits")[1] == "1"  # 5 people: exactly the threshold
    assert cells(page, "m-on_the_spot_rate")[1] == "50.0%"
    assert cells(page, "m-closed")[1] == "2" and cells(page, "m-overdue")[1] == "1"
    assert cells(page, "m-on_time_rate")[1] == "50.0%"
    assert cells(page, "m-satisfied")[1] == "1" and cells(page, "m-dissatisfied")[1] == "1"
    text = text_of(page)
    assert "本月信访总量5件（批），环比+3，同比+4。其中来访2批8人次" in text
    # The townships, each with its change from the previous month.
    assert cells(page, "t01")[:5] == ["青溪镇", "3", "2", "8", "1"]
    assert cells(page, "t01")[-2:] == ["+1", "+3"]
    assert cells(page, "t02")[:2] == ["云岭乡", "2"] and cells(page, "t02")[-2:] == ["+2", "+1"]
    # The reward list: 杉坡村 and 栗垄村 had no visit in February (栗垄村's calls are no visits).
    zero = page.text[page.text.index('id="zero"'):]
    assert "本月2个村（社区）零上访，占3个的66.7%；兑现奖励合计2500元。" in text
    assert "杉坡村" in zero and "栗垄村" in zero and "桃园社区" not in zero
    # The scores: 云岭乡 lost 10 of 20 points on time (one of two overdue), 5 of 10 on satisfaction, 2 for overdue.
    assert cells(page, "t02")[:2] == ["云岭乡", "2"]
    scores = page.text[page.text.index('id="township-scores"'):]
    assert re.search(r'data-code="t01">.*?<td class="num">1</td>', scores, re.S)  # 青溪镇 ranks first


def test_the_page_opens_on_the_month_before_the_business_clock(two_months, browser):
    page = browser("bureau1").get("/reports/monthly")

    assert page.status_code == 200
    assert "2026年2月" in text_of(page) and 'value="2026-02"' in page.text
    assert cells(page, "m-petitions")[1] == "5"


def test_the_charts_get_the_trend_the_places_and_the_categories(two_months, browser):
    page = browser("bureau1").get("/reports/monthly?month=2026-02")

    data = charts(page)
    trend = data["trend"]
    assert len(trend["labels"]) == 12 and trend["labels"][-1] == "2026年2月" and trend["labels"][0] == "2025年3月"
    assert [one["label"] for one in trend["series"]] == ["来访（批次）", "来信", "来电", "网上留言"]
    totals = [sum(values) for values in zip(*(one["values"] for one in trend["series"]), strict=True)]
    assert totals[-2:] == [2, 5] and sum(totals) == 7  # February 2025 is outside the 12 months
    assert trend["persons"][-1] == 8
    assert data["places"]["labels"] == ["青溪镇", "云岭乡"] and data["places"]["current"] == [3, 2]
    assert data["places"]["previous"] == [2, 0]
    assert data["categories"] == {"labels": ["土地征收", "劳动就业"], "values": [3, 2]}
    assert data["satisfaction"]["values"] == [0, 1, 0, 1, 0]
    # Drawn by chart.js served from node_modules, not a CDN; the tables are there without the script.
    assert '<script src="/vendor/chart.js/chart.umd.min.js">' in page.text
    assert "http" not in "".join(re.findall(r'<script src="([^"]+)"', page.text))
    assert 'id="trend-table"' in page.text and 'id="category-table"' in page.text


def test_chart_js_is_served_from_node_modules(client):
    with client.get("/vendor/chart.js/chart.umd.min.js") as script:
        assert script.status_code == 200 and b"Chart" in script.data
    with client.get("/static/reports.js") as script:
        assert script.status_code == 200 and b"window.Chart" in script.data and b"report-charts" in script.data


def test_a_case_registered_at_the_reception_desk_counts_in_its_month(services, browser, desk: Desk):
    desk.visit(headcount=2)  # 2026-03-02, through the engine and the case projection

    page = browser("bureau1").get("/reports/monthly?month=2026-03")

    assert cells(page, "m-visit_batches")[1] == "1" and cells(page, "m-visit_persons")[1] == "2"
    assert cells(page, "t01")[1] == "1"


# -- CSV and the print page -----------------------------------------------------------------------------------------

def test_the_csv_is_the_same_as_the_command_lines(two_months, browser):
    response = browser("bureau1").get("/reports/monthly.csv?month=2026-02")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="monthly-report-2026-02-county.csv"')
    assert response.data.decode("utf-8-sig") == report_of(two_months, "2026-02")
    assert response.data.startswith("\ufeff".encode())  # Excel reads it as UTF-8


def test_the_township_csv_holds_only_that_township(two_months, browser):
    response = browser("t01.leader.land").get("/reports/monthly.csv?month=2026-02")

    body = response.data.decode("utf-8-sig")
    assert body == report_of(two_months, "2026-02", "t01")
    assert "栗垄村" not in body and "杉坡村" in body


def test_the_print_page_is_the_notice_as_posted(two_months, browser):
    page = browser("bureau1").get("/reports/monthly/print?month=2026-02")

    assert page.status_code == 200
    text = text_of(page)
    assert "溆浦县信访工作月度通报" in text and "（2026年2月）" in text
    assert "一、总体情况" in text and "二、各乡镇情况" in text and "五、零上访村（社区）（一月一兑现奖励名单）" in text
    assert "本月信访总量5件（批）" in text and "四、一月一考核" in text
    assert cells(page, "m-petitions")[1:4] == ["5", "2", "+3（+150.0%）"]
    assert "<nav" not in page.text and "我的待办" not in text and "<script" not in page.text
    assert "reports_print.css" in page.text
    with browser("bureau1").get("/static/reports_print.css") as style:
        assert b"@page" in style.data and b"A4" in style.data


# -- who sees what --------------------------------------------------------------------------------------------------

def test_a_township_leader_sees_their_township_only(two_months, browser):
    leader = browser("t01.leader.land")
    page = leader.get("/reports/monthly?month=2026-02")

    assert page.status_code == 200
    assert "青溪镇信访工作月度通报" in text_of(page)
    assert cells(page, "m-petitions")[1:4] == ["3", "2", "+1（+50.0%）"]
    assert cells(page, "t01v01")[:2] == ["桃园社区", "3"] and cells(page, "t01v02")[:2] == ["杉坡村", "0"]
    assert "栗垄村" not in page.text and "云岭乡" not in page.text
    assert '<option value="">全县</option>' not in page.text
    notice = text_of(leader.get("/reports/monthly/print?month=2026-02"))
    assert "溆浦县信访工作月度通报" in notice and "（2026年2月 · 青溪镇）" in notice
    assert "二、各村（社区）信访情况（本月或上月有信访的2个）" in notice and "三、一月一考核" in notice \
        and "四、零上访村（社区）" in notice
    assert "栗垄村" not in notice
    assert leader.get("/reports/monthly?month=2026-02&township=t01").status_code == 200
    assert leader.get("/reports/monthly?month=2026-02&township=青溪镇").status_code == 200
    for other in ("t02", "云岭乡", "xupu", "溆浦县", "nowhere"):
        for path in ("/reports/monthly", "/reports/monthly.csv", "/reports/monthly/print"):
            assert leader.get(f"{path}?month=2026-02&township={other}").status_code == 403, (path, other)


def test_the_township_cadre_reads_their_township_and_the_other_leader_theirs(two_months, browser):
    cadre = browser("t01.cadre").get("/reports/monthly?month=2026-02")
    assert cadre.status_code == 200 and "青溪镇信访工作月度通报" in text_of(cadre)
    other = browser("t02.leader")
    page = other.get("/reports/monthly?month=2026-02")
    assert "云岭乡信访工作月度通报" in text_of(page) and cells(page, "t02v01")[:2] == ["栗垄村", "2"]
    assert other.get("/reports/monthly?month=2026-02&township=t01").status_code == 403


def test_the_county_bureau_sees_the_county_and_any_township(two_months, browser):
    bureau = browser("bureau1")
    page = bureau.get("/reports/monthly?month=2026-02&township=t02")
    assert "云岭乡信访工作月度通报" in text_of(page) and cells(page, "m-petitions")[1] == "2"
    assert bureau.get("/reports/monthly?month=2026-02&township=青溪镇").status_code == 200
    assert "溆浦县信访工作月度通报" in text_of(bureau.get("/reports/monthly?month=2026-02&township=xupu"))
    unknown = bureau.get("/reports/monthly?month=2026-02&township=nowhere")
    assert unknown.status_code == 400 and "没有找到乡镇" in text_of(unknown)


@pytest.mark.parametrize("username", ["auditor1", "t01v01.secretary", "t01v01g01.worker", "hrss.handler",
                                      "designer1", "county.leader1"])
def test_others_are_refused(two_months, browser, username):
    someone = browser(username)
    for path in ("/reports/monthly", "/reports/monthly.csv", "/reports/monthly/print"):
        assert someone.get(f"{path}?month=2026-02").status_code == 403, path


def test_the_nav_offers_the_report_to_its_readers_only(browser):
    assert "/reports/monthly" in browser("bureau1").get("/inbox").text
    assert "/reports/monthly" in browser("t01.leader.land").get("/inbox").text
    assert "/reports/monthly" not in browser("auditor1").get("/inbox").text


def test_without_a_login_the_report_asks_to_log_in(client):
    response = client.get("/reports/monthly?month=2026-02")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "abc", "2026-2", "202602", "2026-02-01"])
def test_a_month_not_written_yyyy_mm_is_answered_400_in_chinese(browser, month):
    for path in ("/reports/monthly", "/reports/monthly.csv", "/reports/monthly/print"):
        response = browser("bureau1").get(path, query_string={"month": month})
        assert response.status_code == 400, path
        assert f"月份“{month}”有误：请按“年-月”填写，例如 2026-02。" in text_of(response)


def test_a_month_still_to_come_is_answered_400(browser):
    response = browser("bureau1").get("/reports/monthly?month=2026-04")
    assert response.status_code == 400 and "2026-04 还没有到" in text_of(response)
    assert browser("bureau1").get("/reports/monthly?month=2026-03").status_code == 200

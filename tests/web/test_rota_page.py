"""The /rota page: a township's month of reception duty; its petition cadres and the county bureau change it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from workflows.org.models import RotaChange
from workflows.org.rota import on_duty

from .pages import errors_of, foreign_text, text_of


def _secretaries(services, *days: str) -> list[str]:
    with services.unit_of_work() as session:
        return [on_duty(session, "t01", date.fromisoformat(day)).secretary.username for day in days]


def _changes(services) -> list[tuple[str, str, str]]:
    with services.unit_of_work() as session:
        changes = session.scalars(select(RotaChange).order_by(RotaChange.id))
        return [(c.actor, c.action, c.township.code) for c in changes]


def test_a_cadre_sees_the_month_of_the_township_with_the_forms(browser):
    page = browser("t01.cadre").get("/rota")
    assert page.status_code == 200
    text = text_of(page)
    assert "青溪镇坐班接访排班 · 2026-03" in text and "接访排班" in text.split("青溪镇坐班")[0]  # nav link
    rows = page.text.split('<tbody>')[1].split('</tbody>')[0].count("<tr ")
    assert rows == 10  # the fixture's rota: the workdays of 2026-03-02 .. 03-15
    assert "2026-03-02 周一 张伟（桃园社区） 周明" in text and "2026-03-03 周二 刘静（杉坡村） 周明" in text
    assert "2026-03-07" not in text  # a Saturday
    assert "换班" in text and "改派" in text and 'method="post" action="/rota"' in page.text
    assert "云岭乡" not in text  # one township: no choice of others
    assert foreign_text(page) == []


def test_swapping_two_days_through_the_page_is_saved_and_recorded(browser, services):
    assert _secretaries(services, "2026-03-03", "2026-03-04") == ["t01v02.secretary", "t01v01.secretary"]
    done = browser("t01.cadre").post("/rota", {"action": "swap", "township": "t01", "month": "2026-03",
                                               "first": "2026-03-03", "second": "2026-03-04"})
    assert done.status_code == 302 and done.headers["Location"] == "/rota?township=t01&month=2026-03"
    assert _secretaries(services, "2026-03-03", "2026-03-04") == ["t01v01.secretary", "t01v02.secretary"]
    assert _changes(services) == [("t01.cadre", "swap", "t01")]


def test_reassigning_a_day_names_the_field_at_fault_and_saves_nothing(browser, services):
    cadre = browser("t01.cadre")
    for fields, key, words in [
        ({"day": "2026-02-27", "secretary": "t01v02.secretary"}, "reassign-day", "已经过去"),
        ({"day": "2026-03-07", "secretary": "t01v02.secretary"}, "reassign-day", "不是工作日"),
        ({"day": "2026-03-0x", "secretary": "t01v02.secretary"}, "reassign-day", "请填写日期"),
        ({"day": "2026-03-02", "secretary": "t02v01.secretary"}, "reassign-secretary", "不是青溪镇（t01）所辖村"),
        ({"day": "2026-03-02", "cadre": "t02.cadre"}, "reassign-cadre", "不是青溪镇（t01）的乡镇信访干部"),
        ({"day": "2026-03-02"}, "reassign-secretary", "请选择改派"),
    ]:
        refused = cadre.post("/rota", {"action": "reassign", "township": "t01", "month": "2026-03", **fields})
        assert refused.status_code == 422, fields
        assert words in errors_of(refused).get(key, ""), (fields, errors_of(refused))
    assert _secretaries(services, "2026-03-02") == ["t01v01.secretary"] and _changes(services) == []
    done = cadre.post("/rota", {"action": "reassign", "township": "t01", "day": "2026-03-02",
                                "secretary": "t01v02.secretary"})
    assert done.status_code == 302
    assert _secretaries(services, "2026-03-02") == ["t01v02.secretary"]
    assert _changes(services) == [("t01.cadre", "reassign", "t01")]


def test_a_village_cadre_reads_but_cannot_change(browser, services):
    village = browser("t01v01.cadre")
    page = village.get("/rota")
    assert page.status_code == 200 and "2026-03-02" in page.text and 'method="post" action="/rota"' not in page.text
    refused = village.post("/rota", {"action": "swap", "township": "t01", "first": "2026-03-03",
                                     "second": "2026-03-04"})
    assert refused.status_code == 403
    assert _secretaries(services, "2026-03-03") == ["t01v02.secretary"] and _changes(services) == []


def test_another_townships_cadre_neither_sees_nor_changes_it(browser, services):
    other = browser("t02.cadre")
    assert "云岭乡坐班接访排班" in text_of(other.get("/rota"))
    assert other.get("/rota?township=t01").status_code == 403
    refused = other.post("/rota", {"action": "swap", "township": "t01", "first": "2026-03-03", "second": "2026-03-04"})
    assert refused.status_code == 403
    assert _secretaries(services, "2026-03-03") == ["t01v02.secretary"] and _changes(services) == []


def test_the_county_bureau_changes_any_township_and_the_auditor_only_reads(browser, services):
    bureau = browser("bureau1")
    page = bureau.get("/rota?township=t02")
    assert page.status_code == 200 and "云岭乡坐班接访排班" in text_of(page)
    assert 'method="post" action="/rota"' in page.text
    done = bureau.post("/rota", {"action": "swap", "township": "t01", "first": "2026-03-03", "second": "2026-03-04"})
    assert done.status_code == 302 and _changes(services) == [("bureau1", "swap", "t01")]
    auditor = browser("auditor1")
    assert 'method="post" action="/rota"' not in auditor.get("/rota?township=t01").text
    assert auditor.post("/rota", {"action": "swap", "township": "t01", "first": "2026-03-03",
                                  "second": "2026-03-04"}).status_code == 403
    assert browser("hrss.handler").get("/rota").status_code == 403  # a county office holds no township seat


def test_a_township_offices_staff_read_their_townships_rota_and_get_the_link(browser, services):
    justice = browser("t01-justice.handler")  # 青溪镇司法所: an office of the township
    page = justice.get("/rota")
    assert page.status_code == 200 and "青溪镇坐班接访排班" in text_of(page)
    assert 'href="/rota"' in page.text and 'method="post" action="/rota"' not in page.text
    assert 'href="/rota"' in justice.get("/tasks").text
    assert justice.get("/rota?township=t02").status_code == 403
    refused = justice.post("/rota", {"action": "swap", "township": "t01", "first": "2026-03-03",
                                     "second": "2026-03-04"})
    assert refused.status_code == 403 and _changes(services) == []
    county_office = browser("hrss.handler")  # who may not read it gets no link to a refusal either
    assert 'href="/rota"' not in county_office.get("/tasks").text
    assert county_office.get("/rota").status_code == 403


def test_a_change_without_the_csrf_token_is_refused(browser, services):
    refused = browser("t01.cadre").post("/rota", {"action": "swap", "township": "t01", "first": "2026-03-03",
                                                  "second": "2026-03-04"}, csrf=False)
    assert refused.status_code == 400
    assert _secretaries(services, "2026-03-03") == ["t01v02.secretary"] and _changes(services) == []


def test_bad_months_and_actions_are_answered_without_a_500(browser):
    cadre = browser("t01.cadre")
    for month in ("2026-13", "x", "9999-12", "0001-01", "2026-02-30"):
        page = cadre.get(f"/rota?month={month}")
        assert page.status_code == 400 and "月份应写成" in errors_of(page)["month"], month
    assert cadre.get("/rota?month=2026-04").status_code == 200
    assert cadre.post("/rota", {"action": "burn", "township": "t01"}).status_code == 400

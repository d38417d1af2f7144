"""The petitioner's query page: status by query code without personal data, slowed-down attempts, one rating."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.models import Event
from workflows.cases.record import CaseRecord
from workflows.intake.petitioner_query import normalize_code

from .pages import text_of


def _code(services, case_id: int) -> str:
    with services.unit_of_work() as session:
        return session.get(CaseRecord, case_id).query_code


def _answered(desk) -> int:
    case_id = desk.visit()
    desk.complete(case_id, "hear_claim", {"disposition": "answer"}, "t01.cadre")
    desk.complete(case_id, "record_answer", {"answer": "复核结果本月公示", "outcome": "explain"}, "t01v01.secretary")
    return case_id


def test_the_query_page_is_public_and_shows_no_personal_data(browser, desk, services):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    public = browser()
    assert public.get("/query").status_code == 200
    code = _code(services, case_id)
    response = public.post("/query", {"code": f" {code[:4].lower()}-{code[4:]} "})
    assert response.status_code == 200
    text = text_of(response)
    assert f"XP2026-{case_id:06d}" in text and "社会保障" in text and "办理中" in text and "办理并报告" in text
    assert "督办办结期限 2026-03-20 17:30 未到期" in text
    for personal in ("王桂英", "431224", "13807451234", "1234", "桃园社区", "低保资格复核进度", "王芳", "hrss"):
        assert personal not in response.text, personal
    assert "提交评价" not in text  # not yet replied


def test_a_wrong_code_counts_and_ten_failures_slow_the_address_down(browser, desk, services):
    case_id = desk.visit()
    code = _code(services, case_id)
    public = browser()
    for guess in range(10):
        wrong = public.post("/query", {"code": f"AAAAAAAAAA{guess:02d}".replace("0", "Q").replace("1", "R")})
        assert wrong.status_code == 404 and "查询码不正确" in wrong.text
    locked = public.post("/query", {"code": code})
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "30"
    assert "查询失败次数过多，请30秒后再试" in locked.text
    assert "XP2026" not in locked.text
    other_address = public.client.post("/query", data={"code": code, "csrf_token": public.token},
                                       environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_address.status_code == 200
    desk.advance(timedelta(seconds=31))
    assert public.post("/query", {"code": code}).status_code == 200


def test_successful_queries_do_not_count(browser, desk, services):
    code = _code(services, desk.visit())
    public = browser()
    for _ in range(12):
        assert public.post("/query", {"code": code}).status_code == 200


def test_the_query_form_needs_the_csrf_token(browser, desk, services):
    code = _code(services, desk.visit())
    assert browser().post("/query", {"code": code}, csrf=False).status_code == 400


def test_a_closed_case_is_rated_once_and_the_rating_is_recorded(browser, desk, services):
    case_id = _answered(desk)
    code = _code(services, case_id)
    public = browser()
    page = public.post("/query", {"code": code})
    assert "已办结" in page.text and "解释说明" in page.text and "提交评价" in page.text
    rated = public.post("/query/rate", {"code": code, "satisfaction": "satisfied", "comment": "答复清楚"})
    assert rated.status_code == 200
    assert "感谢您的评价" in rated.text and "满意" in text_of(rated) and "提交评价" not in rated.text
    with services.unit_of_work() as session:
        assert session.get(CaseRecord, case_id).satisfaction == "satisfied"
        assert session.get(CaseRecord, case_id).rating_source == "petitioner"
        [event] = session.scalars(select(Event).where(Event.instance_id == case_id,
                                                      Event.type == "satisfaction_rated")).all()
        assert event.actor == "petitioner"
        assert event.data == {"satisfaction": "satisfied", "rating_source": "petitioner", "rating_comment": "答复清楚"}
    again = public.post("/query/rate", {"code": code, "satisfaction": "very_dissatisfied"})
    assert again.status_code == 409 and "不能重复评价" in again.text
    with services.unit_of_work() as session:
        assert session.get(CaseRecord, case_id).satisfaction == "satisfied"


def test_an_open_case_cannot_be_rated_yet(browser, desk, services):
    code = _code(services, desk.visit())
    response = browser().post("/query/rate", {"code": code, "satisfaction": "satisfied"})
    assert response.status_code == 409 and "办结后才能评价" in response.text


def test_a_rating_needs_a_choice(browser, desk, services):
    code = _code(services, _answered(desk))
    response = browser().post("/query/rate", {"code": code, "satisfaction": "great"})
    assert response.status_code == 409 and "请选择满意度" in response.text


def test_the_rating_task_of_a_petition_is_completed_through_the_engine(browser, desk, services):
    case_id = desk.petition()
    desk.complete(case_id, "village_resolve", {"resolved": True, "resolution_note": "已协调拆除", "outcome": "support",
                                               "reply": "已拆除猪圈"}, "t01v01.cadre")
    assert "rate" in desk.open_elements(case_id)
    code = _code(services, case_id)
    public = browser()
    assert "提交评价" in public.post("/query", {"code": code}).text
    assert public.post("/query/rate", {"code": code, "satisfaction": "very_satisfied"}).status_code == 200
    assert "rate" not in desk.open_elements(case_id)
    with services.unit_of_work() as session:
        events = session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == "task_completed")
                                 .order_by(Event.seq)).all()
        assert events[-1].actor == "petitioner" and events[-1].task_ref == "statutory/rate#1"
        assert events[-1].data["submitted"] == {"satisfaction": "very_satisfied", "rating_source": "petitioner"}
        assert session.get(CaseRecord, case_id).satisfaction == "very_satisfied"
    assert public.post("/query/rate", {"code": code, "satisfaction": "satisfied"}).status_code == 409


def test_a_wrong_code_on_the_rating_form_counts_as_a_failure(browser):
    public = browser()
    for guess in "BCDEFGHIJK":
        wrong = public.post("/query/rate", {"code": f"BBBBBBBBBBB{guess}", "satisfaction": "satisfied"})
        assert wrong.status_code == 404
    assert public.post("/query", {"code": "CCCCCCCCCCCC"}).status_code == 429


def test_codes_are_normalized():
    assert normalize_code(" abcd-efgh 2345 ") == "ABCDEFGH2345"
    assert normalize_code("") == ""

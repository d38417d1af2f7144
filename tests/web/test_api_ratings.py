"""`POST /api/v1/cases/{id}/rating`: the rating a petitioner told on a return call (电话回访), recorded by staff
through the API as on the case page — the same domain function, the same access rule, counted in 满意率 alike."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.models import Event
from workflows.cases.access import STEPPED_ASIDE
from workflows.cases.record import CaseRecord
from workflows.reports.monthly import monthly_report

from .test_api import error_of
from .test_return_call_rating import replied_case

SATISFIED = {"satisfaction": "satisfied", "comment": "电话中表示满意"}


def _case(services, case_id: int) -> CaseRecord:
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
        session.expunge(case)
        return case


def _handled_by_hrss(desk, services) -> int:
    """A replied case whose handling unit is the county's human resources bureau (county-hrss)."""
    case_id = replied_case(desk)
    with services.unit_of_work() as session:
        session.get(CaseRecord, case_id).handling_unit = "county-hrss"
        session.commit()
    return case_id


def _events(services, case_id: int) -> int:
    with services.unit_of_work() as session:
        return int(session.scalar(select(func.count(Event.id)).where(Event.instance_id == case_id)))


def test_the_bureau_records_a_return_call_rating_over_the_api(api, desk, services):
    case_id = replied_case(desk)
    answer = api("bureau1").post(f"/api/v1/cases/{case_id}/rating", SATISFIED)
    assert answer.status_code == 201, answer.get_json()
    assert answer.headers["Location"] == f"/api/v1/cases/{case_id}"
    body = answer.get_json()
    assert (body["id"], body["satisfaction"], body["rating_source"], body["rating_source_name"]) == \
        (case_id, "满意", "recorded", "电话回访，工作人员代录")
    assert body["rated_at"].startswith("2026-03-02T")
    assert "rate" not in desk.open_elements(case_id)  # the same rating task the page and the query page complete
    with services.unit_of_work() as session:
        step = session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == "task_completed")
                               .order_by(Event.seq.desc())).first()
        assert step.actor == "bureau1"
        assert step.data["submitted"] == {"satisfaction": "satisfied", "rating_source": "recorded",
                                          "rating_comment": "电话中表示满意"}
    shown = api("bureau1").get(f"/api/v1/cases/{case_id}").get_json()
    assert {k: shown[k] for k in body} == body  # the case read back shows the same rating


def test_a_rating_recorded_over_the_api_counts_in_the_report_as_one_recorded_on_the_page(api, browser, desk,
                                                                                          services):
    on_page, over_api = replied_case(desk), replied_case(desk)
    assert browser("bureau1").post(f"/cases/{on_page}/rating", {"satisfaction": "satisfied"}).status_code == 302
    assert api("bureau1").post(f"/api/v1/cases/{over_api}/rating",
                               {"satisfaction": "dissatisfied"}).status_code == 201
    assert (_case(services, on_page).rating_source, _case(services, over_api).rating_source) == ("recorded",) * 2
    with services.unit_of_work() as session:
        march = monthly_report(session, "2026-03").scope.current
    assert (march.rated, march.recorded_ratings, march.satisfied, march.dissatisfied) == (2, 2, 1, 1)
    assert march.satisfaction_rate == 0.5


def test_the_handling_unit_may_record_it_and_nobody_kept_from_the_case_may(api, desk, services):
    case_id = _handled_by_hrss(desk, services)
    url = f"/api/v1/cases/{case_id}/rating"
    village = api("t01v01.cadre")  # reads the village's case, makes no return calls
    assert village.get(f"/api/v1/cases/{case_id}").status_code == 200
    refused = village.post(url, SATISFIED)
    assert refused.status_code == 403 and "不能代录" in error_of(refused)["message"]
    elsewhere = api("t02.cadre").post(url, SATISFIED)  # another township: does not see the case, as GET answers
    assert elsewhere.status_code == api("t02.cadre").get(f"/api/v1/cases/{case_id}").status_code == 403
    assert api("bureau1").post("/api/v1/cases/999999/rating", SATISFIED).status_code == 404
    assert "rate" in desk.open_elements(case_id)  # nothing saved
    answer = api("hrss.handler").post(url, {"satisfaction": "basic"})
    assert answer.status_code == 201 and answer.get_json()["rating_source"] == "recorded"
    assert _case(services, case_id).satisfaction == "basic"


def test_a_handler_who_stepped_aside_may_not_record_it(api, desk, services):
    case_id = _handled_by_hrss(desk, services)
    aside = {"reason": "信访人系亲属"}
    desk.run(lambda session, engine: engine.record(case_id, STEPPED_ASIDE, "hrss.handler", aside))
    refused = api("hrss.handler").post(f"/api/v1/cases/{case_id}/rating", SATISFIED)
    assert refused.status_code == 403
    assert "rate" in desk.open_elements(case_id) and _case(services, case_id).satisfaction is None


def test_a_case_is_rated_once_and_only_when_it_awaits_the_rating(api, desk):
    bureau = api("bureau1")
    waiting = desk.petition()  # accepted, not yet answered: no rating step
    early = bureau.post(f"/api/v1/cases/{waiting}/rating", SATISFIED)
    assert early.status_code == 409 and error_of(early)["message"] == "事项办结后才能评价"
    case_id = replied_case(desk)
    assert bureau.post(f"/api/v1/cases/{case_id}/rating", SATISFIED).status_code == 201
    again = bureau.post(f"/api/v1/cases/{case_id}/rating", {"satisfaction": "very_dissatisfied"})
    assert again.status_code == 409 and "已经评价过" in error_of(again)["message"]


def test_bad_values_are_422_naming_the_field(api, desk, services):
    case_id = replied_case(desk)
    url, bureau = f"/api/v1/cases/{case_id}/rating", api("bureau1")
    wrong = bureau.post(url, {"satisfaction": "great", "mood": "good"})
    assert wrong.status_code == 422
    fields = error_of(wrong)["fields"]
    assert set(fields) == {"satisfaction", "mood"} and fields["mood"] == "不认识的字段"
    assert fields["satisfaction"].startswith("可选值：very_satisfied（非常满意）、satisfied（满意）")
    long = bureau.post(url, {"satisfaction": "satisfied", "comment": "好" * 501})
    assert long.status_code == 422 and error_of(long)["fields"] == {"comment": "最多填写500个字"}
    missing = bureau.post(url, {"comment": 5})
    assert error_of(missing)["fields"] == {"satisfaction": "请填写此项", "comment": "应为文字"}
    assert error_of(bureau.post(url))["fields"] == {"_form": "应为 JSON 对象"}
    assert "rate" in desk.open_elements(case_id) and _case(services, case_id).satisfaction is None


def test_a_rating_retried_with_its_key_returns_the_first_answer(api, desk, services):
    case_id = replied_case(desk)
    url, bureau, headers = f"/api/v1/cases/{case_id}/rating", api("bureau1"), {"Idempotency-Key": "call-back-17"}
    first = bureau.post(url, SATISFIED, headers=headers)
    events = _events(services, case_id)
    again = bureau.post(url, SATISFIED, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _events(services, case_id) == events  # recorded once
    changed = bureau.post(url, {"satisfaction": "basic"}, headers=headers)
    assert changed.status_code == 422 and error_of(changed)["fields"] == {"Idempotency-Key": "已用于另一个请求"}
    assert bureau.post(url, SATISFIED).status_code == 409  # without the key: a second rating

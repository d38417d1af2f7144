"""The petitioner's rating told on a return call (电话回访), recorded by staff on the case page: it completes the
same rating task as the query page, is marked on the case, in its history and in the report, and only the county
bureau and the case's handling unit may record it."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Event
from workflows.cases.record import CaseRecord

from .pages import errors_of, text_of

REPLY = {"resolved": True, "resolution_note": "已协调", "outcome": "support", "reply": "已拆除猪圈"}


def replied_case(desk) -> int:
    """A petition answered by the village: the petitioner's rating task is open."""
    case_id = desk.petition()
    desk.complete(case_id, "village_resolve", REPLY, "t01v01.cadre")
    assert "rate" in desk.open_elements(case_id)
    return case_id


def test_the_bureau_records_the_rating_told_on_a_return_call(browser, desk, services):
    case_id = replied_case(desk)
    bureau = browser("bureau1")
    form = f'action="/cases/{case_id}/rating"'
    assert form in bureau.get(f"/cases/{case_id}").get_data(as_text=True)
    done = bureau.post(f"/cases/{case_id}/rating", {"satisfaction": "satisfied", "comment": "电话中表示满意"})
    assert done.status_code == 302
    assert "rate" not in desk.open_elements(case_id)  # the same task the query page completes
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
        assert (case.satisfaction, case.rating_source) == ("satisfied", "recorded")
        step = session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == "task_completed")
                               .order_by(Event.seq.desc())).first()
        assert step.actor == "bureau1" and step.data["submitted"]["rating_source"] == "recorded"
    assert "满意（电话回访，工作人员代录）" in text_of(bureau.get(f"/cases/{case_id}"))
    assert form not in bureau.get(f"/cases/{case_id}").get_data(as_text=True)  # rated once
    assert "电话回访，工作人员代录" in text_of(browser("auditor1").get(f"/audit/cases/{case_id}"))
    again = bureau.post(f"/cases/{case_id}/rating", {"satisfaction": "dissatisfied"})
    assert again.status_code == 422 and "已经评价过" in errors_of(again)["satisfaction"]


def test_the_handling_unit_may_record_it_and_others_may_not(browser, desk, services):
    case_id = replied_case(desk)
    with services.unit_of_work() as session:
        session.get(CaseRecord, case_id).handling_unit = "county-hrss"
        session.commit()
    cadre = browser("t01v01.cadre")  # sees the village's case but makes no return calls
    assert cadre.get(f"/cases/{case_id}").status_code == 200
    assert f'action="/cases/{case_id}/rating"' not in cadre.get(f"/cases/{case_id}").get_data(as_text=True)
    assert cadre.post(f"/cases/{case_id}/rating", {"satisfaction": "satisfied"}).status_code == 403
    handler = browser("hrss.handler")
    refused = handler.post(f"/cases/{case_id}/rating", {"satisfaction": "great"})
    assert refused.status_code == 422 and errors_of(refused) == {"satisfaction": "请选择满意度"}
    assert "rate" in desk.open_elements(case_id)  # nothing saved
    assert handler.post(f"/cases/{case_id}/rating", {"satisfaction": "basic"}).status_code == 302
    with services.unit_of_work() as session:
        assert session.get(CaseRecord, case_id).rating_source == "recorded"

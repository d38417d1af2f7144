"""检举控告受理 may send an accusation up to the discipline body one level above (转送市纪委监委): when it concerns
the county discipline body itself (the county petition bureau stands in and transfers it) or lies beyond the
county's authority. A reason and the notice to the petitioner are required; the case ends transferred with the
registrar's record fields (decision 转送, closed) and counts as a registrar transfer does; the accused never sees
it. Accepting still names a handling unit, which only accepting requires."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.models import Event
from workflows.cases.org_choice import KIN_REFUSED
from workflows.cases.record import CaseRecord
from workflows.reports.monthly import monthly_report

from .pages import errors_of, text_of
from .test_accusations import hidden_everywhere
from .test_api import error_of

TRANSFER_UP = {"discipline_decision": "transfer_up", "decision_reason": "涉及县纪委监委本身，应由上一级纪委监委处理",
               "notice": "您的检举控告已转送市纪委监委处理"}
NEAR_THE_VILLAGE = ("t01v01.cadre", "t01v01.secretary", "t01.cadre")  # the accused village, inside it and above


def case_of(services: Any, case_id: int) -> CaseRecord:
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
        assert case is not None
        session.expunge(case)
        return case


def submitted(services: Any, case_id: int, task_id: str) -> dict[str, Any]:
    """What the completion of the task recorded in the case's history."""
    with services.unit_of_work() as session:
        [event] = session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == "task_completed",
                                                      Event.task_ref.like("discipline_accept#%"))).all()
        assert event.actor is not None
        return {"actor": event.actor, **event.data["submitted"]}


def test_the_bureau_standing_in_sends_an_accusation_against_the_discipline_body_up(browser, api, desk, services):
    case_id = desk.petition(category="accusation", tier="county", claim="县纪委监委工作人员压案不查",
                            accused_unit="county-discipline")
    task_id = desk.task(case_id, "discipline_accept").id
    bureau = browser("bureau1")  # every 纪委监委 holder is kept away: the bureau stands in
    form = bureau.get(f"/tasks/{task_id}")
    assert form.status_code == 200 and "转送市纪委监委" in text_of(form)
    assert "处理意见为“受理，交承办单位办理”时必填" in text_of(form)

    no_reason = bureau.post(f"/tasks/{task_id}", {**TRANSFER_UP, "decision_reason": ""})
    assert no_reason.status_code == 422 and errors_of(no_reason) == {"decision_reason": "请填写转送理由"}
    assert "您的检举控告已转送市纪委监委处理</textarea>" in no_reason.text  # nothing typed is lost
    assert desk.open_elements(case_id) == ["discipline_accept"]

    sent = bureau.post(f"/tasks/{task_id}", TRANSFER_UP)
    assert sent.status_code == 302, errors_of(sent)
    assert desk.open_elements(case_id) == []
    case = case_of(services, case_id)
    assert (case.status, case.decision, case.handling_unit) == ("closed", "transfer", None)
    assert case.closed_at is not None
    assert submitted(services, case_id, task_id) == {"actor": "bureau1", **TRANSFER_UP}
    data = desk.run(lambda s, e: e.case_data(case_id))
    assert (data["notice"], data["transfer_outside"]) == (TRANSFER_UP["notice"], "市纪委监委")

    page = text_of(bureau.get(f"/cases/{case_id}"))
    assert "受理审查 转送" in page and "状态 已办结" in page
    assert "转送告知信访人：您的检举控告已转送市纪委监委处理" in page  # the notice, in the case's history
    hidden_everywhere(browser, api, case, ("discipline.staff", "discipline.handler"))


def test_a_handling_unit_left_in_the_form_does_not_block_a_transfer_up_nor_is_kept(browser, desk, services):
    """Only accepting gives the case a handling unit: one left in the form (here the accused body itself, which the
    org rules refuse for accepting) is neither checked nor stored when the accusation goes up."""
    case_id = desk.petition(category="accusation", tier="county", claim="县纪委监委工作人员压案不查",
                            accused_unit="county-discipline")
    task_id = desk.task(case_id, "discipline_accept").id
    bureau = browser("bureau1")
    kin = {"handling_unit": "county-discipline", "acceptance_notice": ""}
    accepting = bureau.post(f"/tasks/{task_id}", {**kin, "discipline_decision": "accept",
                                                  "acceptance_notice": "已受理"})
    assert accepting.status_code == 422 and errors_of(accepting)["handling_unit"] == KIN_REFUSED
    sent = bureau.post(f"/tasks/{task_id}", {**TRANSFER_UP, **kin})
    assert sent.status_code == 302, errors_of(sent)
    assert submitted(services, case_id, task_id) == {"actor": "bureau1", **TRANSFER_UP}
    assert case_of(services, case_id).handling_unit is None
    assert "handling_unit" not in desk.run(lambda s, e: e.case_data(case_id))


def test_the_discipline_body_sends_an_accusation_beyond_its_authority_up_with_a_reason(browser, api, desk,
                                                                                        services):
    case_id = desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用修路补助款")
    task_id = desk.task(case_id, "discipline_accept").id
    staff = api("discipline.staff")
    suggested = staff.get(f"/api/v1/tasks/{task_id}").get_json()["suggested"]
    assert suggested["discipline_decision"] == "accept"  # the page starts on accepting, as before

    without_reason = {k: v for k, v in {**suggested, **TRANSFER_UP}.items() if k != "decision_reason"}
    refused = staff.post(f"/api/v1/tasks/{task_id}/complete", {"data": without_reason})
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {"decision_reason": "请填写转送理由"}
    no_notice = staff.post(f"/api/v1/tasks/{task_id}/complete",
                           {"data": {"discipline_decision": "transfer_up", "decision_reason": "超出管辖权限"}})
    assert no_notice.status_code == 422 and error_of(no_notice)["fields"] == {"notice": "请填写转送告知信访人"}
    assert desk.open_elements(case_id) == ["discipline_accept"]

    done = staff.post(f"/api/v1/tasks/{task_id}/complete",
                      {"data": {**TRANSFER_UP, "decision_reason": "被检举人系市管干部，超出县纪委监委管辖权限"}})
    assert done.status_code == 200, done.get_json()
    case = case_of(services, case_id)
    assert (case.status, case.decision) == ("closed", "transfer")
    read_back = staff.get(f"/api/v1/cases/{case_id}").get_json()
    assert read_back["status"] == "closed"
    hidden_everywhere(browser, api, case, NEAR_THE_VILLAGE)


def test_accepting_still_needs_a_handling_unit_and_goes_on_as_before(api, desk, services):
    case_id = desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用修路补助款")
    task_id = desk.task(case_id, "discipline_accept").id
    staff = api("discipline.staff")
    unit_missing = staff.post(f"/api/v1/tasks/{task_id}/complete",
                              {"data": {"discipline_decision": "accept", "acceptance_notice": "已受理"}})
    assert unit_missing.status_code == 422 and set(error_of(unit_missing)["fields"]) == {"handling_unit"}
    accepted = staff.post(f"/api/v1/tasks/{task_id}/complete",
                          {"data": {"discipline_decision": "accept", "handling_unit": "county-discipline",
                                    "acceptance_notice": "已受理"}})
    assert accepted.status_code == 200, accepted.get_json()
    assert desk.open_elements(case_id) == ["confirm_competence"]
    case = case_of(services, case_id)
    assert (case.status, case.decision, case.handling_unit) == ("open", "accept", "county-discipline")


def test_a_transfer_up_counts_in_the_month_as_a_registrar_transfer_does(api, desk, services):
    registrar = desk.start("petition", {}, "bureau1")
    desk.complete(registrar, "register", {"channel": "letter", "category": "land", "petitioner_name": "陈小芳",
                                          "township": "t01", "claim": "在邻县承包的林地被占用"}, "bureau1")
    desk.complete(registrar, "decide_registration",
                  {"decision": "transfer", "notice": "转送告知书", "transfer_outside": "辰溪县信访局"}, "bureau1")
    discipline = desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用补助款")
    task_id = desk.task(discipline, "discipline_accept").id
    assert api("discipline.staff").post(f"/api/v1/tasks/{task_id}/complete",
                                        {"data": TRANSFER_UP}).status_code == 200
    cases = [case_of(services, registrar), case_of(services, discipline)]
    transferred = ("closed", "transfer", "letter", False)
    assert [(c.status, c.decision, c.channel, c.overdue) for c in cases] == [transferred, transferred]
    with services.unit_of_work() as session:
        month = monthly_report(session, "2026-03").scope.current
    assert (month.letters, month.closed, month.closed_overdue, month.on_time_rate) == (2, 2, 0, 1.0)

"""An accusation against the body that should take it (无人可办): when the accusation rule keeps every holder of a
lane from the case — the accused is the county discipline body, someone working there, or the county petition
bureau — the task goes to the other county body, which sees it in its inbox with the reason, acts on it, and the
case goes on; the accused sees nothing. An accused that keeps the whole county away is refused at the door."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.cases.org_choice import BEYOND_THE_COUNTY, KIN_REFUSED
from workflows.cases.record import CaseRecord

from .pages import errors_of, text_of
from .test_accusations import ACCUSATION, hidden_everywhere

KEPT_FROM_IT = "被检举控告对象涉及原办理单位，依法回避"


def inbox_reasons(api, username: str) -> dict[str, str]:
    """Task id → why the person stands in, for every task of their inbox."""
    return {item["id"]: item["stand_in_reason"] for item in api(username).get("/api/v1/tasks").get_json()["items"]}


@pytest.mark.parametrize("accused", [{"accused_unit": "county-discipline"}, {"accused_person": "discipline.handler"}],
                         ids=["the-discipline-body", "a-person-working-there"])
def test_an_accusation_against_the_discipline_body_goes_to_the_bureau(browser, api, desk, services, accused):
    case_id = desk.petition(category="accusation", tier="county", claim="县纪委监委工作人员压案不查", **accused)
    task_id = desk.task(case_id, "discipline_accept").id
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
    hidden_everywhere(browser, api, case, ("discipline.staff", "discipline.handler"))
    assert browser("discipline.staff").get(f"/tasks/{task_id}").status_code == 403

    bureau = browser("bureau1")
    assert inbox_reasons(api, "bureau1")[task_id] == f"{KEPT_FROM_IT}，改由县信访局办理"
    listed = text_of(bureau.get("/tasks"))
    assert "检举控告受理" in listed and f"{KEPT_FROM_IT}，改由县信访局办理" in listed
    page = text_of(bureau.get(f"/cases/{case_id}"))
    assert ("任务「检举控告受理」的纪委监委均与被检举控告对象同属一个单位或有上下级关系，依法回避，无人可办，"
            "改由县信访局办理") in page
    assert f"县信访局（{KEPT_FROM_IT}）" in page and "申请回避" not in page
    assert api("bureau1").get(f"/api/v1/tasks/{task_id}").get_json()["may_act"] is True

    kin = bureau.post(f"/tasks/{task_id}", {"handling_unit": "county-discipline", "acceptance_notice": "已受理"})
    assert kin.status_code == 422 and errors_of(kin)["handling_unit"] == KIN_REFUSED
    done = bureau.post(f"/tasks/{task_id}", {"handling_unit": "county-hrss", "acceptance_notice": "已受理"})
    assert done.status_code == 302
    assert "confirm_competence" in desk.open_elements(case_id)  # the handling unit takes the statutory path
    hidden_everywhere(browser, api, case, ("discipline.staff", "discipline.handler"))


def test_an_accusation_elsewhere_stays_with_the_discipline_body(api, desk):
    case_id = desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用修路补助款")
    task_id = desk.task(case_id, "discipline_accept").id
    assert task_id not in inbox_reasons(api, "bureau1")  # someone of the lane is left: nothing to stand in for
    assert inbox_reasons(api, "discipline.staff")[task_id] == ""  # its own lane, no reason to give


def test_an_accusation_against_the_bureau_has_its_registration_decided_by_the_discipline_body(browser, api, services):
    registered = browser("bureau1").post("/intake/letter", {**ACCUSATION, "accused_unit": "county-petition-bureau",
                                                            "claim": "县信访局工作人员泄露检举人信息"})
    assert registered.status_code == 302
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
    hidden_everywhere(browser, api, case, ("bureau1",))  # the registrar is kept from it from now on
    [(task_id, reason)] = inbox_reasons(api, "discipline.staff").items()
    assert reason == f"{KEPT_FROM_IT}，改由纪委监委办理"
    staff = browser("discipline.staff")
    assert "任务「受理审查」的县信访局均与被检举控告对象" in text_of(staff.get(f"/cases/{case.instance_id}"))
    decided = staff.post(f"/tasks/{task_id}", {"decision": "accept", "notice": "已受理", "tier": "county"})
    assert decided.status_code == 302, errors_of(decided)
    [(accept_id, own_lane)] = inbox_reasons(api, "discipline.staff").items()  # 检举控告受理, its own lane
    assert own_lane == "" and accept_id != task_id
    hidden_everywhere(browser, api, case, ("bureau1",))


@pytest.mark.parametrize("field,accused", [("accused_unit", "xupu"), ("accused_person", "county.leader1")])
def test_an_accused_that_keeps_the_whole_county_away_is_refused_at_registration(browser, services, field, accused):
    named = {**ACCUSATION, "accused_unit": "county-hrss", field: accused}  # the letter form wants a unit too
    refused = browser("bureau1").post("/intake/letter", named)
    assert refused.status_code == 422
    assert errors_of(refused) == {field: BEYOND_THE_COUNTY}
    with services.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(CaseRecord)) == 0


def test_every_api_answer_showing_a_stand_in_task_gives_the_reason(api, desk):
    """The task detail, claim, release and the step's next tasks say why the caller acts, as the inbox does."""
    case_id = desk.start("petition", {}, "bureau1")
    desk.complete(case_id, "register", {
        "channel": "letter", "category": "accusation", "petitioner_name": "张秋菊", "id_number": "431224196504110529",
        "phone": "13873025571", "headcount": 1, "township": "t01", "village": "t01v01",
        "claim": "县纪委监委工作人员压案不查", "confidentiality_requested": False, "accused_unit": "county-discipline"},
        "bureau1")
    bureau = api("bureau1")
    decide = desk.task(case_id, "decide_registration").id
    step = bureau.post(f"/api/v1/tasks/{decide}/complete",
                       {"data": {"decision": "accept", "notice": "已受理", "tier": "county"}}).get_json()
    reason = f"{KEPT_FROM_IT}，改由县信访局办理"
    [accept] = step["next_tasks"]
    assert accept["element_id"] == "discipline_accept" and accept["stand_in_reason"] == reason
    assert bureau.get(f"/api/v1/tasks/{accept['id']}").get_json()["stand_in_reason"] == reason
    assert bureau.post(f"/api/v1/tasks/{accept['id']}/claim").get_json()["stand_in_reason"] == reason
    assert bureau.post(f"/api/v1/tasks/{accept['id']}/release").get_json()["stand_in_reason"] == reason

"""Accusations by identity (信访工作条例 Art. 30): the accused is an org id on the intake forms, the case is hidden
from the accused, their unit, the units above it and their offices on every page, list, search and API answer,
whatever spelling older records used; a handling unit is never the accused or its kin; anyone can step aside."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select

from engine.models import Event
from workflows.cases.org_choice import KIN_REFUSED, check_org_fields
from workflows.cases.record import CaseRecord
from workflows.org.models import Person, Position

from .conftest import VISIT
from .pages import errors_of, text_of
from .test_api import error_of
from .test_intake import PETITION

ACCUSATION = {**PETITION, "category": "accusation", "tier": "county", "claim": "村委会挪用修路补助款"}
# Staff of the accused village 桃园社区 (t01v01), inside it, of the township above it and of its office.
NEAR_THE_ACCUSED = ("t01v01.cadre", "t01v01.secretary", "t01v01g01.worker", "t01.cadre", "t01.leader.social",
                    "t01-justice.handler")
FAR_FROM_IT = ("bureau1", "auditor1")


def register(browser: Any, accused: str) -> Any:
    return browser("bureau1").post("/intake/letter", {**ACCUSATION, "accused_unit": accused})


@pytest.mark.parametrize("typed", ["桃园社区村委会", "T01V01", "桃园 社区", "樟岩社区村委会", "樟岩 社区", "县人社局"])
def test_an_accused_typed_by_name_is_refused_on_the_field_and_nothing_is_saved(browser, services, typed):
    refused = register(browser, typed)
    assert refused.status_code == 422
    assert errors_of(refused) == {"accused_unit": "没有找到该单位：请从列表中选择，不要手工填写名称"}
    with services.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(CaseRecord)) == 0


def test_the_accused_unit_is_chosen_from_the_org_on_the_form(browser, monkeypatch):
    page = browser("bureau1").get("/intake/letter").get_data(as_text=True)
    assert '<select id="f-accused_unit" name="accused_unit"' in page  # few units: a select, no typing
    assert '<option value="t01v01" >桃园社区（青溪镇）</option>' in page
    monkeypatch.setattr("web.intake.SELECT_AT_MOST", 3)  # a county's thousands: suggestions, searched as one types
    page = browser("bureau1").get("/intake/letter").get_data(as_text=True)
    assert 'data-org-search="/org/search?field=accused_unit"' in page and 'list="f-accused_unit-choices"' in page
    found = browser("bureau1").get("/org/search?field=accused_unit&q=桃园").get_json()["items"]
    assert {"value": "t01v01", "label": "桃园社区（青溪镇）"} in found
    assert browser("bureau1").get("/org/search?field=colour&q=x").status_code == 404


def hidden_everywhere(browser: Any, api: Any, case: CaseRecord, people: tuple[str, ...]) -> None:
    for person in people:
        page = browser(person)
        assert page.get(f"/cases/{case.instance_id}").status_code == 403, person
        assert case.case_number not in page.get("/cases").get_data(as_text=True), person
        assert case.case_number not in page.get("/cases?q=挪用").get_data(as_text=True), person
        assert case.case_number not in page.get("/tasks").get_data(as_text=True), person
        assert api(person).get(f"/api/v1/cases/{case.instance_id}").status_code == 403, person
        assert all(item["case_id"] != case.instance_id
                   for item in api(person).get("/api/v1/tasks").get_json()["items"]), person


def test_an_accusation_chosen_by_id_is_hidden_from_the_accused_and_the_units_above(browser, api, services):
    assert register(browser, "t01v01").status_code == 302
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
    assert (case.accused_unit, case.confidential) == ("t01v01", True)
    hidden_everywhere(browser, api, case, NEAR_THE_ACCUSED)
    for person in FAR_FROM_IT:
        assert browser(person).get(f"/cases/{case.instance_id}").status_code == 200, person
    assert browser("t02.cadre").get(f"/cases/{case.instance_id}").status_code == 403  # not their place at all


@pytest.mark.parametrize("spelling", ["T01V01", "桃园 社区", "桃园社区村委会"])
def test_older_records_that_spelled_the_accused_are_hidden_all_the_same(browser, api, desk, services, spelling):
    case_id = desk.petition(category="accusation", tier="county", accused_unit=spelling, claim="村委会挪用修路补助款")
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
    hidden_everywhere(browser, api, case, ("t01v01.cadre", "t01.cadre"))


def test_an_accused_person_is_kept_from_them_and_from_their_unit(browser, api, desk, services):
    case_id = desk.petition(category="accusation", tier="county", accused_person="t01v01.cadre",
                            claim="村干部挪用修路补助款")
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
    assert case.accused_person == "t01v01.cadre"
    hidden_everywhere(browser, api, case, ("t01v01.cadre", "t01v01.secretary", "t01.cadre"))
    assert browser("bureau1").get(f"/cases/{case_id}").status_code == 200


def test_an_accusation_is_never_handled_by_the_accused_bureau(browser, api, desk, services):
    case_id = desk.handed_over(category="accusation", accused_unit="county-hrss", claim="县人社局工作人员违规办理低保")
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.law")
    assert leader.get(f"/tasks/{task_id}").status_code == 200
    form = {"deadline": "2026-03-20", "instructions": "核实"}
    refused = leader.post(f"/tasks/{task_id}", {**form, "handling_unit": "county-hrss"})
    assert refused.status_code == 422
    assert errors_of(refused)["handling_unit"] == KIN_REFUSED
    unstaffed = leader.post(f"/tasks/{task_id}", {**form, "handling_unit": "county-water"})
    assert errors_of(unstaffed)["handling_unit"] == "县水利局没有可以办理的承办人员，请另选承办单位"
    village = leader.post(f"/tasks/{task_id}", {**form, "handling_unit": "t01v01"})
    assert "请从列表中选择" in errors_of(village)["handling_unit"]
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
    hidden_everywhere(browser, api, case, ("hrss.handler",))
    assert leader.post(f"/tasks/{task_id}", {**form, "handling_unit": "county-discipline"}).status_code == 302


def test_the_kin_of_an_accused_person_never_handles_it(services):
    with services.unit_of_work() as session:
        chosen = {"handling_unit": "t01-justice"}
        assert check_org_fields(session, chosen, {"accused_person": "t01.cadre"}) == {"handling_unit": KIN_REFUSED}
        chosen = {"handling_unit": "county-hrss", "accused_person": "t01.cadre"}
        assert check_org_fields(session, chosen, {}) == {}


def test_the_reception_desk_names_the_accused_by_id(browser, services):
    secretary = browser("t01v01.secretary")
    visit = {**VISIT, "category": "accusation", "claim": "县人社局工作人员违规办理低保"}
    refused = secretary.post("/reception", {**visit, "accused_unit": "县人社局"})
    assert errors_of(refused) == {"accused_unit": "没有找到该单位：请从列表中选择，不要手工填写名称"}
    missing = secretary.post("/reception", visit)
    assert errors_of(missing) == {"accused_unit": "检举控告事项请从组织机构中选择被检举控告单位或被检举控告人"}
    assert secretary.post("/reception", {**visit, "accused_unit": "county-hrss"}).status_code == 302
    with services.unit_of_work() as session:
        case = session.scalars(select(CaseRecord)).one()
        assert (case.accused_unit, case.confidential) == ("county-hrss", True)
    assert browser("hrss.handler").get(f"/cases/{case.instance_id}").status_code == 403


def test_whoever_is_related_steps_aside_and_a_colleague_takes_the_task(browser, api, desk):
    case_id = desk.petition()  # village tier at 桃园社区: both village cadres may act on 村级就地化解
    task_id = desk.task(case_id, "village_resolve").id
    events = desk.run(lambda s, e: e.instance(case_id).event_count)
    cadre = browser("t01v01.cadre")
    assert cadre.post(f"/tasks/{task_id}/claim").status_code == 302
    empty = cadre.post(f"/tasks/{task_id}/step-aside", {"reason": " "})
    assert empty.status_code == 302 and desk.run(lambda s, e: e.instance(case_id).event_count) == events + 1
    stepped = api("t01v01.cadre").post(f"/api/v1/tasks/{task_id}/step-aside", {"reason": "信访人是我的表亲"})
    assert stepped.status_code == 200 and stepped.get_json()["claimed_by"] is None
    assert cadre.get(f"/cases/{case_id}").status_code == 403
    assert cadre.get(f"/tasks/{task_id}").status_code == 403
    assert api("t01v01.cadre").post(f"/api/v1/tasks/{task_id}/claim").status_code == 403
    assert api("t01v01.secretary").post(f"/api/v1/tasks/{task_id}/claim").status_code == 200  # the colleague
    history = desk.run(lambda s, e: [(ev.type, ev.actor, ev.data) for ev in s.scalars(
        select(Event).where(Event.instance_id == case_id).order_by(Event.seq))])
    assert ("stepped_aside", "t01v01.cadre", {"reason": "信访人是我的表亲"}) in history


def test_when_everyone_steps_aside_the_task_goes_to_the_county_bureau_and_the_case_says_why(browser, api, desk):
    case_id = desk.petition()  # 村级就地化解 at 桃园社区: its two village cadres may act
    task_id = desk.task(case_id, "village_resolve").id
    bureau = browser("bureau1")
    assert bureau.get(f"/tasks/{task_id}").status_code == 403  # not the bureau's while a cadre is left
    assert f"/tasks/{task_id}" not in bureau.get("/tasks").get_data(as_text=True)
    aside = api("t01v01.cadre").post(f"/api/v1/tasks/{task_id}/step-aside", {"reason": "信访人是我的表亲"})
    assert aside.status_code == 200
    assert bureau.get(f"/tasks/{task_id}").status_code == 403
    assert api("t01v01.secretary").post(f"/api/v1/tasks/{task_id}/step-aside",
                                        {"reason": "被反映人是我的邻居"}).status_code == 200
    assert f"/tasks/{task_id}" in bureau.get("/tasks").get_data(as_text=True)
    assert bureau.get(f"/tasks/{task_id}").status_code == 200
    page = text_of(bureau.get(f"/cases/{case_id}"))
    assert "本案有 2 人申请回避" in page and "被反映人是我的邻居" in page
    assert "村干部均已回避，无人可办，改由县信访局办理" in page and "县信访局（原办理人员均已回避）" in page
    assert browser("discipline.staff").get(f"/tasks/{task_id}").status_code == 403  # not an accusation
    done = bureau.post(f"/tasks/{task_id}", {"resolved": "true", "resolution_note": "县信访局协调解决",
                                             "outcome": "support", "reply": "已拆除猪圈"})
    assert done.status_code == 302 and "village_resolve" not in desk.open_elements(case_id)


def test_an_accusation_nobody_may_handle_goes_to_the_other_county_body(browser, api, desk):
    case_id = desk.petition(category="accusation", accused_person="t01.cadre")
    task = desk.task(case_id, "discipline_accept")  # accusations go straight to the county discipline body
    assert browser("bureau1").get(f"/tasks/{task.id}").status_code == 403
    assert api("discipline.staff").post(f"/api/v1/tasks/{task.id}/step-aside",
                                        {"reason": "与被检举人是同学"}).status_code == 200
    assert browser("discipline.staff").get(f"/tasks/{task.id}").status_code == 403
    assert browser("bureau1").get(f"/tasks/{task.id}").status_code == 200  # the discipline body's lane: the bureau
    assert browser("t01.cadre").get(f"/cases/{case_id}").status_code == 403  # the accused still sees nothing


def test_the_discipline_body_suggests_itself_as_handling_unit_and_the_form_accepts_it(api, desk):
    case_id = desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用修路补助款")
    task_id = desk.task(case_id, "discipline_accept").id
    staff = api("discipline.staff")
    suggested = staff.get(f"/api/v1/tasks/{task_id}").get_json()["suggested"]
    assert suggested == {"discipline_decision": "accept", "handling_unit": "county-discipline"}
    done = staff.post(f"/api/v1/tasks/{task_id}/complete", {"data": {**suggested, "acceptance_notice": "已受理"}})
    assert done.status_code == 200, done.get_json()
    assert "confirm_competence" in desk.open_elements(case_id)  # its 承办单位 staff take the statutory path


def test_a_discipline_body_with_nobody_holding_handling_unit_is_neither_suggested_nor_accepted(browser, api, desk,
                                                                                                services):
    with services.unit_of_work() as session:  # the body keeps its 纪委监委 staff, who accept accusations
        handler = select(Person.id).where(Person.username == "discipline.handler").scalar_subquery()
        session.execute(delete(Position).where(Position.person_id == handler))
    case_id = desk.petition(category="accusation", tier="county", accused_unit="t01v01", claim="村委会挪用修路补助款")
    task_id = desk.task(case_id, "discipline_accept").id
    staff = api("discipline.staff")
    # 县信访局, next in the fallback list, has no 承办单位 staff either: no unit is suggested, not even the form's
    # default (the decision starts on accepting)
    assert staff.get(f"/api/v1/tasks/{task_id}").get_json()["suggested"] == {"discipline_decision": "accept"}
    page = browser("discipline.staff").get(f"/tasks/{task_id}")
    assert page.status_code == 200
    # the page says why beside the empty field, so the user picks a unit or refers the case up
    note = page.text[page.text.index('id="f-handling_unit"'):].split('id="f-handling_unit-note">')[1].split("<")[0]
    assert note.startswith("未能按分流规则建议承办单位：") and "没有可以承办的单位，请报上一级机关交办" in note
    assert "county-petition-bureau" in note and "no handling unit" not in note
    refused = staff.post(f"/api/v1/tasks/{task_id}/complete",
                         {"data": {"handling_unit": "county-discipline", "acceptance_notice": "已受理"}})
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {"handling_unit": "县纪委监委没有可以办理的承办人员，请另选承办单位"}

"""The task page: the form drawn from its JSON Schema, server-side validation with messages on the fields, domain
rules, completion, and 403 for tasks of other places or roles."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import Event
from workflows.cases.record import CaseRecord

from .pages import errors_of, text_of


def test_the_form_is_drawn_from_its_schema(browser, desk):
    case_id = desk.handed_over()
    task = desk.task(case_id, "assign_unit")
    page = browser("t01.leader.social").get(f"/tasks/{task.id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "交办" in text and "承办单位 *" in text and "办结期限 *" in text and "交办意见" in text
    assert 'type="date" id="f-deadline" name="deadline"' in page.text
    assert '<textarea id="f-instructions" name="instructions"' in page.text
    # the routing rules suggest the unit that handles 社会保障 claims, and every staffed office is offered by name
    assert '<select id="f-handling_unit" name="handling_unit"' in page.text
    assert '<option value="county-hrss" selected>县人力资源和社会保障局（溆浦县）</option>' in page.text
    assert '<option value="county-civil-affairs" >县民政局（溆浦县）</option>' in page.text
    assert "县水利局" not in text  # no one there could act on the task
    assert "county-" not in text
    # beside the form: the case summary, its deadlines and the diagram
    assert "案件概况" in text and "期限" in text and "流程图" in text
    assert f'data-xml-url="/cases/{case_id}/diagram/reception.bpmn"' in page.text
    assert f'data-xml-url="/cases/{case_id}/diagram/supervision.bpmn"' in page.text


def test_enums_booleans_and_textareas(browser, desk):
    case_id = desk.visit()
    cadre = browser("t01.cadre")
    page = cadre.get(f"/tasks/{desk.task(case_id, 'hear_claim').id}")
    # seven dispositions (the registrar's decisions too) are a select; the conditional fields say when they apply
    assert '<select id="f-disposition" name="disposition"' in page.text
    for label in ("当场答复", "当场协调办理", "登记移交（受理）", "不予受理", "转送", "导入法定途径（诉访分离）",
                  "已复核终结，不再受理"):
        assert f">{label}</option>" in page.text, label
    desk.complete(case_id, "hear_claim", {"disposition": "coordinate"}, "t01.cadre")
    coordinate = cadre.get(f"/tasks/{desk.task(case_id, 'coordinate_on_spot').id}")
    assert 'type="radio" name="resolved" value="true"' in coordinate.text
    assert 'type="radio" name="resolved" value="false"' in coordinate.text


def test_validation_errors_are_shown_on_the_fields_and_the_input_is_kept(browser, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.social")
    response = leader.post(f"/tasks/{task_id}", {"handling_unit": "", "deadline": "2026-02-30",
                                                 "instructions": "请十日内办结并回复"})
    assert response.status_code == 422
    errors = errors_of(response)
    assert errors == {"handling_unit": "请填写承办单位", "deadline": "请输入有效日期（年-月-日）"}
    assert "请十日内办结并回复</textarea>" in response.text
    assert 'value="2026-02-30"' in response.text
    assert 'aria-invalid=true' in response.text
    assert desk.task(case_id, "assign_unit").status == "open"


def test_domain_rules_are_checked_on_submit(browser, desk):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.social")
    response = leader.post(f"/tasks/{task_id}", {"handling_unit": "no-such-unit", "deadline": "2026-03-01"})
    assert response.status_code == 422
    assert errors_of(response) == {"handling_unit": "没有找到该承办单位：请从列表中选择，不要手工填写名称",
                                   "deadline": "办结期限不能早于今天（2026-03-02）"}
    assert 'value="2026-03-01"' in response.text  # what was typed is kept; a unit is chosen again from the list
    assert " selected>" not in response.text.split('id="f-handling_unit"')[1].split("</select>")[0]


def test_a_valid_submission_completes_the_task_and_returns_to_the_inbox(browser, desk, services):
    case_id = desk.handed_over()
    task_id = desk.task(case_id, "assign_unit").id
    leader = browser("t01.leader.social")
    response = leader.post(f"/tasks/{task_id}", {"handling_unit": "县人力资源和社会保障局", "deadline": "2026-03-20",
                                                 "instructions": ""})
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    inbox = leader.get("/tasks")
    assert "已提交「交办」" in text_of(inbox) and "下一步：办理并报告" in text_of(inbox)
    assert desk.open_elements(case_id) == ["handle_case"]
    with services.unit_of_work() as session:
        assert session.get(CaseRecord, case_id).handling_unit == "county-hrss"  # the name was stored as its code
        submitted = session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == "task_completed")
                                    .order_by(Event.seq.desc())).first().data["submitted"]
        assert submitted == {"handling_unit": "county-hrss", "deadline": "2026-03-20"}
    # submitting again is answered as done already (by whom, when), without a second step
    again = leader.post(f"/tasks/{task_id}", {"handling_unit": "county-hrss", "deadline": "2026-03-20"})
    assert again.status_code == 302 and again.headers["Location"] == f"/cases/{case_id}"
    assert "提交成功，本次重复提交未再处理" in text_of(leader.get(f"/cases/{case_id}"))
    with services.unit_of_work() as session:
        assert len(session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == "task_completed",
                                                       Event.task_ref.like("%assign_unit%"))).all()) == 1


def test_the_next_parameter_only_stays_on_this_site(browser, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    response = browser("t01.cadre").post(f"/tasks/{task_id}", {"disposition": "hand_over",
                                                               "next": "https://evil.example/"})
    assert response.headers["Location"] == "/tasks"


def test_if_then_conditional_requirements(browser, desk):
    bureau = browser("bureau1")
    case_id = desk.start("petition", {}, "bureau1")
    task_id = desk.task(case_id, "register").id
    page = bureau.get(f"/tasks/{task_id}")
    assert "事项类别为“检举控告”时必填" in page.text
    assert 'name="confidentiality_requested" value="false" checked' in page.text  # the schema's default
    data = {"channel": "visit", "category": "accusation", "petitioner_name": "李某", "headcount": "1",
            "township": "t01", "village": "t01v01", "claim": "举报某单位违规发放补贴",
            "confidentiality_requested": "false"}
    response = bureau.post(f"/tasks/{task_id}", data)
    assert response.status_code == 422
    assert errors_of(response) == {"accused_unit": "请填写被检举控告单位"}
    assert 'value="李某"' in response.text and "举报某单位违规发放补贴</textarea>" in response.text
    assert bureau.post(f"/tasks/{task_id}", {**data, "accused_unit": "county-hrss"}).status_code == 302
    assert desk.open_elements(case_id) == ["decide_registration"]


def test_an_accusation_is_never_handled_by_the_accused_unit(browser, desk, services):
    case_id = desk.petition(category="accusation", accused_unit="county-hrss", tier="county",
                            claim="举报县人社局违规发放补贴")
    task_id = desk.task(case_id, "discipline_accept").id  # accusations go straight to the discipline body
    assert browser("bureau1").get(f"/tasks/{task_id}").status_code == 403
    discipline = browser("discipline.staff")
    page = discipline.get(f"/tasks/{task_id}")
    assert '<option value="county-discipline" selected>' in page.text  # the form's default: the discipline body
    refused = discipline.post(f"/tasks/{task_id}", {"handling_unit": "county-hrss", "acceptance_notice": "已受理"})
    assert refused.status_code == 422
    assert errors_of(refused)["handling_unit"].startswith("检举控告事项不得交被检举控告单位")
    assert "已受理</textarea>" in refused.text
    village = discipline.post(f"/tasks/{task_id}", {"handling_unit": "t01v01", "acceptance_notice": "已受理"})
    assert "请从列表中选择" in errors_of(village)["handling_unit"]  # a village is no handling unit
    accepted = discipline.post(f"/tasks/{task_id}", {"handling_unit": "county-discipline",
                                                     "acceptance_notice": "已受理"})
    assert accepted.status_code == 302
    assert desk.open_elements(case_id) == ["confirm_competence"]


def test_the_handling_units_form_with_its_if_then(browser, desk):
    case_id = desk.petition(category="land", tier="county")
    desk.complete(case_id, "assign_handling", {"handling_unit": "county-hrss"}, "bureau1")
    desk.complete(case_id, "confirm_competence", {"competent": True}, "hrss.handler")
    task_id = desk.task(case_id, "handle").id
    handler = browser("hrss.handler")
    response = handler.post(f"/tasks/{task_id}", {"handling_action": "extend", "handling_note": "需补充测量",
                                                  "extension_days": "45"})
    assert response.status_code == 422
    assert errors_of(response) == {"extension_reason": "请填写延期理由", "extension_days": "不能大于30"}
    not_a_number = handler.post(f"/tasks/{task_id}", {"handling_action": "done", "handling_note": "已办结",
                                                      "extension_days": "三十"})
    assert errors_of(not_a_number) == {"extension_days": "请输入整数"}
    assert 'value="三十"' in not_a_number.text


def test_another_places_task_is_403_on_every_route(browser, desk):
    case_id = desk.visit()
    task_id = desk.task(case_id, "hear_claim").id
    for username in ("t02.cadre", "t01v01.secretary", "auditor1", "designer1", "hrss.handler"):
        person = browser(username)
        assert person.get(f"/tasks/{task_id}").status_code == 403, username
        assert person.post(f"/tasks/{task_id}", {"disposition": "answer"}).status_code == 403, username
    assert desk.task(case_id, "hear_claim").status == "open"
    page = browser("t02.cadre").get(f"/tasks/{task_id}")
    assert "无权访问" in page.text and "hear_claim" not in page.text


def test_an_unknown_task_is_404(browser):
    assert browser("t01.cadre").get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_completed_task_leads_to_its_case(browser, desk):
    case_id = desk.visit()
    task = desk.task(case_id, "hear_claim")
    desk.complete(case_id, "hear_claim", {"disposition": "hand_over"}, "t01.cadre")
    response = browser("t01.cadre").get(f"/tasks/{task.id}")
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case_id}"

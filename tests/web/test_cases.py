"""The case page: details, holders, deadlines, history, the diagram with marks, masking and recorded unmasking."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engine.access_log import reads_of
from engine.models import AccessEntry, Event
from workflows.cases.access import Access, load_viewer
from workflows.cases.record import CaseRecord
from workflows.views.case_diagram import diagrams

from .pages import text_of

START_DAY = date(2026, 3, 2)


def _reveals(services, case_id: int) -> list[AccessEntry]:
    """Unmaskings are reads: they go to the case's access log, not its step history."""
    with services.unit_of_work() as session:
        return [r for r in reads_of(session, case_id) if r.kind == "personal_data_viewed"]


def _events(services, case_id: int, kind: str) -> list[Event]:
    with services.unit_of_work() as session:
        return list(session.scalars(select(Event).where(Event.instance_id == case_id, Event.type == kind)))


def _marks(services, case_id: int) -> dict[str, dict[str, object]]:
    with services.unit_of_work() as session:
        engine = services.engine(session)
        views = diagrams(session, engine, engine.instance(case_id), services.now(session))
        return {(f"{v.process_id}/" if i else "") + k: {"count": m.count, "states": m.states}
                for i, v in enumerate(views) for k, m in v.marks.items()}


def test_the_case_page_shows_details_holders_deadlines_and_history(browser, desk):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    page = browser("t01.leader.social").get(f"/cases/{case_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert f"XP2026-{case_id:06d}" in text
    assert "坐班接访" in text and "走访" in text and "社会保障" in text and "青溪镇 / 桃园社区" in text
    assert "县人力资源和社会保障局" in text and "王芳" in text
    # who holds it now, and until when
    assert "办理并报告 承办单位 县人力资源和社会保障局" in text
    assert "督办办结期限 2026-03-20 17:30 未到期" in text
    # the history, in Chinese with names
    assert "立案" in text and "登记来访 张伟" in text and "接谈研判 周明 处理方式：登记移交" in text
    assert "定时触发" in text and "下班时移交" in text
    assert "交办 王芳 承办单位：县人力资源和社会保障局" in text


def test_id_numbers_and_phones_are_masked(browser, desk):
    case_id = desk.visit()
    page = browser("t01.cadre").get(f"/cases/{case_id}")
    assert "431224196802150021" not in page.text and "13807451234" not in page.text
    assert "431224********0021" in page.text and "138****1234" in page.text
    assert "王桂英" in page.text  # names are shown unless the case is confidential


def test_unmasking_is_for_those_who_handle_the_case_and_is_recorded(browser, desk, services):
    case_id = desk.visit()
    cadre = browser("t01.cadre")  # may act on the open 接谈研判
    page = cadre.get(f"/cases/{case_id}")
    assert "查看完整身份证号和电话" in page.text
    revealed = cadre.post(f"/cases/{case_id}/reveal")
    assert revealed.status_code == 200
    assert "431224196802150021" in revealed.text and "13807451234" in revealed.text
    assert revealed.headers["Cache-Control"] == "no-store"
    [event] = _reveals(services, case_id)
    assert event.actor == "t01.cadre" and event.personal_data
    assert event.data["fields"] == ["petitioner_name", "id_number", "phone"]
    assert _events(services, case_id, "personal_data_viewed") == []  # not a step of the case
    # the county bureau may too; an auditor and a village cadre of the place read it masked only
    assert browser("bureau1").post(f"/cases/{case_id}/reveal").status_code == 200
    for username in ("auditor1", "t01v01.cadre"):
        reader = browser(username)
        page = reader.get(f"/cases/{case_id}")
        assert page.status_code == 200, username
        assert "您的岗位不能查看完整信息" in page.text
        assert reader.post(f"/cases/{case_id}/reveal").status_code == 403, username
    assert [e.actor for e in _reveals(services, case_id)] == ["t01.cadre", "bureau1"]


def test_unmasking_needs_the_csrf_token(browser, desk, services):
    case_id = desk.visit()
    assert browser("bureau1").post(f"/cases/{case_id}/reveal", csrf=False).status_code == 400
    assert _reveals(services, case_id) == []


def test_the_handling_unit_may_unmask_its_case(browser, desk):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    assert browser("hrss.handler").post(f"/cases/{case_id}/reveal").status_code == 200
    assert browser("civil.handler").post(f"/cases/{case_id}/reveal").status_code == 403


def test_another_persons_case_is_403(browser, desk):
    case_id = desk.visit()
    for username in ("t02.cadre", "t02v01.secretary", "t02.leader", "hrss.handler", "designer1", "county.leader1",
                     "t01v01g01.worker"):
        person = browser(username)
        assert person.get(f"/cases/{case_id}").status_code == 403, username
        assert person.post(f"/cases/{case_id}/reveal").status_code == 403, username
        assert person.get(f"/cases/{case_id}/diagram/reception.bpmn").status_code == 403, username
    for username in ("t01.cadre", "t01v01.cadre", "t01.leader.land", "bureau1", "auditor1", "t01v01.secretary"):
        assert browser(username).get(f"/cases/{case_id}").status_code == 200, username
    assert browser("bureau1").get("/cases/9999").status_code == 404


def test_the_case_list_shows_only_visible_cases(browser, desk):
    mine = desk.visit()
    other = desk.visit(actor="t02v01.secretary", township="t02", village="t02v01")
    listing = browser("t01.cadre").get("/cases")
    assert f"/cases/{mine}" in listing.text and f"/cases/{other}" not in listing.text
    everything = browser("bureau1").get("/cases")
    assert f"/cases/{mine}" in everything.text and f"/cases/{other}" in everything.text
    found = browser("bureau1").get(f"/cases?q=XP2026-{other:06d}")
    assert f"/cases/{other}" in found.text and f"/cases/{mine}\"" not in found.text


def test_a_confidential_accusation_is_kept_from_the_accused_unit(browser, desk):
    case_id = desk.petition(category="accusation", accused_unit="t01", tier="county", claim="举报青溪镇截留补贴")
    accept = desk.task(case_id, "discipline_accept")
    assert browser("bureau1").get(f"/cases/{case_id}").status_code == 200
    assert accept.id in browser("discipline.staff").get("/tasks").text
    for username in ("t01.cadre", "t01.leader.law", "t01v01.cadre", "t01-justice.handler"):
        person = browser(username)
        assert person.get(f"/cases/{case_id}").status_code == 403, username
        assert f"/cases/{case_id}\"" not in person.get("/cases").text, username
    page = browser("bureau1").get(f"/cases/{case_id}")
    assert "保密" in page.text and "张秋菊" not in page.text and "张**" in page.text


def test_no_task_of_a_confidential_case_reaches_the_accused_unit(services, desk):
    case_id = desk.petition(category="accusation", accused_unit="county-hrss", tier="county")
    desk.complete(case_id, "discipline_accept", {"handling_unit": "county-discipline", "acceptance_notice": "已受理"},
                  "discipline.staff")
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
        task = services.engine(session).open_tasks(case_id)[0]
        accused = Access(session, load_viewer(session, "hrss.handler", START_DAY))
        handler = Access(session, load_viewer(session, "discipline.handler", START_DAY))
        assert not accused.may_see_case(case) and not accused.may_see_task(task, case)
        assert handler.may_act_on_task(task, case) and handler.may_reveal(case)


def test_the_diagram_is_served_for_the_case_and_its_called_process(browser, desk):
    case_id = desk.handed_over()
    bureau = browser("bureau1")
    xml = bureau.get(f"/cases/{case_id}/diagram/reception.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert b'<bpmn:process id="reception"' in xml.data
    called = bureau.get(f"/cases/{case_id}/diagram/supervision.bpmn")
    assert b'<bpmn:process id="supervision"' in called.data
    assert bureau.get(f"/cases/{case_id}/diagram/petition.bpmn").status_code == 404
    page = bureau.get(f"/cases/{case_id}")
    assert "/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in page.text
    assert "https://" not in page.text.split("<main>")[0]  # nothing from a CDN


def test_marks_count_loops_and_show_what_is_active(services, desk):
    case_id = desk.handed_over()
    desk.complete(case_id, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-20"},
                  "t01.leader.social")
    desk.complete(case_id, "handle_case", {"handling_result": "已复核", "outcome": "explain"}, "hrss.handler")
    desk.complete(case_id, "check_result", {"approved": False, "check_note": "材料不全"}, "t01.leader.social")
    marks = _marks(services, case_id)
    assert marks["register_visit"] == {"count": 1, "states": ["completed"]}
    assert marks["supervise"] == {"count": 1, "states": ["active"]}
    assert marks["supervision/handle_case"] == {"count": 2, "states": ["completed", "active"]}
    assert marks["supervision/check_result"] == {"count": 1, "states": ["completed"]}
    assert "record_answer" not in marks  # a branch not taken


def test_marks_of_parallel_branches(services, desk):
    case_id = desk.start("four_team", {"township": "t01", "village": "t01v01", "claim": "修路占地"}, "t01v01.cadre")
    desk.complete(case_id, "view_backer_unit", {"backer_unit_view": "可协调", "backer_unit_suggestion": "补偿"},
                  "t01v01.cadre")
    marks = _marks(services, case_id)
    assert marks["views_split"]["states"] == ["completed"]
    assert marks["view_backer_unit"] == {"count": 1, "states": ["completed"]}
    for branch in ("view_township_cadre", "view_work_team", "view_village_committee"):
        assert marks[branch] == {"count": 1, "states": ["active"]}, branch


def test_marks_of_overdue_and_errored_elements(browser, services, desk):
    late = desk.handed_over()
    desk.complete(late, "assign_unit", {"handling_unit": "county-hrss", "deadline": "2026-03-03"},
                  "t01.leader.social")
    desk.advance(timedelta(days=2))
    marks = _marks(services, late)
    assert "overdue" in marks["supervision/handle_case"]["states"]
    assert marks["supervision/overdue_timer"]["states"] == ["completed", "overdue"]
    assert marks["supervision/report_overdue"]["states"] == ["active"]  # the bureau's task, not itself late
    page = browser("bureau1").get(f"/cases/{late}")
    assert "已超期" in page.text
    broken = desk.handed_over(category="no_such_category")  # the leader cannot be found: an incident
    marks = _marks(services, broken)
    assert "errored" in marks["find_leader"]["states"]
    assert "本案流程出现故障" in browser("bureau1").get(f"/cases/{broken}").text


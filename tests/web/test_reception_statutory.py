"""A reception case on the statutory path, through the pages and their access rules: the hand-over is the
acceptance (told on the spot), the leader's deadline may not pass the statutory handling limit, the handling
agency's head approves an extension, and the approved result goes on to the written reply, the petitioner's
rating and review request on the query page. The registrar's other decisions end the case at the hearing."""

from __future__ import annotations

from datetime import datetime

from engine.models import HumanTask
from workflows.cases.record import CaseRecord

from .pages import errors_of, text_of

REVIEW_RIGHTS = "对答复意见不服的，可以自收到书面答复之日起30日内请求原办理机关的上一级机关复查。"


def _case(services, case_id: int) -> CaseRecord:
    with services.unit_of_work() as session:
        case = session.get(CaseRecord, case_id)
        session.expunge(case)
        return case


def _data(desk, case_id: int) -> dict:
    return desk.run(lambda session, engine: engine.case_data(case_id))


def _submit(browser, desk, who: str, case_id: int, element: str, form: dict) -> object:
    """Post a task's form as `who`, as the task page does; the task must be one `who` may act on."""
    task: HumanTask = desk.task(case_id, element)
    return browser(who).post(f"/tasks/{task.id}", form)


def test_a_reception_case_runs_from_the_visit_to_the_review_request(browser, desk, services):
    case_id = desk.visit()
    # 接谈研判: the hand-over is the acceptance, told on the spot
    heard = _submit(browser, desk, "t01.cadre", case_id, "hear_claim",
                    {"disposition": "hand_over", "note": "须协调县人社局", "notice": "已受理，60日内书面答复"})
    assert heard.status_code == 302
    data = _data(desk, case_id)
    assert data["decision"] == "accept" and data["acceptance_notice"] == "已受理，60日内书面答复"
    accepted = datetime.fromisoformat(data["accepted_at"])
    case = _case(services, case_id)
    assert case.decision == "accept"
    assert case.deadlines["acceptance"]["met"] is True
    assert case.deadlines["handling"]["due"] == "2026-05-06T09:30:00+00:00"  # 60 days on; 1-5 May are days off
    assert (datetime.fromisoformat(case.deadlines["handling"]["due"]) - accepted).days >= 60
    desk.run_timer(case_id)  # the end of the workday: the leader in charge gets 交办

    # 交办: the form offers the statutory limit; a later day is refused on the field and nothing changes
    leader = browser("t01.leader.social")
    assign = desk.task(case_id, "assign_unit")
    page = leader.get(f"/tasks/{assign.id}")
    assert 'value="2026-05-06"' in page.text  # the default deadline is the limit
    refused = leader.post(f"/tasks/{assign.id}", {"handling_unit": "county-hrss", "deadline": "2026-05-07",
                                                  "instructions": "请核实"})
    assert refused.status_code == 422
    assert errors_of(refused)["deadline"].startswith("办结期限不能晚于2026-05-06：法定办理期限为自受理之日起60日")
    assert 'value="2026-05-07"' in refused.text and desk.open_elements(case_id) == ["assign_unit"]
    assert leader.post(f"/tasks/{assign.id}", {"handling_unit": "county-hrss", "deadline": "2026-03-20",
                                               "instructions": "请核实"}).status_code == 302

    # 办理: the unit asks for 20 more days; the leader may not approve it, the agency's head does
    assert _submit(browser, desk, "hrss.handler", case_id, "handle_case",
                   {"handling_action": "extend", "handling_result": "需调取省平台参保记录",
                    "extension_reason": "省平台核对周期长", "extension_days": "20"}).status_code == 302
    approve = desk.task(case_id, "approve_extension")
    assert approve.lane == "承办单位负责人"
    assert browser("t01.leader.social").post(f"/tasks/{approve.id}", {"extension_approved": "true"}).status_code == 403
    assert browser("hrss.head").post(f"/tasks/{approve.id}", {
        "extension_approved": "true", "approval_note": "同意",
        "extension_notice": "因需核对省平台记录，办理期限延长20日"}).status_code == 302
    case = _case(services, case_id)
    assert case.extended
    assert case.deadlines["supervision"]["due"] == "2026-04-09T09:30:00+00:00"
    assert case.deadlines["handling"]["due"] == "2026-05-26T09:30:00+00:00"

    # a second extension is refused on the field (Art. 34 allows one of at most 30 days); the task stays open
    again = {"handling_action": "extend", "handling_result": "仍在核对", "extension_reason": "省平台未回复",
             "extension_days": "10"}
    refused = _submit(browser, desk, "hrss.handler", case_id, "handle_case", again)
    assert refused.status_code == 422
    assert errors_of(refused)["handling_action"].startswith("本案已延期一次，不能再次申请延期")
    assert desk.open_elements(case_id) == ["handle_case"]

    # 办理并报告, 审核: the approved result goes on to the written reply, not to the end
    done = {"handling_action": "done", "handling_result": "已恢复发放", "outcome": "support"}
    assert _submit(browser, desk, "hrss.handler", case_id, "handle_case", done).status_code == 302
    assert _submit(browser, desk, "t01.leader.social", case_id, "check_result",
                   {"approved": "true", "check_note": "同意"}).status_code == 302
    assert desk.open_elements(case_id) == ["reply"]
    assert _case(services, case_id).status == "open"
    reply = desk.task(case_id, "reply")
    assert browser("t01.leader.social").post(f"/tasks/{reply.id}", {}).status_code == 403  # the unit replies
    missing = browser("hrss.handler").post(f"/tasks/{reply.id}", {"outcome": "support", "reply": "",
                                                                   "review_rights_notice": REVIEW_RIGHTS})
    assert missing.status_code == 422 and "reply" in errors_of(missing)
    assert browser("hrss.handler").post(f"/tasks/{reply.id}", {
        "outcome": "support", "reply": "经核实，自本月起恢复低保并补发", "review_rights_notice": REVIEW_RIGHTS,
    }).status_code == 302
    case = _case(services, case_id)
    assert case.outcome == "support" and case.review_unit == "county-government"
    assert case.deadlines["handling"]["met"] is True and case.deadlines["supervision"]["met"] is True

    # the petitioner rates on the query page, then asks for a review there
    public = browser()
    page = public.post("/query", {"code": case.query_code})
    assert "提交评价" in page.text and "支持" in text_of(page)
    assert public.post("/query/rate", {"code": case.query_code, "satisfaction": "dissatisfied"}).status_code == 200
    asked = public.post("/query/review", {"code": case.query_code, "reason": "补发金额不对"})
    assert asked.status_code == 200 and "已提交复查申请" in asked.text
    assert desk.open_elements(case_id) == ["review_decide"]
    case = _case(services, case_id)
    assert case.satisfaction == "dissatisfied" and case.rating_source == "petitioner"

    # the case page shows the acceptance, the deadlines, the reply, the rating and the review body
    shown = text_of(browser("bureau1").get(f"/cases/{case_id}"))
    for words in ("受理审查", "受理（已告知受理）", "受理告知期限", "办理期限", "督办办结期限", "处理意见", "支持",
                  "满意度", "不满意（信访人自评）", "复查机关", "已批准延期"):
        assert words in shown, words


def test_the_registrars_other_decisions_end_the_case_at_the_hearing(browser, desk, services):
    case_id = desk.visit()
    cadre = browser("t01.cadre")
    task = desk.task(case_id, "hear_claim")
    incomplete = cadre.post(f"/tasks/{task.id}", {"disposition": "not_accept", "notice": ""})
    assert incomplete.status_code == 422
    assert set(errors_of(incomplete)) >= {"notice", "decision_reason"}
    assert desk.open_elements(case_id) == ["hear_claim"]
    assert cadre.post(f"/tasks/{task.id}", {"disposition": "not_accept", "decision_reason": "民间借贷纠纷",
                                            "notice": "可向人民法院起诉"}).status_code == 302
    case = _case(services, case_id)
    assert case.status == "closed" and case.decision == "not_accept" and not case.on_the_spot
    assert desk.open_elements(case_id) == []

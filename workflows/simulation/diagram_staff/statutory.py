"""信访事项依法办理: the handling unit confirms competence (or lets the objection window pass), handles the case
(an extension approved by the agency's head), replies in writing; the petitioner rates it and may ask for review
and re-examination by the bodies one level above the handler (workflows/data/review_bodies.yaml).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.simulation.petitions import Petition
from workflows.simulation.staff import OUTCOMES, PETITIONER, SATISFACTION, Act, Handler, Staff, TaskInfo

REVIEW_RIGHTS = "对答复意见不服的，可以自收到书面答复之日起30日内请求原办理机关的上一级机关复查。"
COUNTY_GOVERNMENT, CITY_GOVERNMENT = "county-government", "city-government"


def confirm_competence(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
    if staff.chance(0.3):
        return None  # no objection within 5 working days: accepted by silence
    return Act(staff.days(now, 0.1, 2), staff.county.handler(staff.unit(p)), {"competent": True})


def handle(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    actor = staff.county.handler(staff.unit(p))
    if not p.extras.get("extension_asked") and staff.chance(0.08):
        p.extras["extension_asked"] = True
        return Act(staff.within(task, now, late=0.0, usual_days=50), actor,
                   {"handling_action": "extend", "handling_note": "情况复杂，需进一步调查核实",
                    "extension_reason": "涉及多个部门，需现场勘验", "extension_days": staff.rng.randint(15, 30)})
    return Act(staff.within(task, now, late=0.05, usual_days=40, late_days=(1, 20)), actor,
               {"handling_action": "done", "handling_note": "已调查核实并形成处理意见"})


def approve_extension(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    unit = staff.unit(p)
    approved = staff.chance(0.85)
    data: dict[str, Any] = {"extension_approved": approved,
                            "approval_note": "同意延期" if approved else "不予延期，请按原期限办结"}
    if approved:
        data["extension_notice"] = "因情况复杂需现场勘验，办理期限延长，特此告知"
    return Act(staff.days(now, 0.2, 3), staff.county.person("agency_head", unit, f"{unit}.head"), data)


def reply(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    actor = staff.county.handler(staff.unit(p))
    return Act(staff.days(now, 0.5, 3), actor, {"outcome": staff.pick(OUTCOMES), "reply": "出具书面处理意见并送达",
                                                "review_rights_notice": REVIEW_RIGHTS})


def rate(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
    if not staff.chance(0.8):
        return None
    level = staff.pick(SATISFACTION)
    p.extras["satisfaction"] = level
    if staff.chance(0.25):  # told on a return call: the bureau records it, marked so
        return Act(staff.days(now, 0.5, 5), staff.bureau(), {"satisfaction": level, "rating_source": "recorded"})
    return Act(staff.days(now, 0.5, 6, online=True), PETITIONER,
               {"satisfaction": level, "rating_source": "petitioner"})


def request_review(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
    unhappy = p.extras.get("satisfaction") in ("dissatisfied", "very_dissatisfied")
    if not staff.chance(0.45 if unhappy else 0.03):
        return None
    return Act(staff.days(now, 3, 25, online=True), PETITIONER, {"review_reason": "对处理意见不服，申请复查"})


def review_decide(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    unit = p.township if p.extras.get("handled_at") == "village" else COUNTY_GOVERNMENT
    return Act(staff.within(task, now, late=0.03, usual_days=25),
               staff.county.person("review_body", unit, f"{unit}.reviewer"),
               {"review_decision": staff.pick((("uphold", 0.8), ("revise", 0.2))),
                "outcome": staff.pick(OUTCOMES), "review_opinion": "经复查，出具复查意见"})


def request_reexam(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act | None:
    if not staff.chance(0.3):
        return None
    return Act(staff.days(now, 5, 25, online=True), PETITIONER, {"reexam_reason": "对复查意见不服，申请复核"})


def reexam_decide(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    unit = COUNTY_GOVERNMENT if p.extras.get("handled_at") == "village" else CITY_GOVERNMENT
    return Act(staff.within(task, now, late=0.03, usual_days=25),
               staff.county.person("reexam_body", unit, f"{unit}.staff"),
               {"reexam_decision": staff.pick((("uphold", 0.85), ("revise", 0.15))),
                "outcome": staff.pick(OUTCOMES), "reexam_opinion": "经复核，维持或变更复查意见"})


HANDLERS: dict[str, Handler] = {
    "confirm_competence": confirm_competence, "handle": handle, "approve_extension": approve_extension,
    "reply": reply, "rate": rate, "request_review": request_review, "review_decide": review_decide,
    "request_reexam": request_reexam, "reexam_decide": reexam_decide,
}

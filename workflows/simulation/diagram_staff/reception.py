"""坐班接访: the duty secretary and township cadre of a township's reception room, within minutes of the visit.

The secretary registers the visit as the visitors arrive; the cadre hears the claim and decides on the spot:
answered or coordinated there, handed over to a leader, or decided as a registrar would.
"""

from __future__ import annotations

from datetime import datetime

from workflows.simulation.petitions import Petition, identity
from workflows.simulation.staff import OUTCOMES, Act, Handler, Staff, TaskInfo

# 接谈研判: answered or coordinated on the spot, accepted and handed over, or decided as a registrar would
HEARINGS = (("answer", 0.35), ("coordinate", 0.29), ("hand_over", 0.31), ("not_accept", 0.02), ("transfer", 0.01),
            ("legal_referral", 0.02))
HEARING_NOTICES: dict[str, dict[str, str]] = {
    "hand_over": {"notice": "当场告知已受理，移交分管领导督办"},
    "not_accept": {"notice": "当场书面告知不予受理及理由", "decision_reason": "不属于信访事项受理范围"},
    "transfer": {"notice": "当场告知转送有权处理的机关", "transfer_outside": "有权处理的县外机关"},
    "legal_referral": {"notice": "当场告知通过法定途径解决", "legal_route": "court"},
}


def register_visit(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    secretary, _cadre = staff.county.on_duty(p.township, staff.calendar.local_day(now))
    # The desk starts the case and registers the visit in one go (reception_desk.register_visit).
    return Act(now, secretary, {**identity(p), "headcount": p.headcount})


def hear_claim(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    _secretary, cadre = staff.county.on_duty(p.township, staff.calendar.local_day(now))
    if p.category == "accusation" or p.headcount >= 5 and staff.chance(0.5):
        disposition = "hand_over"
    else:
        disposition = staff.pick(HEARINGS)
    return Act(staff.minutes(now, 10, 45), cadre,
               {"disposition": disposition, "note": "听取诉求，当场研判", **HEARING_NOTICES.get(disposition, {})})


def record_answer(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    secretary, _cadre = staff.county.on_duty(p.township, staff.calendar.local_day(now))
    return Act(staff.minutes(now, 5, 20), secretary,
               {"answer": "当场解释政策并告知办理渠道", "outcome": staff.pick(OUTCOMES)})


def coordinate_on_spot(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    _secretary, cadre = staff.county.on_duty(p.township, staff.calendar.local_day(now))
    resolved = staff.chance(0.62)
    return Act(staff.minutes(now, 20, 90), cadre,
               {"resolved": resolved,
                "coordination_note": "当场协调相关方" + ("，已化解" if resolved else "，未能化解")})


HANDLERS: dict[str, Handler] = {
    "register_visit": register_visit, "hear_claim": hear_claim, "record_answer": record_answer,
    "coordinate_on_spot": coordinate_on_spot,
}

"""信访事项办理: the county bureau registers and decides (accept, not accept, refer to the legal route, transfer),
assigns a handling unit or hands an accusation to the discipline body, and the village or township tries to
resolve the claim first when its tier says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.simulation.petitions import Petition, accused_of, identity
from workflows.simulation.staff import OUTCOMES, Act, Handler, Staff, TaskInfo

DECISIONS = (("accept", 0.9), ("not_accept", 0.04), ("legal_referral", 0.03), ("transfer", 0.03))


def register(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    data: dict[str, Any] = {**identity(p), "channel": p.channel, "headcount": p.headcount,
                            "confidentiality_requested": p.category == "accusation" or staff.chance(0.03)}
    if p.category == "accusation":
        data["accused_unit"] = accused_of(p)
    # A visit is registered while the visitors are there, as they arrive; a letter or a call some time later.
    return Act(now if p.channel == "visit" else staff.days(now, 0.05, 2), staff.bureau(), data)


def decide_registration(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    decision = "accept" if p.category == "accusation" else staff.pick(DECISIONS)
    data: dict[str, Any] = {"decision": decision, "notice": "书面告知信访人", "tier": p.tier}
    if decision == "not_accept":
        data["decision_reason"] = "不属于信访事项受理范围"
    elif decision == "legal_referral":
        data["legal_route"] = staff.pick((("court", 0.5), ("arbitration", 0.3), ("reconsideration", 0.2)))
    elif decision == "transfer":
        data["transfer_outside"] = "有权处理的县外机关"
    if p.repeat_of:
        data["repeat_of"] = p.repeat_of
    return Act(staff.within(task, now, late=0.03, usual_days=8, late_days=(1, 5)), staff.bureau(), data)


def assign_handling(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.days(now, 0.1, 2), staff.bureau(), {"handling_unit": staff.unit(p)})


def discipline_accept(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    """The discipline body accepts the accusation and names the handling unit the routing tables choose for it (the
    simulated county sends no accusation up to the city)."""
    unit = p.extras["unit"] = staff.county.unit(p.category, p.township, accused_of(p))
    accepter = staff.county.person("discipline", unit, staff.county.anyone("discipline", f"{unit}.staff"))
    return Act(staff.days(now, 0.2, 3), accepter,
               {"discipline_decision": "accept", "handling_unit": unit,
                "acceptance_notice": "已受理，由县纪委监委办理"})


def village_resolve(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    cadre = staff.county.person("village_cadre", p.village, f"{p.village}.cadre")
    return _tier_attempt(staff, task, p, now, cadre, "village", (0.58, 10, "村干部与网格员上门化解"))


def township_resolve(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    cadre = staff.county.person("township_cadre", p.township, f"{p.township}.cadre")
    return _tier_attempt(staff, task, p, now, cadre, "township", (0.55, 12, "乡镇组织相关站所化解"))


def _tier_attempt(staff: Staff, task: TaskInfo, p: Petition, now: datetime, actor: str, tier: str,
                  how: tuple[float, float, str]) -> Act:
    """A village or township tries to resolve the claim; who answered is remembered for the review body."""
    chance, usual_days, note = how
    data = _resolution(staff, chance, note)
    p.extras["handled_at"] = tier if data["resolved"] else None
    return Act(staff.within(task, now, late=0.05, usual_days=usual_days), actor, data)


def _resolution(staff: Staff, chance: float, note: str) -> dict[str, Any]:
    if staff.chance(chance):
        return {"resolved": True, "resolution_note": f"{note}，已化解", "outcome": staff.pick(OUTCOMES),
                "reply": "已当面答复信访人"}
    return {"resolved": False, "resolution_note": f"{note}，未能化解，上升一级"}


HANDLERS: dict[str, Handler] = {
    "register": register, "decide_registration": decide_registration, "assign_handling": assign_handling,
    "discipline_accept": discipline_accept, "village_resolve": village_resolve, "township_resolve": township_resolve,
}

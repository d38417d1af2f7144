"""金牌调解室: the village mediation panel hears and judges, the village cadre or the legal adviser follows up,
and the panel confirms the result or sends the claim on (to the petition route or the legal one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.simulation.petitions import Petition
from workflows.simulation.staff import Act, Handler, Staff, TaskInfo


def hear_case(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    mediator = staff.county.person("mediation_panel", p.village, f"{p.village}.mediator")
    return Act(staff.days(now, 1, 7), mediator,
               {"panel_members": "人大代表、老党员、乡贤、律师", "judgement_reason": "依据政策和村规民约评议",
                "judgement": staff.pick((("reasonable", 0.4), ("unreasonable", 0.25), ("partly", 0.35))),
                "hardship": staff.chance(0.2), "unlawful": staff.chance(0.05)})


def follow_up(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    cadre = staff.county.person("village_cadre", p.village, f"{p.village}.cadre")
    if task.element_id == "handle_by_law":
        cadre = staff.county.person("legal_adviser", p.village, f"{p.village}.lawyer")
    data: dict[str, Any] = {
        "solve_problem": {"solution": "协调解决诉求"},
        "educate": {"education": "讲清政策法规，做通思想工作"},
        "assist": {"assistance_type": staff.pick((("civil_affairs", 0.5), ("temporary_relief", 0.3),
                                                 ("medical", 0.1), ("employment", 0.1))),
                   "assistance": "落实帮扶救助"},
        "handle_by_law": {"legal_action": "移交派出所依法处理"},
    }[task.element_id]
    return Act(staff.days(now, 0.5, 6), cadre, data)


def confirm_result(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    mediator = staff.county.person("mediation_panel", p.village, f"{p.village}.mediator")
    if staff.chance(0.85):
        return Act(staff.days(now, 0.2, 3), mediator,
                   {"agreement_reached": True, "mediation_note": "双方签订调解协议"})
    route = staff.pick((("petition", 0.6), ("legal", 0.4)))
    if route == "petition":
        p.tier = "township"
    return Act(staff.days(now, 0.2, 3), mediator,
               {"agreement_reached": False, "mediation_note": "调解未达成协议", "next_route": route})


def guide_legal(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    lawyer = staff.county.person("legal_adviser", p.village, f"{p.village}.lawyer")
    return Act(staff.days(now, 0.5, 4), lawyer,
               {"legal_route": staff.pick((("court", 0.6), ("arbitration", 0.2), ("reconsideration", 0.2))),
                "legal_guidance": "告知当事人依法通过法定途径解决"})


HANDLERS: dict[str, Handler] = {
    "hear_case": hear_case, "solve_problem": follow_up, "educate": follow_up, "assist": follow_up,
    "handle_by_law": follow_up, "confirm_result": confirm_result, "guide_legal": guide_legal,
}

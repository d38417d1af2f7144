"""网上群众路线: on online duty (08:00-22:00 daily) a message is acknowledged (回应) by the village cadre or the
county bureau, then claimed, answered and reported back to its writer by the handling unit, rarely late.
"""

from __future__ import annotations

from datetime import datetime

from workflows.simulation.petitions import Petition, accused_of
from workflows.simulation.staff import SATISFACTION, Act, Handler, Staff, TaskInfo


def respond(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    """回应: a WeChat-group message by the village's cadre (respond_village), a board message by the bureau."""
    unit = staff.county.unit(p.category, p.township, accused_of(p))
    p.extras["unit"] = unit
    who = staff.county.person("village_cadre", p.village, f"{p.village}.cadre") \
        if task.element_id == "respond_village" else staff.bureau()
    return Act(staff.within(task, now, late=0.015, usual_days=1, late_days=(0.1, 1), online=True), who,
               {"response": "您的留言已收到，正在转交办理", "category": p.category, "responsible_unit": unit})


def claim_message(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    handling = "assign" if p.category == "accusation" or staff.chance(0.12) else "answer"
    if handling == "assign":
        p.tier, p.channel = "county", "online"
    return Act(staff.within(task, now, late=0.015, usual_days=3, late_days=(0.2, 2), online=True),
               staff.county.handler(staff.unit(p)), {"handling": handling, "claim_note": "本单位认领"})


def answer(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.within(task, now, late=0.02, usual_days=5, late_days=(0.2, 3), online=True),
               staff.county.handler(staff.unit(p)), {"answer": "已按政策解答", "policy_basis": "相关政策文件"})


def feedback(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    level = staff.pick(SATISFACTION)
    return Act(staff.within(task, now, late=0.015, usual_days=1, late_days=(0.1, 2), online=True),
               staff.county.handler(staff.unit(p)),
               {"feedback": "已将办理结果反馈留言人", "satisfaction": level,
                "feedback_method": staff.pick((("message_board", 0.5), ("wechat_group", 0.3), ("phone", 0.2)))})


HANDLERS: dict[str, Handler] = {
    "respond": respond, "respond_village": respond, "claim": claim_message, "answer": answer, "feedback": feedback,
}

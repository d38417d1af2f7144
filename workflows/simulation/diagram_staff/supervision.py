"""跟踪督办、限期办结: the responsible leader assigns a handed-over case and checks the result, the handling unit
handles it (asking once for an extension now and then), the leader reminds and the county bureau reports overdue.
"""

from __future__ import annotations

from datetime import datetime

from workflows.simulation.petitions import Petition, accused_of
from workflows.simulation.staff import DAY, OUTCOMES, Act, Handler, Staff, TaskInfo


def assign_unit(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    unit = staff.county.unit(p.category, p.township, accused_of(p))
    p.extras["unit"] = unit
    at = staff.days(now, 0.05, 1.5)
    deadline = staff.calendar.local_day(at) + DAY * staff.rng.randint(10, 30)
    return Act(at, staff.county.leader(p.township, p.category),
               {"handling_unit": unit, "deadline": deadline.isoformat(), "instructions": "请按期办结并报告"})


def handle_case(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    unit = staff.unit(p)
    if not p.extras.get("extension_asked") and staff.chance(0.05):  # once, approved by the agency's head
        p.extras["extension_asked"] = True
        return Act(staff.within(task, now, late=0.0, usual_days=10), staff.county.handler(unit),
                   {"handling_action": "extend", "handling_result": "情况复杂，需进一步核实",
                    "extension_reason": "涉及多个部门，需现场核实", "extension_days": staff.rng.randint(10, 30)})
    return Act(staff.within(task, now, late=0.08, usual_days=15), staff.county.handler(unit),
               {"handling_action": "done", "handling_result": "已核实情况并办理", "outcome": staff.pick(OUTCOMES)})


def check_result(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    approved = staff.chance(0.92)
    return Act(staff.days(now, 0.1, 2), staff.county.leader(p.township, p.category),
               {"approved": approved, "check_note": "同意办结" if approved else "办理不到位，退回重办"})


def send_reminder(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.days(now, 0.05, 1), staff.county.leader(p.township, p.category),
               {"reminder_note": "期限将至，请抓紧办理"})


def report_overdue(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    p.extras["overdue"] = True
    return Act(staff.days(now, 0.1, 2), staff.bureau(), {"notice": "超期未办结，予以通报"})


# approve_extension, the agency head's approval, is the statutory path's own task: answered in statutory.py
HANDLERS: dict[str, Handler] = {
    "assign_unit": assign_unit, "handle_case": handle_case, "check_result": check_result,
    "send_reminder": send_reminder, "report_overdue": report_overdue,
}

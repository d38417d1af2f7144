"""领导包案: the county bureau lists a stuck or repeated case for a county leader, who sets up a working team; the
handling unit reports progress until the work is done, the leader proposes to close and the bureau verifies.
"""

from __future__ import annotations

from datetime import datetime

from workflows.simulation.petitions import Petition, accused_of
from workflows.simulation.staff import DAY, Act, Handler, Staff, TaskInfo


def list_case(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    leader = staff.rng.choice(staff.county.county_leaders)
    p.extras["package_leader"] = leader
    p.extras["unit"] = staff.county.unit(p.category, p.township, accused_of(p))
    return Act(staff.days(now, 0.1, 2), staff.bureau(),
               {"case_ref": str(p.extras.get("case_ref", p.repeat_of or "")),
                "list_reason": "repeat" if p.times > 1 else "stuck", "case_summary": p.claim,
                "package_leader": leader})


def setup_package(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    at = staff.days(now, 1, 5)
    p.extras["reports"] = staff.rng.randint(1, 4)
    deadline = staff.calendar.local_day(at) + DAY * staff.rng.randint(30, 75)
    leader = p.extras.get("package_leader") or staff.county.county_leaders[0]
    return Act(at, leader, {"leader": leader, "working_team": "县直部门、乡镇、村联合工作专班",
                            "handling_unit": staff.unit(p),
                            "responsible_person": staff.county.handler(staff.unit(p)),
                            "resolution_plan": "一案一策化解方案", "response_mechanism": "每周调度、即时回应",
                            "archive_number": f"BA-{staff.calendar.local_day(at).year}-{task.instance_id}",
                            "deadline": deadline.isoformat()})


def package_work(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    left = p.extras.get("reports", 1) - 1
    p.extras["reports"] = left
    at = staff.within(task, now, late=0.10, usual_days=20) if left <= 0 else staff.days(now, 5, 15)
    if task.due_at is not None and left > 0:
        at = min(at, staff.office(now + (task.due_at - now) / 3))
    return Act(at, staff.county.handler(staff.unit(p)),
               {"progress_report": "按方案推进，报告进展", "work_done": left <= 0})


def propose_close(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    return Act(staff.days(now, 1, 4), p.extras.get("package_leader") or staff.county.county_leaders[0],
               {"closing_summary": "化解到位，信访人息诉罢访"})


def verify(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    verified = staff.chance(0.9)
    if not verified:
        p.extras["reports"] = 1
    return Act(staff.days(now, 1, 5), staff.bureau(),
               {"verified": verified, "verify_note": "对账核验通过" if verified else "核验未通过，继续办理"})


HANDLERS: dict[str, Handler] = {
    "list_case": list_case, "setup": setup_package, "work": package_work, "propose_close": propose_close,
    "verify": verify,
}

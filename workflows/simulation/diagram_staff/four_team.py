"""四支队伍集村部会商: each of the four teams gives its view, the village liaison decides where the issue goes."""

from __future__ import annotations

from datetime import datetime

from workflows.simulation.petitions import Petition
from workflows.simulation.staff import Act, Handler, Staff, TaskInfo

TEAM_SEATS = {  # the four teams' views: the role giving each, and the demo org's seat name in the village
    "view_backer_unit": ("backer_unit_head", "backer"), "view_township_cadre": ("village_liaison", "liaison"),
    "view_work_team": ("work_team", "workteam"), "view_village_committee": ("village_cadre", "secretary"),
}


def team_view(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    role, seat = TEAM_SEATS[task.element_id]
    team = staff.county.person(role, p.village, f"{p.village}.{seat}")
    prefix = task.element_id.removeprefix("view_")
    suggestion = staff.pick((("village", 0.45), ("mediation", 0.35), ("township", 0.2)))
    return Act(staff.days(now, 0.5, 4), team,
               {f"{prefix}_view": "集村部会商发表意见", f"{prefix}_suggestion": suggestion})


def team_decide(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    team = staff.county.person("village_liaison", p.village, f"{p.village}.liaison")
    decision = staff.pick((("village", 0.45), ("mediation", 0.35), ("township", 0.2)))
    if decision == "township":
        p.tier = "township"
        p.channel = "grid"
    return Act(staff.days(now, 0.1, 2), team, {"decision": decision, "consultation_minutes": "四支队伍集体会商纪要"})


HANDLERS: dict[str, Handler] = {**dict.fromkeys(TEAM_SEATS, team_view), "decide": team_decide}

"""网格员下访: the grid worker records a household's issue, the village cadre tries to resolve it on the spot."""

from __future__ import annotations

from datetime import datetime

from workflows.simulation.petitions import Petition
from workflows.simulation.staff import Act, Handler, Staff, TaskInfo


def record_issue(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    grid = p.grid or p.village
    worker = staff.county.person("grid_worker", grid, f"{grid}.worker")
    complexity = "general" if p.category != "accusation" and staff.chance(0.8) else "complex"
    return Act(staff.minutes(now, 10, 60), worker,
               {"township": p.township, "village": p.village, "grid": grid, "household": p.person.name,
                "source": staff.pick((("home_visit", 0.7), ("hearing_meeting", 0.25), ("other", 0.05))),
                "category": p.category, "claim": p.claim, "complexity": complexity})


def resolve_on_spot(staff: Staff, task: TaskInfo, p: Petition, now: datetime) -> Act:
    resolved = staff.chance(0.9)
    cadre = staff.county.person("village_cadre", p.village, f"{p.village}.cadre")
    return Act(staff.days(now, 0.1, 4), cadre,
               {"resolved": resolved,
                "resolution": "村干部与网格员上门调处" + ("，已解决" if resolved else "，未解决")})


HANDLERS: dict[str, Handler] = {"record_issue": record_issue, "resolve_on_spot": resolve_on_spot}

"""The simulated staff: how the county's people time their work and draw their answers, and who answers which task.

The simulator asks `Staff.act` what to do with every open task; the answer is an `Act` (the moment, the user
acting in the task's lane, the form data) or None when nobody acts (a petitioner who never rates, or never asks
for a review, lets the diagram's own timer close the step). What each task gets is decided by the handler of its
element, one module per diagram in `workflows/simulation/diagram_staff/`; the handlers use the tools here. All
randomness comes from the one seeded generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from workflows.cases.calendar import WorkCalendar
from workflows.simulation.org_directory import County
from workflows.simulation.petitions import Petition, accused_of

OUTCOMES = (("explain", 0.62), ("support", 0.30), ("reject", 0.08))
SATISFACTION = (("very_satisfied", 0.34), ("satisfied", 0.40), ("basic", 0.15), ("dissatisfied", 0.08),
                ("very_dissatisfied", 0.03))
PETITIONER = "petitioner"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class TaskInfo:
    """The open task to act on, as the task table shows it."""

    id: str
    instance_id: int
    element_id: str
    lane: str | None
    created_at: datetime
    due_at: datetime | None


@dataclass(frozen=True)
class Act:
    """Complete a task at a moment, as a user, with form data."""

    at: datetime
    actor: str
    data: dict[str, Any]


Handler = Callable[["Staff", TaskInfo, Petition, datetime], Act | None]


class Staff:
    """Everyone who works a case: each task element maps to the handler that says how its lane acts."""

    def __init__(self, county: County, calendar: WorkCalendar, rng: random.Random,
                 handlers: Mapping[str, Handler]):
        self.county, self.calendar, self.rng = county, calendar, rng
        self.handlers = handlers

    def act(self, task: TaskInfo, petition: Petition, now: datetime) -> Act | None:
        """What happens to an open task; None when nobody acts on it."""
        handler = self.handlers.get(task.element_id)
        return handler(self, task, petition, now) if handler is not None else None

    # -- time ------------------------------------------------------------------------------------------------
    def minutes(self, now: datetime, low: float, high: float) -> datetime:
        """A few minutes later, as at the reception desk."""
        return now + timedelta(minutes=self.rng.uniform(low, high))

    def office(self, moment: datetime, online: bool = False) -> datetime:
        """The moment moved into office hours (08:30-17:30 on workdays; 08:00-22:00 daily for online duty)."""
        local = self.calendar.local(moment)
        opens, closes = (time(8, 0), time(22, 0)) if online else (time(8, 30), self.calendar.workday_end)
        day = local.date()
        open_today = online or self.calendar.is_workday(day)
        if open_today and opens <= local.time() < closes:
            return moment
        if not (open_today and local.time() < opens):
            day = day + DAY if online else self.calendar.next_workday(day)
        return self.calendar.at(day, opens) + timedelta(minutes=self.rng.uniform(0, 90))

    def within(self, task: TaskInfo, now: datetime, late: float, usual_days: float,
               late_days: tuple[float, float] = (1, 10), online: bool = False) -> datetime:
        """When a task with a due time gets done: mostly inside the period, a share `late` after it."""
        due = task.due_at
        if due is None:
            return self.office(now + DAY * self.rng.uniform(0.1, usual_days), online)
        if self.rng.random() < late:
            return self.office(due + DAY * self.rng.uniform(*late_days), online)
        moment = self.office(now + (due - now) * self.rng.uniform(0.05, 0.85), online)
        return moment if moment < due else max(now + timedelta(minutes=5), due - timedelta(hours=2))

    def days(self, now: datetime, low: float, high: float, online: bool = False) -> datetime:
        """Some days later, in office hours."""
        return self.office(now + DAY * self.rng.uniform(low, high), online)

    # -- draws -----------------------------------------------------------------------------------------------
    def pick(self, table: tuple[tuple[Any, float], ...]) -> Any:
        """A value drawn from (value, weight) pairs."""
        values, weights = zip(*table, strict=True)
        return self.rng.choices(values, weights)[0]

    def chance(self, p: float) -> bool:
        """True with probability p."""
        return self.rng.random() < p

    # -- who -------------------------------------------------------------------------------------------------
    def unit(self, p: Petition) -> str:
        """The handling unit working this case: the one chosen for it, else the routing table's."""
        if "unit" not in p.extras:
            p.extras["unit"] = self.county.unit(p.category, p.township, accused_of(p))
        return str(p.extras["unit"])

    def bureau(self) -> str:
        """One of the county bureau's staff."""
        return self.rng.choice(self.county.bureau)

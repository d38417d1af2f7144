"""The county simulator: months of petitions run through the real diagrams on the simulated clock.

Petitions arrive by channel at yearly rates calibrated to DOMAIN.md (2021: 333 visit batches, 955 person-visits,
1,839 online messages), plus grid workers' reports, letters and calls, from the villages of the org, with
seasons, group visits and people who come back with the same claim. Staff act on every open task as
`staff.Staff` and its handlers per diagram (`diagram_staff/`) say, mostly on time, some late. Everything goes
through the engine's own calls — `start`, `complete_task` and `run_until` (which fires each timer at its due
time) — so the case records, tasks and histories are exactly what real use would leave; the simulator writes no
engine row itself.

Deterministic for a seed: two random streams, one for what arrives (`arrivals.ArrivalStream`: channels, moments,
the heads of each visit batch) and one for everything else, actions taken in order of business time (ties in
the order they were planned), no wall clock except for the summary's timings. Run it on a fresh database for
identical results; a second run on the same database goes on from where the clock stands and takes up the
tasks left open.
"""

from __future__ import annotations

import heapq
import random
import time as wallclock
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from engine import Engine, SimulatedClock, StepResult, TaskNotReady
from engine.models import HumanTask, Instance, MessageWait, SimulatedTime
from workflows import DomainError
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import DomainConfig, packaged_config
from workflows.org.models import RotaEntry
from workflows.org.rota import generate_rota
from workflows.simulation.arrivals import Arrival, ArrivalStream, Rates
from workflows.simulation.diagram_staff import HANDLERS
from workflows.simulation.org_directory import County
from workflows.simulation.petitions import CATEGORIES, Petition, Resident, make_resident
from workflows.simulation.staff import Act, Staff, TaskInfo

ROUTE_NAMES = {"reception": "坐班接访", "petition": "信访事项办理(县)", "online_message": "网上群众路线",
               "grid_visit": "网格员下访", "leader_package": "领导包案", "monthly_report": "月度通报"}
REPORT_TIME = time(9, 0)


class SimulationError(DomainError):
    """The database is not ready to simulate (no simulated clock, no demo county)."""


@dataclass
class Summary:
    """What a run did: cases by route and outcome, overdue cases, engine steps, timings."""

    seed: int
    start: datetime
    end: datetime
    routes: dict[str, dict[str, int]] = field(default_factory=dict)  # route → {"started", "open", outcome…}
    overdue: int = 0
    on_the_spot: int = 0
    extended: int = 0
    repeats: int = 0
    group_visits: int = 0
    visit_persons: int = 0
    steps: int = 0
    timers: int = 0
    incidents: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        """Engine steps (starts, completions, timer firings) per second of wall time."""
        return self.steps / self.wall_seconds if self.wall_seconds else 0.0

    def outcome(self) -> dict[str, Any]:
        """Everything but the timings: equal for equal seeds on equal databases."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "wall_seconds"}

    def lines(self) -> list[str]:
        """The summary as a person reads it."""
        out = [f"simulated {self.start.isoformat(timespec='minutes')} → {self.end.isoformat(timespec='minutes')} "
               f"(seed {self.seed})", "",
               f"{'route':<32}{'started':>8}{'open':>6}{'support':>9}{'explain':>9}{'reject':>8}{'other':>7}"]
        for route, counts in self.routes.items():
            label = f"{ROUTE_NAMES.get(route, route)} ({route})"
            closed_other = counts.get("closed", 0) - sum(counts.get(k, 0) for k in ("support", "explain", "reject"))
            out.append(f"{label:<{32 - _wide(label)}}{counts.get('started', 0):>8}{counts.get('open', 0):>6}"
                       f"{counts.get('support', 0):>9}{counts.get('explain', 0):>9}{counts.get('reject', 0):>8}"
                       f"{closed_other:>7}")
        out += ["", f"overdue cases: {self.overdue}   on-the-spot visits: {self.on_the_spot}   "
                    f"extensions: {self.extended}   repeat petitions: {self.repeats}",
                f"group visits: {self.group_visits}   person-visits: {self.visit_persons}",
                f"engine steps: {self.steps} (timer firings: {self.timers})   incidents: {len(self.incidents)}"]
        out += [f"  incident: {text}" for text in self.incidents[:10]]
        out.append(f"wall time: {self.wall_seconds:.1f} s   steps per second: {self.steps_per_second:.0f}")
        return out


Progress = Callable[[int], None]  # called with the number of simulated days just finished


class RowPins:
    """Keeps the rows of unfinished cases referenced while the simulator runs.

    SQLAlchemy's identity map holds rows weakly, and the engine reads the same instance, task, case record and
    clock rows at every step: unreferenced, each read would be a query again. Finished cases are let go daily.
    """

    KINDS = (Instance, HumanTask, CaseRecord, MessageWait, SimulatedTime)

    def __init__(self, session: Session):
        self.session = session
        self.rows: dict[int, Any] = {}
        event.listen(session, "loaded_as_persistent", self._pin)
        event.listen(session, "pending_to_persistent", self._pin)

    def _pin(self, _session: Session, row: Any) -> None:
        if isinstance(row, self.KINDS):
            self.rows[id(row)] = row

    def release_finished(self) -> None:
        """Let go of the rows of finished cases and tasks."""
        self.rows = {key: row for key, row in self.rows.items() if not _finished(row)}

    def close(self) -> None:
        """Stop pinning."""
        event.remove(self.session, "loaded_as_persistent", self._pin)
        event.remove(self.session, "pending_to_persistent", self._pin)
        self.rows.clear()


def _finished(row: Any) -> bool:
    state = inspect(row)
    if state.detached or state.deleted:
        return True
    if isinstance(row, Instance):
        return row.status == "completed"
    if isinstance(row, HumanTask):
        return row.status != "open"
    if isinstance(row, CaseRecord):
        return row.status == "closed"
    return False


class Simulator:
    """Runs the demo county on the database's simulated clock through one engine."""

    def __init__(self, session: Session, engine: Engine, clock: SimulatedClock, seed: int,
                 rates: Rates | None = None, commit: Callable[[], None] | None = None,
                 config: DomainConfig | None = None):
        self.session, self.engine, self.clock = session, engine, clock
        self.seed, self.rates = seed, rates or Rates()
        self.commit = commit or session.flush
        self.config = config or packaged_config()
        self.calendar = self.config.calendar
        self.rng = random.Random(seed)
        self.county = County(session, self.config.routing, self.rng)
        if not self.county.all_villages:
            raise SimulationError("the org has no villages: load the demo county with `doorstep init --demo`")
        if not self.county.bureau:
            raise SimulationError("nobody in the org holds the county petition bureau's role (county_bureau, "
                                  "县信访局): the bureau registers the letters and files the reports")
        self.staff = Staff(self.county, self.calendar, self.rng, HANDLERS)
        self.cumulative = list(_accumulate(self.county.weights))
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.sequence = 0
        self.cases: dict[int, Petition] = {}
        self.claims: list[tuple[datetime, int]] = []  # petitions that a person may bring again
        self.packaged: set[int] = set()
        self.planned: set[str] = set()
        self.serial = 0
        self.arrivals = ArrivalStream(seed, self.rates, self.calendar)  # a random stream of its own
        # The next timer of each case, as its instance row said after the last step: the engine is asked to
        # fire timers only when one can be due, which saves a query before most actions.
        self.timer_queue: list[tuple[datetime, int]] = []
        self.next_timer: dict[int, datetime | None] = {}

    # -- the run ----------------------------------------------------------------------------------------------
    def run(self, months: int, progress: Progress | None = None) -> Summary:
        """Simulate `months` calendar months from the clock's time; return the summary."""
        began = wallclock.perf_counter()
        pins = RowPins(self.session)
        try:
            return self._run(months, progress, began, pins)
        finally:
            pins.close()

    def _run(self, months: int, progress: Progress | None, began: float, pins: RowPins) -> Summary:
        start = self.clock.now()
        end = add_months(self.calendar.local(start), months)
        summary = Summary(self.seed, self.calendar.local(start), end)
        first_case = self.session.scalar(select(func.max(CaseRecord.instance_id))) or 0
        self._ensure_rota(self.calendar.local_day(start), self.calendar.local_day(end))
        self._take_up_open_tasks(start)
        self._plan_monthly_reports(start, end)
        self._plan(self.calendar.at(self.calendar.local_day(start), time(0, 0)), "day", None)
        day = self.calendar.local_day(start)
        while self.queue and self.queue[0][0] < end:
            at, _seq, kind, payload = heapq.heappop(self.queue)
            if self.calendar.local_day(at) > day:
                pins.release_finished()
            day = self._new_day(day, at, progress)
            self._fire_timers(at, summary)
            getattr(self, f"_on_{kind}")(payload, summary)
        self._fire_timers(end, summary)
        self._new_day(day, end, progress)
        self._count(summary, first_case)
        summary.wall_seconds = wallclock.perf_counter() - began
        return summary

    def _new_day(self, day: date, at: datetime, progress: Progress | None) -> date:
        """Commit once per simulated day, and report the days gone by."""
        today = self.calendar.local_day(at)
        if today > day:
            self.commit()
            if progress is not None:
                progress((today - day).days)
        return max(today, day)

    def _fire_timers(self, at: datetime, summary: Summary) -> None:
        target = max(at, self.clock.now())
        due = self._earliest_timer()
        if due is None or due > target:
            self._move_clock(target)
            return
        for result in self.engine.run_until(target, self._move_clock):
            summary.steps += 1
            summary.timers += 1
            self._after_step(result, summary, result.events[0].business_time if result.events else at)

    def _note_timer(self, instance: Instance) -> None:
        self.next_timer[instance.id] = instance.next_timer_at
        if instance.next_timer_at is not None:
            heapq.heappush(self.timer_queue, (instance.next_timer_at, instance.id))

    def _earliest_timer(self) -> datetime | None:
        while self.timer_queue:
            due, case_id = self.timer_queue[0]
            if self.next_timer.get(case_id) == due:
                return due
            heapq.heappop(self.timer_queue)  # that case has moved on since
        return None

    def _move_clock(self, moment: datetime) -> None:
        # A timer due exactly at the target fires a microsecond after it: never move the clock back.
        self.clock.set(max(moment, self.clock.now()))

    def _after_step(self, result: StepResult, summary: Summary, now: datetime) -> None:
        self._note_timer(result.instance)
        if result.incident is not None:
            summary.incidents.append(f"case {result.instance.id} {result.incident.element_id}: "
                                     f"{result.incident.message}")
        self._discover(result.instance.id, now, result.open_tasks)

    def _discover(self, instance_id: int, now: datetime, rows: list[HumanTask] | None = None) -> None:
        """Plan what staff do with every task of the case that has newly opened (`rows`: the case's open tasks
        as the step that just ran returned them; read from the task table when not given)."""
        for row in rows if rows is not None else self.engine.open_tasks(instance_id):
            if row.id in self.planned:
                continue
            self.planned.add(row.id)
            task = TaskInfo(row.id, row.instance_id, row.element_id, row.lane, row.created_at, row.due_at)
            act = self.staff.act(task, self.cases.get(instance_id) or self._recall(instance_id), now)
            if act is not None:
                self._plan(act.at, "task", (task, act))

    def _plan(self, at: datetime, kind: str, payload: Any) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (at, self.sequence, kind, payload))

    # -- actions ----------------------------------------------------------------------------------------------
    def _on_day(self, _payload: None, summary: Summary) -> None:
        """Draw the day's arrivals by channel, and plan the next day."""
        now = self.clock.now()
        day = self.calendar.local_day(now)
        for arrival in self.arrivals.day(day):
            self._plan(arrival.at, "arrive", arrival)
        self._plan(self.calendar.at(day + timedelta(days=1), time(0, 0)), "day", None)

    def _on_arrive(self, arrival: Arrival, summary: Summary) -> None:
        """Someone brings a claim: start the route of its channel."""
        channel = arrival.channel
        petition = self._petition(channel, arrival.headcount)
        start: dict[str, Any] = {"repeat_of": petition.repeat_of} if petition.repeat_of else {}
        now = self.clock.now()
        handed_down = channel == "visit" and self.rng.random() < self.rates.handed_down
        if handed_down:  # visited at the city, province or Beijing: the county bureau registers what is handed down
            start["handed_down_from"] = self.staff.pick(self.rates.handed_down_from)
        if channel == "visit" and not handed_down and self.rng.random() >= self.rates.county_visits:
            route, actor = "reception", self.county.on_duty(petition.township, self.calendar.local_day(now))[0]
        elif channel == "online":
            route, actor = "online_message", "petitioner"
            start.update(message_channel=self.rng.choice(("wechat_group", "message_board")), claim=petition.claim,
                         petitioner_name=petition.person.name, phone=petition.person.phone,
                         township=petition.township, village=petition.village, received_at=now.isoformat())
        elif channel == "grid":
            route, actor = "grid_visit", self.county.person("grid_worker", petition.grid or "", "grid_worker")
        else:
            route, actor = "petition", self.staff.bureau()
            start["channel"] = channel  # the county bureau's door presets it (start_permissions.yaml)
            petition.tier = self.staff.pick((("village", 0.5), ("township", 0.3), ("county", 0.2)))
        self._start(route, start, actor, petition, summary)
        if petition.times >= 3 and petition.repeat_of not in self.packaged and \
                self.rng.random() < self.rates.package_repeat:
            self._plan(self.staff.days(now, 2, 10), "package", petition)

    def _start(self, route: str, data: dict[str, Any], actor: str, petition: Petition, summary: Summary) -> int:
        result = self.engine.start(route, data, actor)
        summary.steps += 1
        case_id = result.instance.id
        self.cases[case_id] = petition
        if petition.channel in ("visit", "letter", "phone", "online"):
            self.claims.append((self.clock.now(), case_id))
        self._after_step(result, summary, self.clock.now())
        return case_id

    def _on_task(self, payload: tuple[TaskInfo, Act], summary: Summary) -> None:
        task, act = payload
        try:
            result = self.engine.complete_task(task.id, act.data, act.actor)
        except TaskNotReady:
            return  # a window closed or a timer cancelled the task before anyone acted
        summary.steps += 1
        self._after_step(result, summary, self.clock.now())
        if task.element_id == "report_overdue" and self.rng.random() < self.rates.package_overdue:
            petition = self.cases.get(task.instance_id)
            if petition is not None and task.instance_id not in self.packaged:
                petition.extras["case_id"] = task.instance_id
                self._plan(self.staff.days(self.clock.now(), 2, 10), "package", petition)

    def _on_report(self, _payload: None, summary: Summary) -> None:
        """The first of the month: the bureau compiles, publishes and rewards last month's figures."""
        self._start("monthly_report", {}, self.staff.bureau(), _placeholder(), summary)

    def _on_package(self, petition: Petition, summary: Summary) -> None:
        """The county bureau lists a stuck or repeated case for a county leader (领导包案)."""
        original: int | None = petition.extras.get("case_id") or petition.repeat_of
        if original is None or original in self.packaged:  # planned only for an overdue case or a repeat
            return
        self.packaged.add(original)
        record = self.session.get(CaseRecord, original)
        package = replace(petition, extras={"case_ref": record.case_number if record else str(original)})
        data = {"township": package.township, "village": package.village, "category": package.category,
                "claim": package.claim, "petitioner_name": package.person.name}
        self._start("leader_package", data, self.staff.bureau(), package, summary)

    # -- petitions and people ---------------------------------------------------------------------------------
    def _petition(self, channel: str, headcount: int) -> Petition:
        share = self.rates.online_repeats if channel == "online" else self.rates.repeats
        if channel != "grid" and self.rng.random() < share:
            earlier = self._earlier_claim()
            if earlier is not None:
                case_id, first = earlier
                return replace(first, channel=channel, repeat_of=case_id, times=first.times + 1, extras={},
                               headcount=headcount, tier="village")
        return self._new_petition(channel, headcount)

    def _new_petition(self, channel: str, headcount: int) -> Petition:
        """A new claim from a village (weighted: some bring far more than others) by a new person."""
        village = self.rng.choices(self.county.all_villages, cum_weights=self.cumulative)[0]
        grids: Sequence[str | None] = self.county.grids.get(village) or [None]
        category = self.rng.choices(list(CATEGORIES), [w for w, _ in CATEGORIES.values()])[0]
        self.serial += 1
        return Petition(make_resident(self.rng, self.serial), self.county.township_of[village], village,
                        self.rng.choice(grids), category, self.rng.choice(CATEGORIES[category][1]), channel,
                        headcount)

    def _earlier_claim(self) -> tuple[int, Petition] | None:
        """A petition of the last eight months that its petitioner brings again."""
        horizon = self.clock.now() - timedelta(days=240)
        while self.claims and self.claims[0][0] < horizon:
            self.claims.pop(0)
        if not self.claims:
            return None
        _at, case_id = self.rng.choice(self.claims)
        return case_id, self.cases[case_id]

    def _recall(self, case_id: int) -> Petition:
        """What a case left by an earlier run is about, read from its case record."""
        record = self.session.get(CaseRecord, case_id)
        if record is None or not record.village and not record.channel:
            return _placeholder()  # a monthly report: no petitioner
        if not record.village:  # not registered yet when the earlier run ended: its claim is made up anew
            petition = self._new_petition(record.channel or "letter", record.headcount)
            self.cases[case_id] = petition
            return petition
        person = record.petitioners[0] if record.petitioners else {}
        petition = Petition(Resident(person.get("petitioner_name", "某某"), person.get("id_number", ""),
                                     person.get("phone", "")), record.township or "", record.village, record.grid,
                            record.category or "other", record.claim or "", record.channel or "visit",
                            record.headcount, record.repeat_of)
        if record.handling_unit:
            petition.extras["unit"] = record.handling_unit
        self.cases[case_id] = petition
        return petition

    # -- set-up and the summary -------------------------------------------------------------------------------
    def _ensure_rota(self, first: date, last: date) -> None:
        """Extend the sit-in rota (org data, not engine data) to cover the simulated days."""
        latest = self.session.scalar(select(func.max(RotaEntry.day)))
        begin = max(first, latest + timedelta(days=1)) if latest else first
        if begin <= last:
            generate_rota(self.session, self.calendar, begin, last)

    def _take_up_open_tasks(self, now: datetime) -> None:
        """Go on with the cases an earlier run left: their waiting timers and open tasks."""
        for instance in self.session.scalars(select(Instance).where(Instance.next_timer_at.is_not(None))):
            self._note_timer(instance)
        for row in self.engine.open_tasks():
            self._discover(row.instance_id, now)

    def _plan_monthly_reports(self, start: datetime, end: datetime) -> None:
        """Plan the county bureau's monthly report on the first of each month inside the run.

        The report diagram is started each month on its own (as it may be) rather than through the schedule
        diagram's yearly loop, whose stored state grows with every month it has run.
        """
        local = self.calendar.local(start)
        moment = self.calendar.at(date(local.year, local.month, 1), REPORT_TIME)
        while moment < end:
            if moment > start:
                self._plan(moment, "report", None)
            moment = add_months(moment, 1)

    def _count(self, summary: Summary, first_case: int) -> None:
        """Fill the summary from the case records this run created."""
        r = CaseRecord
        new = r.instance_id > first_case
        for track, status, outcome, count in self.session.execute(
                select(r.track, r.status, r.outcome, func.count()).where(new)
                .group_by(r.track, r.status, r.outcome).order_by(r.track, r.status, r.outcome)):
            counts = summary.routes.setdefault(track, {})
            counts["started"] = counts.get("started", 0) + count
            key = "open" if status != "closed" else "closed"
            counts[key] = counts.get(key, 0) + count
            if status == "closed" and outcome:
                counts[outcome] = counts.get(outcome, 0) + count
        summary.routes = dict(sorted(summary.routes.items(), key=lambda item: -item[1]["started"]))
        visit = r.channel == "visit"
        totals = self.session.execute(select(
            func.count().filter(r.overdue.is_(True)), func.count().filter(r.on_the_spot.is_(True)),
            func.count().filter(r.extended.is_(True)), func.count().filter(r.repeat_of.is_not(None)),
            func.count().filter(visit, r.is_group.is_(True)),
            func.coalesce(func.sum(r.headcount).filter(visit), 0)).where(new)).one()
        (summary.overdue, summary.on_the_spot, summary.extended, summary.repeats, summary.group_visits,
         summary.visit_persons) = (int(value) for value in totals)


def simulate(session: Session, engine: Engine, months: int, seed: int, *, rates: Rates | None = None,
             commit: Callable[[], None] | None = None, progress: Progress | None = None) -> Summary:
    """Run the county for `months` months on the database's simulated clock; the caller's `commit` ends each day."""
    if not SimulatedClock.is_installed(session):
        raise SimulationError("this database runs on the system clock: create it with "
                              "`doorstep init --demo --simulated-clock START` to simulate")
    clock = engine.clock
    if not isinstance(clock, SimulatedClock):
        raise SimulationError("the engine must run on the database's simulated clock")
    return Simulator(session, engine, clock, seed, rates, commit).run(months, progress)


def simulated_days(session: Session, months: int) -> int:
    """How many days `months` months from the simulated clock's time span (for a progress bar)."""
    calendar = packaged_config().calendar
    start = calendar.local(SimulatedClock(session).now())
    return (add_months(start, months).date() - start.date()).days


def _placeholder() -> Petition:
    return Petition(Resident("", "", ""), "", "", None, "other", "", "")


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _accumulate(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _wide(text: str) -> int:
    return sum(1 for ch in text if ord(ch) > 0x2E80)

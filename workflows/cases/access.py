"""Who may see and act on which task and case: roles (BPMN lanes) AND place, never the accused.

The rules, in one place for the web pages and the JSON API alike:

* **Task.** A person may act on an open task when a position of theirs has the role of the task's lane and
  covers the task's place (`HumanTask.scope`, an org unit code): the position's territory — its unit, or for an
  office the area the office belongs to — is the place itself or lies above it. Three lanes follow other rules:
  - the reception room's lanes (坐班村支书 / 乡镇信访干部 of process `reception`) belong to whoever the rota puts on
    duty today at the township of the task, in the lane the rota gives them (a township cadre keeps the township's
    乡镇信访干部 tasks too);
  - 承办单位 tasks belong to the staff of the case's handling unit only, 承办单位负责人 tasks to its head;
  - 复查机关 / 复核机关 tasks belong to the reviewers of the case's review / re-examination unit only (one level
    above the handler, then one above the review: workflows/cases/review_bodies.py);
  - 分管领导 tasks of a case that names its leader belong to that leader only.
  Whoever claimed a task keeps it until they complete or release it.
* **Case.** A person may see a case when they are staff of its place (a position of a place role covering the
  case's most specific place), the staff of its handling unit, its leader, anyone who worked on it or may act
  on one of its open tasks, the county petition bureau, or an auditor (read only).
* **Confidential cases** (accusations, 检举控告): the accused is named by identity — a unit code and/or a username.
  Nobody holding a position at the accused unit, inside it, at a unit above it (below the county) or at an
  office of such a unit, nor the accused person or anyone at the accused person's units, sees the case or any of
  its tasks (信访工作条例 Art. 30). An accused named by text in older records is matched loosely (any case of
  the code, spaces and the suffix 村委会/居委会 ignored).
* **Stepping aside** (回避): whoever declared a relation to a case (an event `stepped_aside` on it) neither sees it
  nor acts on its tasks any more; colleagues of the same role and place do.
* **Nobody left** (无人可办): when everyone who could act on a task by its lane stepped aside or is kept from the
  accusation, the task goes to the county discipline body or the county petition bureau, whichever comes first
  and is not kept from the case itself (`workflows.cases.stand_in` decides, for these rules and the pages).
* **Return-call ratings** (电话回访): the petitioner's rating told on the phone is recorded on the case page or
  through the JSON API by the county petition bureau (which makes the return calls) or by the staff of the case's
  handling unit — marked as recorded by staff, with their name; never by anyone kept from the case.
* **Personal data** (ID numbers, phones; names of confidential cases) is masked for everyone. Those who need it
  may unmask it, which is recorded: the county petition bureau, the staff of the case's handling unit, its
  leader, and whoever may act on one of its open tasks now. Auditors and place staff who merely read do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.models import Event, HumanTask, Instance
from workflows.cases.record import CaseRecord
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.roles import BY_CODE, BY_LANE
from workflows.org.tree import chunks, remembered_units

if TYPE_CHECKING:
    from workflows.cases.stand_in import StandIn

RECEPTION_PROCESS = "reception"
SECRETARY_LANE, CADRE_LANE = BY_CODE["duty_secretary"].name, BY_CODE["township_cadre"].name
HANDLING_LANE, LEADER_LANE = BY_CODE["handling_unit"].name, BY_CODE["responsible_leader"].name
RECEPTION_LANES = (SECRETARY_LANE, CADRE_LANE)
# Roles whose positions make a person staff of the places under them (they may read those places' cases).
PLACE_ROLES = frozenset({"grid_worker", "village_cadre", "duty_secretary", "township_cadre", "responsible_leader",
                         "backer_unit_head", "village_liaison", "work_team", "mediation_panel", "legal_adviser"})
# Roles that act only on the cases naming their own unit, by the case field naming it.
UNIT_ROLES: dict[str, str] = {"handling_unit": "handling_unit", "agency_head": "handling_unit",
                              "review_body": "review_unit", "reexam_body": "reexam_unit"}
COUNTY_WIDE_READERS = frozenset({"county_bureau", "auditor"})
REVEALERS = frozenset({"county_bureau"})
RATING_RECORDERS = frozenset({"county_bureau"})  # besides the staff of the case's handling unit
STEPPED_ASIDE = "stepped_aside"  # the event a person records when they step aside from a case (回避)
LOOSE_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会")
COUNTY_DEPTH = 2  # "/xupu/": a path with this many slashes is the county itself, above everyone


@dataclass(frozen=True)
class Seat:
    """One position as access rules see it: the role and the territory it covers."""

    role: str
    unit_code: str
    unit_name: str
    unit_path: str
    area_path: str  # the unit's own path, or for an office the path of the area it belongs to
    domain: str = ""

    @property
    def lane(self) -> str:
        """The BPMN lane name of the role."""
        return BY_CODE[self.role].name


@dataclass(frozen=True)
class DutySeat:
    """A place in a township's reception room today, in the lane the rota gives."""

    township_code: str
    township_name: str
    township_path: str
    lane: str


@dataclass(frozen=True)
class Viewer:
    """A logged-in person with their positions and today's reception duty."""

    username: str
    display_name: str
    day: date
    seats: tuple[Seat, ...]
    duty: tuple[DutySeat, ...] = ()

    @property
    def roles(self) -> set[str]:
        """The role codes this person holds."""
        return {seat.role for seat in self.seats}

    @property
    def lanes(self) -> set[str]:
        """Every lane name (aliases too) this person may work in somewhere: positions and today's duty."""
        roles = self.roles
        return {name for name, role in BY_LANE.items() if role.code in roles} | {duty.lane for duty in self.duty}

    def has_role(self, *codes: str) -> bool:
        """Whether the person holds any of these roles."""
        return any(seat.role in codes for seat in self.seats)

    @property
    def office_codes(self) -> set[str]:
        """Codes of the handling units (承办单位) this person works for."""
        return {seat.unit_code for seat in self.seats if seat.role == "handling_unit"}


def load_viewer(session: Session, username: str, day: date) -> Viewer | None:
    """The viewer for `username` on local `day`, or None when no such person exists."""
    person = session.scalar(select(Person).where(Person.username == username))
    if person is None:
        return None
    rows = session.execute(select(Position, OrgUnit).join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                           .where(Position.person_id == person.id).order_by(Position.id)).all()
    seats = tuple(_seat(p, u) for p, u in rows if p.role in BY_CODE)
    entries = session.execute(select(RotaEntry, OrgUnit).join(OrgUnit, OrgUnit.id == RotaEntry.township_id)
                              .where(RotaEntry.day == day,
                                     or_(RotaEntry.secretary_id == person.id, RotaEntry.cadre_id == person.id))
                              .order_by(OrgUnit.code)).all()
    duty = []
    for entry, town in entries:
        if entry.secretary_id == person.id:
            duty.append(DutySeat(town.code, town.name, town.path, SECRETARY_LANE))
        if entry.cadre_id == person.id:
            duty.append(DutySeat(town.code, town.name, town.path, CADRE_LANE))
    return Viewer(person.username, person.display_name, day, seats, tuple(duty))


def load_seats(session: Session, usernames: Iterable[str]) -> dict[str, tuple[Seat, ...]]:
    """The positions of many people at once, by username (someone without a position is left out)."""
    found: dict[str, list[Seat]] = {}
    for chunk in chunks(sorted(set(usernames))):
        rows = session.execute(select(Person.username, Position, OrgUnit)
                               .join(Position, Position.person_id == Person.id)
                               .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                               .where(Person.username.in_(chunk)).order_by(Position.id))
        for username, position, unit in rows:
            if position.role in BY_CODE:
                found.setdefault(username, []).append(_seat(position, unit))
    return {username: tuple(seats) for username, seats in found.items()}


def _seat(position: Position, unit: OrgUnit) -> Seat:
    return Seat(position.role, unit.code, unit.name, unit.path, area_path(unit), position.domain)


def area_path(unit: OrgUnit) -> str:
    """The territory a unit stands for: an area itself; an office, the area above it."""
    if unit.kind != "office":
        return unit.path
    parts = unit.path.strip("/").split("/")
    return "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else unit.path


def _covers(area_path: str, place_path: str | None) -> bool:
    """Whether a territory covers a place; a task without a place belongs to the county level."""
    if place_path is None:
        return area_path.count("/") == 2  # "/xupu/": the root of the tree
    return place_path.startswith(area_path)


@dataclass
class Access:
    """Answers access questions for one viewer, caching what it looks up within one request."""

    session: Session
    viewer: Viewer
    _paths: dict[str, str | None] = field(default_factory=dict)
    _accused: dict[int, tuple[tuple[str, ...], str | None]] = field(default_factory=dict)
    _worked: dict[int, bool] = field(default_factory=dict)
    _aside: dict[int, bool] = field(default_factory=dict)
    _someone_aside: dict[int, bool] = field(default_factory=dict)  # case → anybody stepped aside from it
    _stand_ins: dict[str, StandIn | None] = field(default_factory=dict)  # task id → who acts for its lane

    def for_colleague(self, viewer: Viewer) -> Access:
        """The rules for another person in this request, sharing what was looked up of places and the accused."""
        return Access(self.session, viewer, _paths=self._paths, _accused=self._accused,
                      _someone_aside=self._someone_aside)

    # -- tasks ----------------------------------------------------------------------------------------------
    def may_see_task(self, task: HumanTask, case: CaseRecord | None) -> bool:
        """Whether the task page may be shown to the viewer (also while someone else holds the task)."""
        if self._excluded(case):
            return False
        if task.claimed_by == self.viewer.username:
            return True
        return self._eligible(task, case)

    def may_act_on_task(self, task: HumanTask, case: CaseRecord | None) -> bool:
        """Whether the viewer may claim, release or complete the task now."""
        if task.status != "open" or task.claimed_by not in (None, self.viewer.username):
            return False
        return self.may_see_task(task, case)

    def may_act_by_lane(self, task: HumanTask, case: CaseRecord | None) -> bool:
        """Whether the viewer may act on the task by its own lane's rule (not as the stand-in), claims aside."""
        return not self._excluded(case) and self._by_lane(task, case)

    def _eligible(self, task: HumanTask, case: CaseRecord | None) -> bool:
        if self._by_lane(task, case):
            return True
        return self.stands_in(task, case)

    def stands_in(self, task: HumanTask, case: CaseRecord | None) -> bool:
        """Whether the viewer acts on the task because nobody of its lane may (workflows.cases.stand_in)."""
        from workflows.cases.stand_in import stand_in_chain  # that module asks these rules, not the reverse

        if case is None or not self.viewer.has_role(*stand_in_chain(task, case)):
            return False
        found = self.stand_in_for(task, case)
        return found is not None and self.viewer.has_role(found.role)

    def stand_in_for(self, task: HumanTask, case: CaseRecord | None) -> StandIn | None:
        """Which body acts on the task in place of its lane, and why; None while the lane has someone."""
        from workflows.cases.stand_in import stand_in

        if task.id not in self._stand_ins:
            self._stand_ins[task.id] = stand_in(self, task, case)
        return self._stand_ins[task.id]

    def stand_in_reason(self, task: HumanTask, case: CaseRecord | None) -> str:
        """Why the viewer may act on a task outside their lane ("" when they act by it, or do not act at all)."""
        if self._by_lane(task, case) or not self.stands_in(task, case):
            return ""
        found = self.stand_in_for(task, case)
        return f"{found.reason}，改由{found.name}办理" if found is not None else ""

    def _by_lane(self, task: HumanTask, case: CaseRecord | None) -> bool:
        lane = task.lane or ""
        role = BY_LANE.get(lane)
        if role is None or not role.is_staff:
            return False  # e.g. 信访人: the petitioner acts through the public query page
        place = self.place_path(task.scope or _case_place(case))
        if task.process_id == RECEPTION_PROCESS and lane in RECEPTION_LANES:
            on_duty = any(d.lane == lane and place is not None and place.startswith(d.township_path)
                          for d in self.viewer.duty)
            if on_duty or lane == SECRETARY_LANE:
                return on_duty
        if role.code in UNIT_ROLES:
            unit = getattr(case, UNIT_ROLES[role.code], None) if case is not None else None
            return unit is not None and unit in self.unit_keys(role.code)
        if role.code == "responsible_leader" and case is not None and case.leader:
            return case.leader == self.viewer.username
        return any(seat.role == role.code and _covers(seat.area_path, place) for seat in self.viewer.seats)

    def office_keys(self) -> set[str]:
        """Codes and names of the handling units the viewer works for."""
        return self._office_keys()

    def _office_keys(self) -> set[str]:
        return self.unit_keys("handling_unit", "agency_head")

    def unit_keys(self, *roles: str) -> set[str]:
        """Codes and names of the units where the viewer holds one of `roles`."""
        return {key for seat in self.viewer.seats if seat.role in roles for key in (seat.unit_code, seat.unit_name)}

    # -- cases ----------------------------------------------------------------------------------------------
    def may_see_case(self, case: CaseRecord) -> bool:
        """Whether the viewer may read the case page."""
        if self._excluded(case):
            return False
        if self.viewer.has_role(*COUNTY_WIDE_READERS):
            return True
        if self._assigned(case):
            return True
        place = self.place_path(_case_place(case))
        if any(seat.role in PLACE_ROLES and _covers(seat.area_path, place) for seat in self.viewer.seats):
            return True
        return any(self.may_see_task(task, case) for task in self._open_tasks(case))

    def may_reveal(self, case: CaseRecord) -> bool:
        """Whether the viewer may unmask the case's personal data (each time recorded as an event)."""
        if self._excluded(case):
            return False
        if self.viewer.has_role(*REVEALERS):
            return True
        if case.handling_unit is not None and case.handling_unit in self._office_keys():
            return True
        if case.leader == self.viewer.username:
            return True
        return any(self.may_act_on_task(task, case) for task in self._open_tasks(case))

    def may_record_rating(self, case: CaseRecord) -> bool:
        """Whether the viewer may record the petitioner's rating told on a return call (电话回访，工作人员代录)."""
        if self._excluded(case):
            return False
        if self.viewer.has_role(*RATING_RECORDERS):
            return True
        return case.handling_unit is not None and case.handling_unit in self.unit_keys("handling_unit")

    def is_read_only(self, case: CaseRecord) -> bool:
        """Whether the viewer only reads the case (an auditor with no part in it)."""
        return self.viewer.has_role("auditor") and not self._assigned(case)

    def _assigned(self, case: CaseRecord) -> bool:
        if case.leader == self.viewer.username:
            return True
        if case.handling_unit is not None and case.handling_unit in self._office_keys():
            return True
        if case.review_unit is not None and case.review_unit in self.unit_keys("review_body"):
            return True
        if case.reexam_unit is not None and case.reexam_unit in self.unit_keys("reexam_body"):
            return True
        return self._worked_on(case.instance_id)

    def _worked_on(self, instance_id: int) -> bool:
        if instance_id not in self._worked:
            me = self.viewer.username
            started = self.session.scalar(select(Instance.id).where(Instance.id == instance_id,
                                                                    Instance.started_by == me))
            touched = self.session.scalar(select(HumanTask.id).where(
                HumanTask.instance_id == instance_id,
                or_(HumanTask.claimed_by == me, HumanTask.completed_by == me)).limit(1))
            self._worked[instance_id] = started is not None or touched is not None
        return self._worked[instance_id]

    def _open_tasks(self, case: CaseRecord) -> list[HumanTask]:
        return list(self.session.scalars(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                                 HumanTask.status == "open")))

    # -- confidentiality ------------------------------------------------------------------------------------
    def kept_from(self, case: CaseRecord) -> bool:
        """Whether the case is kept from the viewer (the accusation rule, or they stepped aside)."""
        return self._excluded(case)

    def _excluded(self, case: CaseRecord | None) -> bool:
        """Whether the case must be kept from the viewer: they are, or work near, the accused; or stepped aside."""
        if case is None:
            return False
        if self._stepped_aside(case.instance_id):
            return True
        return self.kept_by_accusation(case, self.viewer.username, self.viewer.seats)

    def kept_by_accusation(self, case: CaseRecord, username: str, seats: Iterable[Seat]) -> bool:
        """Whether a person with these positions is kept from the case as, or near, its accused (Art. 30)."""
        if not (case.accused_unit or case.accused_person):
            return False
        return near_the_accused(username, seats, *self._accused_of(case))

    def seats_of(self, usernames: Iterable[str]) -> dict[str, tuple[Seat, ...]]:
        """The positions of other people (the viewer's own without a query)."""
        wanted = set(usernames)
        found = load_seats(self.session, wanted - {self.viewer.username})
        if self.viewer.username in wanted:
            found[self.viewer.username] = self.viewer.seats
        return found

    def anyone_stepped_aside(self, instance_id: int) -> bool:
        """Whether anybody at all stepped aside from the case (回避)."""
        if instance_id not in self._someone_aside:
            self._someone_aside[instance_id] = self.session.scalar(
                select(Event.id).where(Event.instance_id == instance_id, Event.type == STEPPED_ASIDE).limit(1)) \
                is not None
        return self._someone_aside[instance_id]

    def _accused_of(self, case: CaseRecord) -> tuple[tuple[str, ...], str | None]:
        if case.instance_id not in self._accused:
            self._accused[case.instance_id] = accused_paths(self.session, case.accused_unit or "",
                                                            case.accused_person or "")
        return self._accused[case.instance_id]

    def started_here(self, instance_id: int) -> None:
        """A case this request just started: nobody has stepped aside from it yet."""
        self._aside[instance_id] = False

    def know_stepped_aside(self, instance_id: int, stepped_aside: bool) -> None:
        """Take whether the viewer stepped aside from a case, read by the caller with its rows."""
        self._aside[instance_id] = stepped_aside
        if stepped_aside:
            self._someone_aside[instance_id] = True

    def _stepped_aside(self, instance_id: int) -> bool:
        if self._someone_aside.get(instance_id) is False:
            return False  # nobody at all stepped aside from the case
        if instance_id not in self._aside:
            self._aside[instance_id] = self.session.scalar(
                select(Event.id).where(Event.instance_id == instance_id, Event.type == STEPPED_ASIDE,
                                       Event.actor == self.viewer.username).limit(1)) is not None
        return self._aside[instance_id]

    # -- places ---------------------------------------------------------------------------------------------
    def place_path(self, code: str | None) -> str | None:
        """The path of a place given by its unit code (None when unknown)."""
        if not code:
            return None
        if code not in self._paths:
            self.preload_places([code])
        return self._paths.get(code)

    def know_places(self, codes: Iterable[str], units: Mapping[str, OrgUnit]) -> None:
        """Take the paths of places the caller has already looked up (`units` by code; a code missing is none)."""
        self._paths.update({code: units[code].path if code in units else None for code in codes})

    def preload_places(self, codes: Iterable[str | None]) -> None:
        """Look up the paths of many places at once."""
        wanted = {c for c in codes if c and c not in self._paths}
        if wanted:
            found = remembered_units(self.session, wanted)
            self._paths.update({code: found[code].path if code in found else None for code in wanted})


def accused_units(session: Session, accused: str, person: str = "") -> tuple[list[OrgUnit], str | None]:
    """The accused unit (by code; older free text loosely) and the units of the accused person (by username)."""
    units = [found] if (found := _unit_named(session, accused.strip())) is not None else []
    username = person.strip() or None
    if username is None and accused.strip():  # older records kept a username in the unit field
        username = accused.strip() if session.scalar(select(Person.id).where(Person.username == accused.strip())) \
            else None
    if username is not None:
        units += session.scalars(select(OrgUnit).join(Position, Position.org_unit_id == OrgUnit.id)
                                 .join(Person, Person.id == Position.person_id).where(Person.username == username))
    return units, username


def _unit_named(session: Session, text: str) -> OrgUnit | None:
    """The unit a code names; for text kept by older versions, the unit whose code or name it loosely is."""
    if not text:
        return None
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == text))
    if unit is not None:
        return unit
    squeezed = "".join(text.split())
    unit = session.scalar(select(OrgUnit).where(func.lower(OrgUnit.code) == squeezed.lower()).limit(1))
    if unit is not None:
        return unit
    for suffix in LOOSE_SUFFIXES:
        if squeezed.endswith(suffix) and len(squeezed) > len(suffix):
            squeezed = squeezed[: -len(suffix)]
            break
    names = session.scalars(select(OrgUnit).where(OrgUnit.name == squeezed).limit(2)).all()
    return names[0] if len(names) == 1 else None


def accused_paths(session: Session, accused: str, person: str = "") -> tuple[tuple[str, ...], str | None]:
    """The org paths of the accused unit and the accused person's units (see `accused_units`), and the username."""
    units, username = accused_units(session, accused, person)
    return tuple(sorted({unit.path for unit in units})), username


def near_the_accused(username: str, seats: Iterable[Seat], paths: Iterable[str], accused_person: str | None) -> bool:
    """Whether a person with these positions is the accused person or sits near an accused path (`_near`)."""
    return username == accused_person or any(_near(seat, path) for seat in seats for path in paths)


def _near(seat: Seat, accused_path: str) -> bool:
    """Whether a position sits at the accused unit, inside it, above it (below the county) or at an office there."""
    if seat.unit_path.startswith(accused_path):
        return True
    above = [path for path in {seat.unit_path, seat.area_path} if path.count("/") > COUNTY_DEPTH]
    return any(accused_path.startswith(path) for path in above)


def _case_place(case: CaseRecord | None) -> str | None:
    if case is None:
        return None
    return case.grid or case.village or case.township


def task_place(data: dict[str, object]) -> str | None:
    """Where a task belongs (`HumanTask.scope`): the most specific place named in the case data."""
    for key in ("grid", "village", "township"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None

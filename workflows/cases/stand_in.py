"""Who acts on a task when nobody of its lane may (无人可办): the one place that decides it.

Nobody of a lane is left when every holder of the lane's role there (or of the unit the case names, or the leader
it names, or the pair on duty today) is kept from the case: they stepped aside (回避, `access.STEPPED_ASIDE`), or
the case is an accusation (检举控告) and the accusation rule keeps them from it — they are, work with, above or
inside the accused (信访工作条例 Art. 30; `Access.kept_by_accusation`). The task is then not left with nobody:
it goes to the next county body that may receive it and is not itself kept from the case. For an accusation the
county discipline body (纪委监委) comes first, then the county petition bureau (县信访局, which on 检举控告受理 may
transfer the matter to the discipline body one level up, 市纪委监委); for anything else the bureau, which
supervises all petition work, then the discipline body. A task already in one body's own lane goes to the other.

When both bodies are kept from the case too (the accused is the county itself, or a person whose post is the
county — a county leader — so that every position of the county lies inside the accused), nobody in the county
may act: such an accusation belongs to the discipline body one level up (干部管理权限), and the registration forms
refuse it (`workflows.cases.org_choice`) with a message saying so, so that no case is registered that nobody could
ever see.

The case page and the inbox say who stands in and why, to whoever may see the case (nobody kept from it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import Event, HumanTask
from workflows.cases.access import (
    RECEPTION_PROCESS,
    STEPPED_ASIDE,
    UNIT_ROLES,
    Access,
    Seat,
    Viewer,
    accused_paths,
    load_seats,
    load_viewer,
    near_the_accused,
    task_place,
)
from workflows.cases.record import CaseRecord
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.roles import BY_CODE, BY_LANE

BUREAU, DISCIPLINE = "county_bureau", "discipline"
STAND_IN_ROLES = (BUREAU, DISCIPLINE)
ASIDE, ACCUSED = "stepped_aside", "accused"  # why nobody of a lane is left
# why → (what became of the lane's people, as the case page says it; the short reason the lists give)
WHY = {ASIDE: ("均已回避", "原办理人员均已回避"),
       ACCUSED: ("均与被检举控告对象同属一个单位或有上下级关系，依法回避", "被检举控告对象涉及原办理单位，依法回避")}


@dataclass(frozen=True)
class StandIn:
    """The body that acts on a task in place of its lane, and why nobody of the lane may."""

    role: str
    why: str  # ASIDE or ACCUSED

    @property
    def name(self) -> str:
        """The body's Chinese name (县信访局, 纪委监委)."""
        return BY_CODE[self.role].name

    @property
    def lane_left(self) -> str:
        """What became of the lane's people ("均已回避"), after the lane's name on the case page."""
        return WHY[self.why][0]

    @property
    def reason(self) -> str:
        """Why the body acts, in short ("原办理人员均已回避")."""
        return WHY[self.why][1]


def is_accusation(case: CaseRecord | None) -> bool:
    """Whether the case is an accusation whose accused the access rules keep it from."""
    return case is not None and bool(case.accused_unit or case.accused_person)


def stand_in_chain(task: HumanTask, case: CaseRecord | None) -> tuple[str, ...]:
    """The bodies that may act on `task` once nobody of its lane is left, first choice first (its own left out)."""
    lane_role = BY_LANE[task.lane].code if task.lane in BY_LANE else ""
    confidential = case is not None and (case.confidential or case.category == "accusation")
    order = (DISCIPLINE, BUREAU) if confidential else (BUREAU, DISCIPLINE)
    return tuple(role for role in order if role != lane_role)


def stand_in_role(task: HumanTask, case: CaseRecord | None) -> str:
    """The body that acts on `task` once nobody of its lane is left, while that body is not kept from the case."""
    return stand_in_chain(task, case)[0]


def stand_in(access: Access, task: HumanTask, case: CaseRecord | None) -> StandIn | None:
    """Who acts on `task` in place of its lane, and why; None while someone of the lane may act, or when nobody
    of the county may (every stand-in body is kept from the case too)."""
    if case is None or task.status != "open" or task.lane not in BY_LANE or not BY_LANE[task.lane].is_staff:
        return None
    why = _nobody_left(access, task, case)
    if why is None:
        return None
    for role in stand_in_chain(task, case):
        if _anyone_of(access, role, case):
            return StandIn(role, why)
    return None


def _nobody_left(access: Access, task: HumanTask, case: CaseRecord) -> str | None:
    """Why nobody who could act on `task` by its lane may (ASIDE or ACCUSED), or None when someone may.

    Only a case somebody stepped aside from, or an accusation, can have nobody left: any other case costs one
    cached look-up. Whoever the accusation keeps away is found from their positions alone; the others are tried
    one by one through the lane's own rule (the rota, the named unit) until one may act.
    """
    accused, aside = is_accusation(case), access.anyone_stepped_aside(case.instance_id)
    if not (accused or aside):
        return None
    names = _candidates(access.session, access, task, case)
    seats = access.seats_of(names)
    kept = {name for name in names if access.kept_by_accusation(case, name, seats.get(name, ()))}
    if not (kept or aside):
        return None
    for username in names:
        if username in kept:
            continue
        viewer = _colleague(access, username, seats, task)
        if viewer is not None and access.for_colleague(viewer).may_act_by_lane(task, case):
            return None
    return ACCUSED if kept else ASIDE


def _colleague(access: Access, username: str, seats: dict[str, tuple[Seat, ...]], task: HumanTask) -> Viewer | None:
    """A candidate as the rules see them: their positions, and today's duty where the reception room's lanes ask."""
    if task.process_id == RECEPTION_PROCESS or username not in seats:
        return load_viewer(access.session, username, access.viewer.day)
    return Viewer(username, username, access.viewer.day, seats[username])


def _anyone_of(access: Access, role: str, case: CaseRecord) -> bool:
    """Whether somebody holding `role` is not kept from the case (the viewer's own seat answers without a query)."""
    if access.viewer.has_role(role) and not access.kept_from(case):
        return True
    names = _holders(access.session, role)
    seats = access.seats_of(names)
    asides = {actor for actor, _ in stepped_aside(access.session, case.instance_id)} \
        if access.anyone_stepped_aside(case.instance_id) else set()
    return any(name not in asides and not access.kept_by_accusation(case, name, seats.get(name, ()))
               for name in names)


def nobody_in_the_county(session: Session, accused_unit: str, accused_person: str) -> bool:
    """Whether an accusation of these accused would be kept from every holder of every stand-in body (the accused
    is the county itself, or a person whose post is the county): nobody in the county could ever act on it."""
    paths, username = accused_paths(session, accused_unit, accused_person)
    if not paths and username is None:
        return False
    holders = {role: _holders(session, role) for role in STAND_IN_ROLES}
    seats = load_seats(session, [name for names in holders.values() for name in names])
    free = [name for names in holders.values() for name in names
            if not near_the_accused(name, seats.get(name, ()), paths, username)]
    return any(holders.values()) and not free


def _holders(session: Session, role: str) -> list[str]:
    return list(session.scalars(select(Person.username).join(Position, Position.person_id == Person.id)
                                .where(Position.role == role).distinct().order_by(Person.username)))


def stepped_aside(session: Session, instance_id: int) -> list[tuple[str, str]]:
    """(username, reason) of everyone who stepped aside from the case, in order."""
    rows = session.execute(select(Event.actor, Event.data).where(Event.instance_id == instance_id,
                                                                 Event.type == STEPPED_ASIDE).order_by(Event.seq))
    return [(actor, str((data or {}).get("reason", ""))) for actor, data in rows]


def _candidates(session: Session, access: Access, task: HumanTask, case: CaseRecord) -> list[str]:
    """Usernames that could act on the task by its lane: the holders of its role at or above its place, at the
    unit the case names, the leader it names, or today's pair on duty."""
    role = BY_LANE[task.lane].code if task.lane in BY_LANE else None
    if role is None or not BY_CODE[role].is_staff:
        return []
    people = select(Person.username).join(Position, Position.person_id == Person.id).where(Position.role == role)
    named_field = UNIT_ROLES.get(role)
    if named_field is not None:
        code = getattr(case, named_field, None)
        return sorted(set(session.scalars(people.join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                                          .where(OrgUnit.code == code)))) if code else []
    if role == "responsible_leader" and case.leader:
        return [case.leader]
    place = access.place_path(task.scope or task_place({"grid": case.grid, "village": case.village,
                                                        "township": case.township}))
    prefixes = _prefixes(place) if place else [_root_path(session)]
    areas = select(OrgUnit.id).where(OrgUnit.path.in_(prefixes))
    found = set(session.scalars(people.join(OrgUnit, OrgUnit.id == Position.org_unit_id).where(
        or_(OrgUnit.path.in_(prefixes), (OrgUnit.kind == "office") & OrgUnit.parent_id.in_(areas)))))
    if task.process_id == RECEPTION_PROCESS:  # today's pair on duty in the room
        on_duty = session.execute(select(RotaEntry.secretary_id, RotaEntry.cadre_id)
                                  .where(RotaEntry.day == access.viewer.day)).all()
        ids = {i for row in on_duty for i in row}
        found |= set(session.scalars(select(Person.username).where(Person.id.in_(ids)))) if ids else set()
    return sorted(found)


def _prefixes(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def _root_path(session: Session) -> str:
    return session.scalar(select(OrgUnit.path).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1)) \
        or "/"

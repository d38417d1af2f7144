"""Who acts on a task when everyone who could has stepped aside (回避后无人可办).

Stepping aside (`access.STEPPED_ASIDE`) passes a task to the colleagues of the same role and place. When none is
left — every holder of the lane's role there (or of the unit the case names, or the leader it names, or the
pair on duty today) has stepped aside — the task is not left with nobody: it goes to the county body a county
would turn to. An accusation (a confidential case) goes to the county discipline body (纪委监委), anything else
to the county petition bureau (县信访局), which supervises all petition work; a task already in that body's own
lane goes to the other one. The case page says so, with the reasons the step-asides recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import Event, HumanTask
from workflows.cases.record import CaseRecord
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.roles import BY_CODE, BY_LANE

if TYPE_CHECKING:
    from workflows.cases.access import Access

BUREAU, DISCIPLINE = "county_bureau", "discipline"
STAND_IN_ROLES = (BUREAU, DISCIPLINE)


def stand_in_role(task: HumanTask, case: CaseRecord | None) -> str:
    """The role that acts on `task` once nobody of its own lane is left: 纪委监委 for accusations, else 县信访局."""
    lane_role = BY_LANE[task.lane].code if task.lane in BY_LANE else ""
    wanted = DISCIPLINE if case is not None and (case.confidential or case.category == "accusation") else BUREAU
    if lane_role == wanted:
        return BUREAU if wanted == DISCIPLINE else DISCIPLINE
    return wanted


def nobody_left(access: Access, task: HumanTask, case: CaseRecord | None) -> bool:
    """Whether someone stepped aside from the case and no one who could act on `task` by its lane is left."""
    if case is None or not stepped_aside(access.session, case.instance_id):
        return False
    from workflows.cases.access import Access, load_viewer  # the rules module asks this one, not the reverse

    for username in _candidates(access.session, access, task, case):
        viewer = load_viewer(access.session, username, access.viewer.day)
        if viewer is not None and Access(access.session, viewer).may_act_by_lane(task, case):
            return False
    return True


def stepped_aside(session: Session, instance_id: int) -> list[tuple[str, str]]:
    """(username, reason) of everyone who stepped aside from the case, in order."""
    from workflows.cases.access import STEPPED_ASIDE

    rows = session.execute(select(Event.actor, Event.data).where(Event.instance_id == instance_id,
                                                                 Event.type == STEPPED_ASIDE).order_by(Event.seq))
    return [(actor, str((data or {}).get("reason", ""))) for actor, data in rows]


def stand_in_name(task: HumanTask, case: CaseRecord | None) -> str:
    """The Chinese name of the body that acts on the task once nobody of its lane is left."""
    return BY_CODE[stand_in_role(task, case)].name


def _candidates(session: Session, access: Access, task: HumanTask, case: CaseRecord) -> list[str]:
    """Usernames that could act on the task by its lane: the holders of its role at or above its place, at the
    unit the case names, the leader it names, or today's pair on duty."""
    role = BY_LANE[task.lane].code if task.lane in BY_LANE else None
    if role is None or not BY_CODE[role].is_staff:
        return []
    from workflows.cases.access import UNIT_ROLES, task_place

    people = select(Person.username).join(Position, Position.person_id == Person.id).where(Position.role == role)
    named_field = UNIT_ROLES.get(role)
    if named_field is not None:
        code = getattr(case, named_field, None)
        return list(session.scalars(people.join(OrgUnit, OrgUnit.id == Position.org_unit_id)
                                    .where(OrgUnit.code == code))) if code else []
    if role == "responsible_leader" and case.leader:
        return [case.leader]
    place = access.place_path(task.scope or task_place({"grid": case.grid, "village": case.village,
                                                        "township": case.township}))
    prefixes = _prefixes(place) if place else [_root_path(session)]
    areas = select(OrgUnit.id).where(OrgUnit.path.in_(prefixes))
    found = set(session.scalars(people.join(OrgUnit, OrgUnit.id == Position.org_unit_id).where(
        or_(OrgUnit.path.in_(prefixes), (OrgUnit.kind == "office") & OrgUnit.parent_id.in_(areas)))))
    on_duty = session.execute(select(RotaEntry.secretary_id, RotaEntry.cadre_id)
                              .where(RotaEntry.day == access.viewer.day)).all()
    ids = {i for row in on_duty for i in row}
    if ids and task.process_id == "reception":
        found |= set(session.scalars(select(Person.username).where(Person.id.in_(ids))))
    return sorted(found)


def _prefixes(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]


def _root_path(session: Session) -> str:
    return session.scalar(select(OrgUnit.path).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id).limit(1)) \
        or "/"

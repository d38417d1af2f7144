"""Finding units and people to choose in a form: by name or code, within what the chooser may pick.

A page draws a select or a list of suggestions from `choices(...)`; its small script asks again as the person
types (`/org/search`). What a field may name is the table `PICKS` (checked on submit by
`workflows.cases.org_choice`); places are limited to the chooser's territory (None: the whole county).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from workflows.org.models import OrgUnit, Person, Position


@dataclass(frozen=True)
class Choice:
    """One thing that may be chosen: the value a form submits and the Chinese label a person reads."""

    value: str
    label: str


@dataclass(frozen=True)
class Pick:
    """What a form field may name: units (of a level or kind, with staff of a role) or people (of a role)."""

    what: str  # "unit" or "person"
    label: str  # the Chinese noun for messages: 单位, 乡镇, 人员 ...
    level: str | None = None
    kind: str | None = None
    staffed_by: str | None = None  # a unit must have someone holding this role
    role: str | None = None  # a person must hold this role
    scoped: bool = False  # places: only inside the chooser's own territory
    also: tuple[Choice, ...] = ()  # values that name no one of the org but may be chosen (e.g. outside the county)


PICKS: dict[str, Pick] = {
    "township": Pick("unit", "乡镇", level="township", kind="area", scoped=True),
    "village": Pick("unit", "村（社区）", level="village", kind="area", scoped=True),
    "grid": Pick("unit", "网格", level="grid", kind="area", scoped=True),
    "accused_unit": Pick("unit", "单位"),
    "accused_person": Pick("person", "人员"),
    "handling_unit": Pick("unit", "承办单位", kind="office", staffed_by="handling_unit"),
    "responsible_unit": Pick("unit", "责任单位", kind="office", staffed_by="handling_unit"),  # 认领 of a message
    "package_leader": Pick("person", "包案领导", role="case_leader"),
    "case_leader": Pick("person", "包案领导", role="case_leader"),
    "transfer_to": Pick("unit", "转送单位", also=(Choice("outside", "县外机关（在下一项填写名称）"),)),
}


def choices(session: Session, pick: Pick, territory: Sequence[str] | None, text: str = "",
            limit: int = 20) -> list[Choice]:
    """Units or people `pick` allows, whose name or code matches `text` (all when empty), at most `limit`."""
    wanted = "".join(text.split())
    extra = [c for c in pick.also if not wanted or wanted in c.label or wanted == c.value]
    if pick.what == "person":
        return extra + _people(session, pick, wanted, limit)
    return extra + _units(session, pick, territory if pick.scoped else None, wanted, limit)


def count(session: Session, pick: Pick, territory: Sequence[str] | None) -> int:
    """How many units or people `pick` allows in the territory (to choose between a select and suggestions)."""
    if pick.what == "person":
        return int(session.scalar(select(func.count()).select_from(_people_query(pick).subquery())) or 0)
    query = _units_query(pick, territory if pick.scoped else None)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _units_query(pick: Pick, territory: Sequence[str] | None) -> Select[str, str, str]:
    query = select(OrgUnit.code, OrgUnit.name, OrgUnit.path)
    if pick.level:
        query = query.where(OrgUnit.level == pick.level)
    if pick.kind:
        query = query.where(OrgUnit.kind == pick.kind)
    if pick.staffed_by:
        query = query.where(exists().where(Position.org_unit_id == OrgUnit.id, Position.role == pick.staffed_by))
    if territory is not None:
        query = query.where(or_(*[OrgUnit.path.startswith(path, autoescape=True) for path in territory]))
    return query


def _units(session: Session, pick: Pick, territory: Sequence[str] | None, text: str, limit: int) -> list[Choice]:
    parent = aliased(OrgUnit)
    query = _units_query(pick, territory).add_columns(parent.name.label("parent_name")) \
        .outerjoin(parent, parent.id == OrgUnit.parent_id)
    if text:
        query = query.where(or_(OrgUnit.name.contains(text, autoescape=True),
                                func.lower(OrgUnit.code).startswith(text.lower(), autoescape=True)))
    rows = session.execute(query.order_by(OrgUnit.level, OrgUnit.code).limit(limit)).all()
    return [Choice(row.code, f"{row.name}（{row.parent_name}）" if row.parent_name else row.name) for row in rows]


def _people_query(pick: Pick) -> Select[str, str]:
    query = select(Person.username, Person.display_name)
    if pick.role:
        query = query.where(exists().where(Position.person_id == Person.id, Position.role == pick.role))
    return query


def _people(session: Session, pick: Pick, text: str, limit: int) -> list[Choice]:
    query = _people_query(pick)
    if text:
        query = query.where(or_(Person.display_name.contains(text, autoescape=True),
                                func.lower(Person.username).startswith(text.lower(), autoescape=True)))
    rows = session.execute(query.order_by(Person.username).limit(limit)).all()
    return [Choice(row.username, f"{row.display_name}（{row.username}）") for row in rows]

"""Form fields that name someone of the org: checked as org ids (codes, usernames), never kept as typed text.

What each field may name is the table `workflows.org.search.PICKS`: a place (township, village, grid) is an
area of that level; an accused unit is any unit; an accused person, a package leader, are people; a handling
unit (and the responsible unit that claims an online message) is an office where someone holds the 承办单位
role, so that the task it gets has somebody to act on it, and never the accused unit, a unit above or below
it, nor the accused person's units (信访工作条例 Art. 30).
A submission gives a code or username (an exact, unique name is turned into its code); the checked value is
stored as the code, so access rules compare identities, not spellings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from workflows.cases.stand_in import nobody_in_the_county
from workflows.org.models import OrgUnit, Person, Position
from workflows.org.search import PICKS, Pick
from workflows.org.tree import are_related, chunks, remembered_units

HANDLING_ROLE = "handling_unit"
KIN_REFUSED = "检举控告事项不得交被检举控告单位、其上下级单位或被检举人所在单位承办，应当回避，请另选承办单位"
BEYOND_THE_COUNTY = ("被检举控告对象为本县或县级领导干部，县纪委监委和县信访局均须回避，县内无人可以办理：请告知信访人"
                     "向市纪委监委检举控告，或将材料转送市纪委监委，不在本县登记")
ACCUSED_FIELDS = ("accused_unit", "accused_person")
# Fields that give a unit or person work (a handling unit, a case leader), unlike the facts of a case (its place,
# its accused): one named on a branch of the form not taken is given nothing, so it is neither checked nor kept.
ASSIGNMENTS = frozenset(name for name, pick in PICKS.items() if pick.staffed_by or pick.role)


def handling_unit_refusal(session: Session, unit: OrgUnit, accused: Mapping[str, Any]) -> str:
    """Why `unit` may not handle a case whose accused are named in `accused`; empty when it may.

    The rule every form and script applies when a person names a handling unit: `refusal_of`, read from the db.
    """
    staffed = unit.kind == "office" and _staffed(session, unit.id, HANDLING_ROLE)
    return refusal_of(unit, staffed=staffed, accused=accused_units_of(session, accused))


def refusal_of(unit: OrgUnit, *, staffed: bool, accused: Iterable[OrgUnit]) -> str:
    """Why `unit` may not handle a case, given whether someone there holds 承办单位 and the accused units; empty
    when it may.

    The one handling-unit rule, for the forms, the diagrams' scripts and the routing tables' suggestion alike:
    an office (never a village, grid or other area) where somebody holds the 承办单位 role, so that the tasks
    it gets (承办单位 lane) have someone able to act, and neither the accused unit, nor a unit above or below
    it, nor a unit of the accused person (Art. 30).
    """
    if unit.kind != "office":
        return f"{unit.name}（{unit.code}）不是机关单位，不能作为承办单位；请选择有承办人员的机关"
    if not staffed:
        return f"{unit.name}没有可以办理的承办人员，请另选承办单位"
    if any(are_related(unit, other) for other in accused):
        return KIN_REFUSED
    return ""


def units_with_handlers(session: Session, codes: Iterable[str]) -> dict[str, tuple[OrgUnit, bool]]:
    """The stored units among `codes`, keyed by code, each with whether somebody there holds the 承办单位 role.

    One query however many codes (per chunk of `workflows.org.tree.chunks`): routing tries several candidates.
    """
    staffed = exists().where(Position.org_unit_id == OrgUnit.id, Position.role == HANDLING_ROLE).label("staffed")
    found: dict[str, tuple[OrgUnit, bool]] = {}
    for chunk in chunks(sorted(set(codes))):
        rows = session.execute(select(OrgUnit, staffed).where(OrgUnit.code.in_(chunk)))
        found.update((unit.code, (unit, bool(has_staff))) for unit, has_staff in rows)
    return found


def find_picked_unit(session: Session, text: str, pick: Pick) -> OrgUnit | None:
    """The unit a submitted value names: its code, or else the only unit of that exact name."""
    unit = remembered_units(session, {text}).get(text)
    if unit is None:
        query = select(OrgUnit).where(OrgUnit.name == text)
        if pick.level:
            query = query.where(OrgUnit.level == pick.level)
        if pick.kind:
            query = query.where(OrgUnit.kind == pick.kind)
        found = session.scalars(query.limit(2)).all()
        unit = found[0] if len(found) == 1 else None
    return unit


def check_org_fields(session: Session, values: MutableMapping[str, Any], data: Mapping[str, Any]) -> dict[str, str]:
    """Errors of the org fields of a submission; each valid value is replaced by its code or username.

    `data` is what the case knew before (e.g. the accused unit or person named at registration).
    """
    errors: dict[str, str] = {}
    units: dict[str, OrgUnit] = {}
    for name, pick in PICKS.items():
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            continue
        text = value.strip()
        if any(text == choice.value for choice in pick.also):
            continue
        if pick.what == "person":
            person = session.scalar(select(Person).where(Person.username == text))
            if person is None:
                errors[name] = f"没有找到该{pick.label}：请从列表中选择（按姓名或用户名查找）"
            elif pick.role and not _holds(session, person.id, pick.role):
                errors[name] = f"{person.display_name}（{person.username}）不是{pick.label}，请从列表中选择"
            else:
                values[name] = person.username
            continue
        unit = find_picked_unit(session, text, pick)
        if unit is None or (pick.level and unit.level != pick.level) or (pick.kind and unit.kind != pick.kind):
            errors[name] = f"没有找到该{pick.label}：请从列表中选择，不要手工填写名称"
            continue
        values[name] = unit.code
        units[name] = unit
    for name, unit in units.items():
        if PICKS[name].staffed_by == HANDLING_ROLE:  # a handling unit, whatever the form calls it
            refusal = handling_unit_refusal(session, unit, {**data, **values})
            if refusal:
                errors[name] = refusal
    for name in ACCUSED_FIELDS:  # an accused that keeps the whole county away: no case nobody could ever act on
        named = values.get(name)
        if name not in errors and isinstance(named, str) and named.strip() and \
                nobody_in_the_county(session, **{field: named if field == name else "" for field in ACCUSED_FIELDS}):
            errors[name] = BEYOND_THE_COUNTY
    return errors


def accused_units_of(session: Session, data: Mapping[str, Any]) -> list[OrgUnit]:
    """The accused unit (by code) and the units where the accused person (by username) holds a position."""
    found: list[OrgUnit] = []
    unit_code, username = data.get("accused_unit"), data.get("accused_person")
    if isinstance(unit_code, str) and unit_code.strip():
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code.strip()))
        found += [unit] if unit is not None else []
    if isinstance(username, str) and username.strip():
        found += session.scalars(select(OrgUnit).join(Position, Position.org_unit_id == OrgUnit.id)
                                 .join(Person, Person.id == Position.person_id)
                                 .where(Person.username == username.strip()))
    return found


def _holds(session: Session, person_id: int, role: str) -> bool:
    return session.scalar(select(func.count()).select_from(Position)
                          .where(Position.person_id == person_id, Position.role == role)) != 0


def _staffed(session: Session, unit_id: int, role: str) -> bool:
    return session.scalar(select(func.count()).select_from(Position)
                          .where(Position.org_unit_id == unit_id, Position.role == role)) != 0

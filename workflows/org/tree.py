"""The org tree and its people: lookups by code, name and username, subtree queries, holders of roles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from workflows import DomainError
from workflows.org.models import OrgUnit, Person, Position

T = TypeVar("T")
_CHUNK = 500  # stays under every database's limit of bound parameters


class UnknownUnit(DomainError):
    """No org unit has the given code (or name)."""


class UnknownPerson(DomainError):
    """No person has the given username."""


def get_unit(session: Session, code: str) -> OrgUnit:
    """Return the unit with `code`."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise UnknownUnit(f"no org unit with code {code!r}")
    return unit


def find_unit(session: Session, code_or_name: str, level: str | None = None) -> OrgUnit:
    """Return the unit with this code, or else the only unit (of `level`, if given) with this name."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code_or_name))
    if unit is not None and (level is None or unit.level == level):
        return unit
    query = select(OrgUnit).where(OrgUnit.name == code_or_name)
    if level is not None:
        query = query.where(OrgUnit.level == level)
    matches = session.scalars(query.limit(2)).all()
    if len(matches) == 1:
        return matches[0]
    what = f"{level} " if level else ""
    if matches:
        raise UnknownUnit(f"more than one {what}unit is named {code_or_name!r}: use its code")
    raise UnknownUnit(f"no {what}unit with code or name {code_or_name!r}")


def get_person(session: Session, username: str) -> Person:
    """Return the person who logs in as `username`."""
    person = session.scalar(select(Person).where(Person.username == username))
    if person is None:
        raise UnknownPerson(f"no person with username {username!r}")
    return person


def path_codes(unit: OrgUnit) -> list[str]:
    """Return the codes from the root down to `unit` itself, read from its path."""
    return unit.path.strip("/").split("/")


def ancestors(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """Return the units above `unit`, root first."""
    codes = path_codes(unit)[:-1]
    found = {u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes)))}
    return [found[code] for code in codes if code in found]


def descendants(session: Session, unit: OrgUnit, level: str | None = None) -> list[OrgUnit]:
    """Return the units below `unit` (of `level`, if given), ordered by code."""
    query = select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True), OrgUnit.id != unit.id)
    if level is not None:
        query = query.where(OrgUnit.level == level, OrgUnit.kind == "area")
    return list(session.scalars(query.order_by(OrgUnit.code)))


def units_at(session: Session, level: str, kind: str = "area") -> list[OrgUnit]:
    """Return every unit of `level` and `kind`, ordered by code."""
    query = select(OrgUnit).where(OrgUnit.level == level, OrgUnit.kind == kind)
    return list(session.scalars(query.order_by(OrgUnit.code)))


def are_related(a: OrgUnit, b: OrgUnit) -> bool:
    """Tell whether `a` and `b` are the same unit or one lies inside the other."""
    return a.path.startswith(b.path) or b.path.startswith(a.path)


def enclosing(session: Session, unit: OrgUnit, level: str) -> OrgUnit | None:
    """Return the area of `level` that contains `unit` (the unit itself if it is one), or None."""
    if unit.level == level and unit.kind == "area":
        return unit
    candidates = [u for u in ancestors(session, unit) if u.level == level and u.kind == "area"]
    return candidates[-1] if candidates else None


def holders(session: Session, role: str, unit: OrgUnit, domain: str | None = None) -> list[Person]:
    """Return the people holding `role` at `unit` (in `domain`, if given), ordered by username."""
    query = (
        select(Person)
        .join(Position, Position.person_id == Person.id)
        .where(Position.role == role, Position.org_unit_id == unit.id)
    )
    if domain is not None:
        query = query.where(Position.domain == domain)
    return list(session.scalars(query.distinct().order_by(Person.username)))


def positions_of(session: Session, username: str) -> list[Position]:
    """Return the positions of the person `username`, with their units loaded."""
    query = select(Position).join(Person).where(Person.username == username).options(selectinload(Position.unit))
    return list(session.scalars(query.order_by(Position.id)))


def rebuild_paths(session: Session) -> int:
    """Recompute every unit's path from the parent links; return how many paths changed."""
    session.flush()
    rows = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.parent_id, OrgUnit.path)).all()
    children: dict[int | None, list[Any]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    changes: list[dict[str, Any]] = []
    stack = [(row, "/") for row in children[None]]
    while stack:
        row, prefix = stack.pop()
        path = f"{prefix}{row.code}/"
        if path != row.path:
            changes.append({"id": row.id, "path": path})
        stack.extend((child, path) for child in children[row.id])
    if changes:
        session.execute(update(OrgUnit), changes)
        changed = {change["id"] for change in changes}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, OrgUnit) and obj.id in changed:
                session.expire(obj, ["path"])
    return len(changes)


def chunks(items: Sequence[T]) -> Iterable[list[T]]:
    """Split `items` into lists small enough for one IN (...) clause on any database."""
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


UNITS_KEY = "doorstep.org_units"


def remembered_units(session: Session, codes: Iterable[str]) -> dict[str, OrgUnit]:
    """`units_by_code`, remembering what this session (one request or command) already looked up: the access
    rules and the checks of one submission ask for the same few places. Not for code that changes the org."""
    memo: dict[str, OrgUnit | None] = session.info.setdefault(UNITS_KEY, {})
    missing = {code for code in codes if code not in memo}
    if missing:
        found = units_by_code(session, missing)
        memo.update({code: found.get(code) for code in missing})
    return {code: unit for code in codes if (unit := memo.get(code)) is not None}


def remember_units(session: Session, units: Mapping[str, OrgUnit | None]) -> None:
    """Tell this session's memory of places (`remembered_units`) what the caller read already (None: no such unit)."""
    session.info.setdefault(UNITS_KEY, {}).update(units)


def units_by_code(session: Session, codes: Iterable[str]) -> dict[str, OrgUnit]:
    """Return the stored units among `codes`, keyed by code."""
    found: dict[str, OrgUnit] = {}
    for chunk in chunks(sorted(set(codes))):
        found.update((u.code, u) for u in session.scalars(select(OrgUnit).where(OrgUnit.code.in_(chunk))))
    return found

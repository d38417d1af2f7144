"""The sit-in rota (坐班接访): which village secretary sits in a township's reception room on which workday.

Each township's village secretaries (holders of 坐班村支书 at its villages, in village-code order) take the
workdays in turn; the township's petition cadres (乡镇信访干部) take them in turn alongside. A new range
continues the turn from the township's last entry before it, so consecutive months stay fair.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflows import DomainError
from workflows.cases.calendar import WorkCalendar
from workflows.org.models import OrgUnit, Person, Position, RotaEntry
from workflows.org.tree import UnknownPerson, UnknownUnit, find_unit, get_person, holders, units_at

SECRETARY_ROLE = "duty_secretary"
CADRE_ROLE = "township_cadre"


class RotaError(DomainError):
    """A rota cannot be generated or changed as asked."""


def township_secretaries(session: Session, township: OrgUnit) -> list[Person]:
    """Return the duty secretaries of the township's villages, in rotation order (by village code)."""
    query = (
        select(Person)
        .join(Position, Position.person_id == Person.id)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(Position.role == SECRETARY_ROLE, OrgUnit.path.startswith(township.path, autoescape=True))
        .order_by(OrgUnit.code, Person.username)
    )
    return list(dict.fromkeys(session.scalars(query)))


def township_cadres(session: Session, township: OrgUnit) -> list[Person]:
    """Return the township's petition cadres, in rotation order (by username)."""
    return holders(session, CADRE_ROLE, township)


def generate_rota(
    session: Session,
    calendar: WorkCalendar,
    start: date,
    end: date,
    township: str | None = None,
    *,
    replace: bool = False,
) -> list[RotaEntry]:
    """Fill every workday from `start` to `end` for one township (code or name) or all; return the new entries.

    A township that already has entries in the range is refused unless `replace` is true.
    """
    if end < start:
        raise RotaError(f"the range ends ({end}) before it starts ({start})")
    towns = [_township(session, township)] if township is not None else units_at(session, "township")
    days = calendar.workdays(start, end)
    created: list[RotaEntry] = []
    for town in towns:
        created.extend(_generate(session, town, days, start, end, replace))
    session.flush()
    return created


def _generate(
    session: Session, town: OrgUnit, days: list[date], start: date, end: date, replace: bool
) -> list[RotaEntry]:
    secretaries, cadres = township_secretaries(session, town), township_cadres(session, town)
    if not secretaries:
        raise RotaError(f"{town.name} ({town.code}) has no village secretary holding 坐班村支书")
    if not cadres:
        raise RotaError(f"{town.name} ({town.code}) has no 乡镇信访干部 to co-handle visits")
    existing = _entries(session, town, start, end)
    if existing and not replace:
        raise RotaError(
            f"{town.name} ({town.code}) already has a rota from {existing[0].day} to {existing[-1].day}: "
            "pass replace=True to generate it again, or edit single days"
        )
    for entry in existing:
        session.delete(entry)
    session.flush()
    previous = session.scalar(
        select(RotaEntry)
        .where(RotaEntry.township_id == town.id, RotaEntry.day < start)
        .order_by(RotaEntry.day.desc())
        .limit(1)
    )
    next_secretary = _after(secretaries, previous.secretary if previous else None)
    next_cadre = _after(cadres, previous.cadre if previous else None)
    busy = _busy(session, [p.id for p in secretaries], start, end)
    created = []
    for day in days:
        for offset in range(len(secretaries)):
            secretary = secretaries[(next_secretary + offset) % len(secretaries)]
            if (secretary.id, day) not in busy:
                break
        else:
            raise RotaError(f"every secretary of {town.name} is on duty elsewhere on {day}")
        next_secretary = (next_secretary + offset + 1) % len(secretaries)
        cadre = cadres[next_cadre % len(cadres)]
        next_cadre = (next_cadre + 1) % len(cadres)
        entry = RotaEntry(day=day, township=town, secretary=secretary, cadre=cadre)
        session.add(entry)
        created.append(entry)
    return created


def _after(people: list[Person], last: Person | None) -> int:
    return (people.index(last) + 1) % len(people) if last in people else 0


def _busy(session: Session, person_ids: list[int], start: date, end: date) -> set[tuple[int, date]]:
    query = select(RotaEntry.secretary_id, RotaEntry.day).where(
        RotaEntry.secretary_id.in_(person_ids), RotaEntry.day >= start, RotaEntry.day <= end
    )
    return {(row.secretary_id, row.day) for row in session.execute(query)}


def _entries(session: Session, town: OrgUnit, start: date, end: date) -> list[RotaEntry]:
    query = select(RotaEntry).where(RotaEntry.township_id == town.id, RotaEntry.day >= start, RotaEntry.day <= end)
    return list(session.scalars(query.order_by(RotaEntry.day)))


def on_duty(session: Session, township: str, day: date) -> RotaEntry | None:
    """Return who is on duty at `township` (code or name) on `day`, or None on a day without duty."""
    town = _township(session, township)
    query = select(RotaEntry).where(RotaEntry.township_id == town.id, RotaEntry.day == day)
    return session.scalar(query)


def duty_township(session: Session, username: str, day: date) -> OrgUnit | None:
    """Return the township where `username` is on duty (as secretary or cadre) on `day`, or None."""
    person = _person(session, username)
    query = (
        select(OrgUnit)
        .join(RotaEntry, RotaEntry.township_id == OrgUnit.id)
        .where(RotaEntry.day == day, or_(RotaEntry.secretary_id == person.id, RotaEntry.cadre_id == person.id))
        .order_by(RotaEntry.secretary_id != person.id)
    )
    return session.scalars(query).first()


def reassign_duty(
    session: Session, township: str, day: date, *, secretary: str | None = None, cadre: str | None = None
) -> RotaEntry:
    """Put another secretary and/or cadre (usernames) on duty at `township` on `day`."""
    town = _township(session, township)
    entry = _entry(session, town, day)
    if secretary is not None:
        person = _person(session, secretary)
        if person not in township_secretaries(session, town):
            raise RotaError(f"{secretary} is not the 坐班村支书 of a village of {town.name} ({town.code})")
        elsewhere = session.scalar(
            select(RotaEntry).where(RotaEntry.secretary_id == person.id, RotaEntry.day == day, RotaEntry.id != entry.id)
        )
        if elsewhere is not None:
            raise RotaError(f"{secretary} is already on duty on {day} (township id {elsewhere.township_id})")
        entry.secretary = person
    if cadre is not None:
        person = _person(session, cadre)
        if person not in township_cadres(session, town):
            raise RotaError(f"{cadre} is not a 乡镇信访干部 of {town.name} ({town.code})")
        entry.cadre = person
    session.flush()
    return entry


def swap_duties(session: Session, township: str, first: date, second: date) -> tuple[RotaEntry, RotaEntry]:
    """Swap the secretaries on duty at `township` on two days (换班)."""
    town = _township(session, township)
    a, b = _entry(session, town, first), _entry(session, town, second)
    a.secretary, b.secretary = b.secretary, a.secretary
    session.flush()
    return a, b


def duty_counts(session: Session, township: str, start: date, end: date) -> dict[str, int]:
    """Return how many days each of the township's secretaries is on duty from `start` to `end`."""
    town = _township(session, township)
    counts = {person.username: 0 for person in township_secretaries(session, town)}
    for entry in _entries(session, town, start, end):
        counts[entry.secretary.username] = counts.get(entry.secretary.username, 0) + 1
    return counts


def entries_between(session: Session, start: date, end: date, townships: Iterable[str] = ()) -> list[RotaEntry]:
    """Return the rota from `start` to `end` (of the given township codes, or all), by day and township."""
    query = select(RotaEntry).join(OrgUnit, OrgUnit.id == RotaEntry.township_id)
    query = query.where(RotaEntry.day >= start, RotaEntry.day <= end)
    codes = list(townships)
    if codes:
        query = query.where(OrgUnit.code.in_(codes))
    return list(session.scalars(query.order_by(RotaEntry.day, OrgUnit.code)))


def _entry(session: Session, town: OrgUnit, day: date) -> RotaEntry:
    query = select(RotaEntry).where(RotaEntry.township_id == town.id, RotaEntry.day == day)
    entry = session.scalar(query)
    if entry is None:
        raise RotaError(f"{town.name} ({town.code}) has no rota entry on {day} (not generated, or not a workday)")
    return entry


def _township(session: Session, township: str) -> OrgUnit:
    try:
        return find_unit(session, township, level="township")
    except UnknownUnit as exc:
        raise RotaError(str(exc)) from exc


def _person(session: Session, username: str) -> Person:
    try:
        return get_person(session, username)
    except UnknownPerson as exc:
        raise RotaError(str(exc)) from exc

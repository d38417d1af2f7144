"""The sit-in rota (坐班接访): which village secretary sits in a township's reception room on which workday.

Each township's village secretaries (holders of 坐班村支书 at its villages, in village-code order) take the
workdays in turn; the township's petition cadres (乡镇信访干部) take them in turn alongside. A new range
continues the turn from the township's last entry before it, so consecutive months stay fair.

A change made by a person (`RotaEditor`: the CLI, the /rota page) is checked against the business day — no past
day, no day off — and recorded in `rota_change`; the demo loader and the simulator change it without an editor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from workflows import DomainError
from workflows.cases.calendar import WorkCalendar
from workflows.org.models import OrgUnit, Person, Position, RotaChange, RotaEntry
from workflows.org.tree import UnknownPerson, UnknownUnit, find_unit, get_person, holders, units_at

SECRETARY_ROLE = "duty_secretary"
CADRE_ROLE = "township_cadre"


class RotaError(DomainError):
    """A rota cannot be generated or changed as asked; `field` names the input at fault (day, secretary, ...)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RotaEditor:
    """A person changing the rota at a business moment: changes are checked against that day and recorded."""

    actor: str
    at: datetime
    calendar: WorkCalendar

    @property
    def today(self) -> date:
        """The local business day of the change."""
        return self.calendar.local_day(self.at)

    def check_day(self, day: date, field: str) -> None:
        """Refuse a past day or a day off for the input `field`."""
        if day < self.today:
            raise RotaError(f"{day} 已经过去（今天是 {self.today}），不能再改那天的排班", field)
        if not self.calendar.is_workday(day):
            raise RotaError(f"{day} 不是工作日（周末或节假日），那天不排班", field)

    def record(self, session: Session, town: OrgUnit, action: str, detail: str) -> None:
        """Keep who changed which township's rota, when and how."""
        session.add(RotaChange(at=self.at, actor=self.actor, township=town, action=action, detail=detail))


def township_secretaries(session: Session, township: OrgUnit) -> list[Person]:
    """Return the duty secretaries of the township's villages, in rotation order (by village code)."""
    return list(secretary_villages(session, township))


def secretary_villages(session: Session, township: OrgUnit) -> dict[Person, OrgUnit]:
    """Return the township's duty secretaries in rotation order, each with the (first) village they sit for."""
    query = (
        select(Person, OrgUnit)
        .join(Position, Position.person_id == Person.id)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(Position.role == SECRETARY_ROLE, OrgUnit.path.startswith(township.path, autoescape=True))
        .order_by(OrgUnit.code, Person.username)
    )
    found: dict[Person, OrgUnit] = {}
    for person, village in session.execute(query):
        found.setdefault(person, village)
    return found


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
    editor: RotaEditor | None = None,
    unstaffed: list[RotaError] | None = None,
) -> list[RotaEntry]:
    """Fill every workday from `start` to `end` for one township (code or name) or all; return the new entries.

    A township that already has entries in the range is refused unless `replace` is true. A person's change
    (`editor`) starts today at the earliest: who sat on a past day is the record of that day. Given `unstaffed`,
    townships with no village secretary or no petition cadre to sit are left out, their refusals collected there,
    and the others generated; without it the first such township refuses the whole run.
    """
    if end < start:
        raise RotaError(f"结束日期 {end} 早于开始日期 {start}", "to")
    if editor is not None and start < editor.today:
        raise RotaError(f"{start} 已经过去（今天是 {editor.today}）：排班从今天或以后开始生成，"
                        "过去的排班是当天的记录", "from")
    towns = [find_township(session, township)] if township is not None else units_at(session, "township")
    days = calendar.workdays(start, end)
    created: list[RotaEntry] = []
    for town in towns:
        secretaries, cadres = township_secretaries(session, town), township_cadres(session, town)
        refusal = _unstaffed(town, secretaries, cadres)
        if refusal is not None:
            if unstaffed is None:
                raise refusal
            unstaffed.append(refusal)
            continue
        written = _generate(session, town, secretaries, cadres, days, start, end, replace)
        created.extend(written)
        if editor is not None:
            editor.record(session, town, "generate", f"生成 {start} 至 {end} 的排班，{len(written)} 个工作日"
                          + ("（重新生成）" if replace else ""))
    session.flush()
    return created


def _generate(
    session: Session, town: OrgUnit, secretaries: list[Person], cadres: list[Person], days: list[date], start: date,
    end: date, replace: bool
) -> list[RotaEntry]:
    existing = _entries(session, town, start, end)
    if existing and not replace:
        raise RotaError(
            f"{_town(town)}已有 {existing[0].day} 至 {existing[-1].day} 的排班：要重新生成请加 --replace"
            "（会覆盖这段排班），或只改某一天（换班、改派）", "from"
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
            raise RotaError(f"{_town(town)}的坐班村支书 {day} 都在别处值班", "township")
        next_secretary = (next_secretary + offset + 1) % len(secretaries)
        cadre = cadres[next_cadre % len(cadres)]
        next_cadre = (next_cadre + 1) % len(cadres)
        entry = RotaEntry(day=day, township=town, secretary=secretary, cadre=cadre)
        session.add(entry)
        created.append(entry)
    return created


def _unstaffed(town: OrgUnit, secretaries: list[Person], cadres: list[Person]) -> RotaError | None:
    """Why nobody can sit in the township's reception room, or None when someone can."""
    if not secretaries:
        return RotaError(f"{_town(town)}没有村支书担任坐班村支书，无法排班", "township")
    if not cadres:
        return RotaError(f"{_town(town)}没有乡镇信访干部陪同坐班，无法排班", "township")
    return None


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
    town = find_township(session, township)
    query = select(RotaEntry).where(RotaEntry.township_id == town.id, RotaEntry.day == day)
    return session.scalar(query)


def duty_township(session: Session, username: str, day: date) -> OrgUnit | None:
    """Return the township where `username` is on duty (as secretary or cadre) on `day`, or None."""
    person = _person(session, username, "username")
    query = (
        select(OrgUnit)
        .join(RotaEntry, RotaEntry.township_id == OrgUnit.id)
        .where(RotaEntry.day == day, or_(RotaEntry.secretary_id == person.id, RotaEntry.cadre_id == person.id))
        .order_by(RotaEntry.secretary_id != person.id)
    )
    return session.scalars(query).first()


def reassign_duty(
    session: Session,
    township: str,
    day: date,
    *,
    secretary: str | None = None,
    cadre: str | None = None,
    editor: RotaEditor | None = None,
) -> RotaEntry:
    """Put another secretary and/or cadre (usernames) on duty at `township` on `day`."""
    town = find_township(session, township)
    if editor is not None:
        editor.check_day(day, "day")
    entry = _entry(session, town, day, "day")
    before = _pair(entry)
    if secretary is not None:
        person = _person(session, secretary, "secretary")
        if person not in township_secretaries(session, town):
            raise RotaError(f"{secretary} 不是{_town(town)}所辖村的坐班村支书", "secretary")
        _check_free(session, person, entry, "secretary")
        entry.secretary = person
    if cadre is not None:
        person = _person(session, cadre, "cadre")
        if person not in township_cadres(session, town):
            raise RotaError(f"{cadre} 不是{_town(town)}的乡镇信访干部", "cadre")
        entry.cadre = person
    if editor is not None:
        editor.record(session, town, "reassign", f"{day} 改派：{before} → {_pair(entry)}")
    session.flush()
    return entry


def swap_duties(
    session: Session, township: str, first: date, second: date, *, editor: RotaEditor | None = None
) -> tuple[RotaEntry, RotaEntry]:
    """Swap the secretaries on duty at `township` on two days (换班)."""
    town = find_township(session, township)
    if editor is not None:
        editor.check_day(first, "first")
        editor.check_day(second, "second")
    if first == second:
        raise RotaError("换班的两天不能是同一天", "second")
    a, b = _entry(session, town, first, "first"), _entry(session, town, second, "second")
    _check_free(session, b.secretary, a, "first")
    _check_free(session, a.secretary, b, "second")
    a.secretary, b.secretary = b.secretary, a.secretary
    if editor is not None:
        detail = f"换班：{first} 改由 {_who(a.secretary)}，{second} 改由 {_who(b.secretary)}"
        editor.record(session, town, "swap", detail)
    session.flush()
    return a, b


def duty_counts(session: Session, township: str, start: date, end: date) -> dict[str, int]:
    """Return how many days each of the township's secretaries is on duty from `start` to `end`."""
    town = find_township(session, township)
    counts = {person.username: 0 for person in township_secretaries(session, town)}
    for entry in _entries(session, town, start, end):
        counts[entry.secretary.username] = counts.get(entry.secretary.username, 0) + 1
    return counts


def entries_between(session: Session, start: date, end: date, townships: Iterable[str] = ()) -> list[RotaEntry]:
    """Return the rota from `start` to `end` (of the given township codes, or all), by day and township, with the
    township and both people loaded in the same statement."""
    query = select(RotaEntry).join(OrgUnit, OrgUnit.id == RotaEntry.township_id).options(
        joinedload(RotaEntry.township), joinedload(RotaEntry.secretary), joinedload(RotaEntry.cadre))
    query = query.where(RotaEntry.day >= start, RotaEntry.day <= end)
    codes = list(townships)
    if codes:
        query = query.where(OrgUnit.code.in_(codes))
    return list(session.scalars(query.order_by(RotaEntry.day, OrgUnit.code)))


def rota_changes_of(session: Session, township: OrgUnit | None = None, limit: int = 50) -> list[RotaChange]:
    """Return the latest `limit` recorded changes (of one township, or all), oldest first."""
    query = select(RotaChange).options(joinedload(RotaChange.township)).order_by(RotaChange.id.desc()).limit(limit)
    if township is not None:
        query = query.where(RotaChange.township_id == township.id)
    return list(reversed(session.scalars(query).all()))


def _check_free(session: Session, secretary: Person, entry: RotaEntry, field: str) -> None:
    """Refuse to put `secretary` on `entry`'s day when they already sit in another township's room that day."""
    query = select(RotaEntry).where(
        RotaEntry.secretary_id == secretary.id, RotaEntry.day == entry.day, RotaEntry.township_id != entry.township_id
    )
    elsewhere = session.scalar(query)
    if elsewhere is not None:
        raise RotaError(f"{secretary.username} {entry.day} 已在{_town(elsewhere.township)}坐班", field)


def _entry(session: Session, town: OrgUnit, day: date, field: str) -> RotaEntry:
    query = select(RotaEntry).where(RotaEntry.township_id == town.id, RotaEntry.day == day)
    entry = session.scalar(query)
    if entry is None:
        raise RotaError(f"{_town(town)} {day} 没有排班（尚未生成，或不是工作日）", field)
    return entry


def _town(town: OrgUnit) -> str:
    return f"{town.name}（{town.code}）"


def _who(person: Person) -> str:
    return f"{person.display_name}（{person.username}）"


def _pair(entry: RotaEntry) -> str:
    return f"坐班村支书 {_who(entry.secretary)}、乡镇信访干部 {_who(entry.cadre)}"


def find_township(session: Session, township: str) -> OrgUnit:
    """Return the township with this code or name; RotaError (field `township`) when there is none."""
    try:
        return find_unit(session, township, level="township")
    except UnknownUnit as exc:
        raise RotaError(str(exc), "township") from exc


def _person(session: Session, username: str, field: str) -> Person:
    try:
        return get_person(session, username)
    except UnknownPerson as exc:
        raise RotaError(str(exc), field) from exc

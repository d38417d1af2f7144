"""Statutory deadlines and working-day arithmetic in local time (Asia/Shanghai by default).

Every function takes and returns aware datetimes; results are in the calendar's time zone. Nothing here
reads the wall clock: the engine's clock supplies "now".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows import DATA_DIR, DomainError, LineDict, LineList, ProblemLog, read_data_file

DEFAULT_TIMEZONE = "Asia/Shanghai"


class CalendarError(DomainError):
    """A datetime without a time zone, or a limit that does not exist."""


@dataclass(frozen=True)
class WorkCalendar:
    """Which local days are workdays (weekdays, minus holidays, plus make-up days 调休) and when they end."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    workday_end: time = time(17, 30)
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()

    def local(self, moment: datetime) -> datetime:
        """Return `moment` in the calendar's time zone; a naive datetime is refused."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise CalendarError(f"naive datetime {moment.isoformat()}: give a time zone")
        return moment.astimezone(self.timezone)

    def local_day(self, moment: datetime) -> date:
        """Return the local calendar day of `moment`."""
        return self.local(moment).date()

    def at(self, day: date, clock: time) -> datetime:
        """Return the aware local datetime of `day` at `clock`."""
        return datetime.combine(day, clock, tzinfo=self.timezone)

    def is_workday(self, day: date) -> bool:
        """Tell whether `day` is a workday."""
        if day in self.makeup_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def next_workday(self, day: date) -> date:
        """Return the first workday after `day`."""
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def previous_workday(self, day: date) -> date:
        """Return the last workday before `day`."""
        day -= timedelta(days=1)
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def workdays(self, start: date, end: date) -> list[date]:
        """Return the workdays from `start` to `end`, both included."""
        days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
        return [day for day in days if self.is_workday(day)]

    def add_days(self, moment: datetime, days: int) -> datetime:
        """Return the same local time `days` calendar days later (earlier if negative)."""
        return self.local(moment) + timedelta(days=days)

    def add_working_days(self, moment: datetime, days: int) -> datetime:
        """Return the same local time `days` workdays later; from a non-workday, Monday counts as day 1."""
        local = self.local(moment)
        day = local.date()
        step = self.next_workday if days >= 0 else self.previous_workday
        for _ in range(abs(days)):
            day = step(day)
        return self.at(day, local.time())

    def end_of_workday(self, moment: datetime) -> datetime:
        """Return the end of this workday if `moment` falls before it, else the end of the next workday."""
        local = self.local(moment)
        day = local.date()
        if not (self.is_workday(day) and local.time() < self.workday_end):
            day = self.next_workday(day)
        return self.at(day, self.workday_end)


@dataclass(frozen=True)
class Deadlines:
    """The statutory limits of 信访工作条例 (2022), in calendar days unless the name says working days."""

    registration_days: int = 15  # Art. 22: register and route
    acceptance_days: int = 15  # Art. 23: written notice of acceptance
    objection_working_days: int = 5  # Art. 23: a body that is not competent objects
    handling_days: int = 60  # Art. 34: from acceptance
    extension_max_days: int = 30  # Art. 34: with approval and a reason
    review_request_days: int = 30  # Art. 35: 复查 requested after the reply
    review_decision_days: int = 30  # Art. 35
    reexam_request_days: int = 30  # Art. 36: 复核 requested after the review
    reexam_decision_days: int = 30  # Art. 36
    group_visit_threshold: int = 5  # Art. 20: headcount from which a visit is a group visit (集体访)
    village_days: int = 15  # 小事不出村: the village's attempt, from registration
    township_days: int = 15  # 大事不出镇: the township's attempt, from reaching the township
    rating_days: int = 7  # Art. 21: the petitioner rates the reply
    online_respond_days: int = 1  # 网上留言: acknowledge the message
    online_claim_days: int = 3  # the responsible unit claims it
    online_answer_days: int = 5  # answer (or assign) after claiming
    online_feedback_days: int = 1  # tell the sender the outcome

    def due(self, limit: str, start: datetime, calendar: WorkCalendar) -> datetime:
        """Return when `limit` (a field name such as "handling_days") runs out for a period from `start`.

        The period ends at the end of its last day; a last day off moves to the next workday.
        """
        if not limit.endswith("_days") or limit not in {f.name for f in fields(self)}:
            raise CalendarError(f"unknown time limit {limit!r} (known: {', '.join(self.day_limits())})")
        count = getattr(self, limit)
        if limit.endswith("_working_days"):
            last = calendar.add_working_days(start, count)
        else:
            last = calendar.add_days(start, count)
        return calendar.end_of_workday(calendar.at(last.date(), time(0, 0)))

    def extend(self, due: datetime, days: int, calendar: WorkCalendar) -> datetime:
        """Move a due time `days` later (at most `extension_max_days`), ending at the end of a workday."""
        last = calendar.add_days(due, min(days, self.extension_max_days))
        return calendar.end_of_workday(calendar.at(last.date(), time(0, 0)))

    def is_group_visit(self, headcount: int) -> bool:
        """Tell whether a visit of `headcount` people is a group visit."""
        return headcount >= self.group_visit_threshold

    def day_limits(self) -> dict[str, int]:
        """Return every limit counted in days, by field name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name.endswith("_days")}


def load_deadlines(path: Path | str | None = None) -> Deadlines:
    """Read the statutory limits from a YAML file (default: workflows/data/deadlines.yaml)."""
    source = Path(path) if path is not None else DATA_DIR / "deadlines.yaml"
    names = tuple(f.name for f in fields(Deadlines))
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", *names)) or LineDict()
    _check_version(log, doc)
    values: dict[str, int] = {}
    for name in names:
        value = doc.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            log.add(doc.line_of(name), name, f"expected a whole number of at least 1, not {value!r}")
        else:
            values[name] = value
    log.raise_if_any()
    return Deadlines(**values)


def load_work_calendar(path: Path | str | None = None) -> WorkCalendar:
    """Read time zone, end of workday, holidays and make-up workdays (default: workflows/data/calendar.yaml)."""
    source = Path(path) if path is not None else DATA_DIR / "calendar.yaml"
    log = ProblemLog(str(source))
    allowed = ("version", "timezone", "end_of_workday", "holidays", "makeup_workdays")
    doc = log.mapping(read_data_file(source), 1, "", allowed) or LineDict()
    _check_version(log, doc)
    zone = _zone(log, doc)
    end = _clock(log, doc)
    holidays: set[date] = set()
    for index, line, entry in _entries(log, doc, "holidays"):
        holidays.update(_holiday(log, entry, line, f"holidays[{index}]"))
    makeup: set[date] = set()
    for index, line, entry in _entries(log, doc, "makeup_workdays"):
        day = _day(log, entry, line, f"makeup_workdays[{index}]")
        if day is not None:
            makeup.add(day)
    for day in sorted(holidays & makeup):
        log.add(doc.line_of("makeup_workdays"), "makeup_workdays", f"{day} is also listed as a holiday")
    log.raise_if_any()
    return WorkCalendar(zone or ZoneInfo(DEFAULT_TIMEZONE), end, frozenset(holidays), frozenset(makeup))


def _check_version(log: ProblemLog, doc: LineDict) -> None:
    if doc.get("version", 1) != 1:
        log.add(doc.line_of("version"), "version", f"unsupported version {doc['version']!r} (expected 1)")


def _zone(log: ProblemLog, doc: LineDict) -> ZoneInfo | None:
    name = doc.get("timezone", DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        log.add(doc.line_of("timezone"), "timezone", f"unknown time zone {name!r} (e.g. Asia/Shanghai)")
        return None


def _clock(log: ProblemLog, doc: LineDict) -> time:
    value: Any = doc.get("end_of_workday", "17:30")
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value // 60}:{value % 60:02d}"  # YAML 1.1 reads an unquoted 17:30 as 1050 (base 60)
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
        return time(hours, minutes)
    except ValueError:
        log.add(doc.line_of("end_of_workday"), "end_of_workday", f'expected a time like "17:30", not {value!r}')
        return time(17, 30)


def _entries(log: ProblemLog, doc: LineDict, key: str) -> list[tuple[int, int, Any]]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, LineList):
        log.add(doc.line_of(key), key, "expected a list")
        return []
    return [(index, value.line_of(index), entry) for index, entry in enumerate(value)]


def _day(log: ProblemLog, value: Any, line: int, where: str) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        log.add(line, where, f"expected a date like 2025-10-01, not {value!r}")
        return None


def _holiday(log: ProblemLog, raw: Any, line: int, where: str) -> list[date]:
    if not isinstance(raw, LineDict):
        day = _day(log, raw, line, where)
        return [day] if day else []
    entry = log.mapping(raw, line, where, ("name", "from", "to"))
    assert entry is not None
    if "from" not in entry:
        log.add(entry.line, where, "missing 'from' (the first day off)")
        return []
    first = _day(log, entry["from"], entry.line_of("from"), f"{where}.from")
    last = _day(log, entry.get("to", entry["from"]), entry.line_of("to"), f"{where}.to")
    if first is None or last is None:
        return []
    if not first <= last <= first + timedelta(days=31):
        log.add(entry.line_of("to"), f"{where}.to", f"{last} must fall within 31 days after {first}")
        return []
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]

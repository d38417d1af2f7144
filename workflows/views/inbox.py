"""A person's inbox: the open tasks they may act on, with filters, sorting and counts per filter value."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from engine.models import Event, HumanTask, ProcessVersion
from workflows.cases.access import STEPPED_ASIDE, Access
from workflows.cases.record import CaseRecord, deadline_states
from workflows.cases.script_helpers import packaged_config
from workflows.cases.stand_in import STAND_IN_ROLES
from workflows.cases.task_rows import VIEWER, access_params, take_access_facts, with_access_facts
from workflows.org.models import OrgUnit
from workflows.org.tree import remembered_units

LOCAL = ZoneInfo("Asia/Shanghai")
DUE_CHOICES = {"overdue": "已超期", "today": "今天到期", "week": "7天内到期", "none": "无期限"}
CLAIM_CHOICES = {"mine": "我认领的", "unclaimed": "未认领", "others": "他人认领"}
SORTS = {"due": "按期限", "created": "按到达时间", "category": "按类别", "place": "按地点"}


@dataclass(frozen=True)
class InboxFilter:
    """What the person asked to see; empty values mean "all"."""

    due: str = ""
    category: str = ""
    place: str = ""
    process: str = ""
    claim: str = ""
    sort: str = "due"
    case: int | None = None  # one case's tasks only

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InboxFilter:
        """Read the filter from query arguments, dropping values that are not choices."""
        due, claim, sort = args.get("due", ""), args.get("claim", ""), args.get("sort", "due")
        return cls(due=due if due in DUE_CHOICES else "", category=args.get("category", "").strip(),
                   place=args.get("place", "").strip(), process=args.get("process", "").strip(),
                   claim=claim if claim in CLAIM_CHOICES else "", sort=sort if sort in SORTS else "due")


@dataclass
class InboxItem:
    """One open task as the inbox shows it."""

    task: HumanTask
    case: CaseRecord | None
    process_name: str
    category_name: str
    township_code: str
    place_name: str
    overdue: bool
    due_today: bool
    due_within_week: bool
    claimed_by_me: bool
    claimed_by_other: bool
    stand_in_reason: str  # why the viewer acts on a task of another lane (workflows.cases.stand_in), or ""

    @property
    def case_deadline(self) -> tuple[str, datetime] | None:
        """The case's earliest deadline still running: what a task without a due time of its own works to."""
        if self.case is None:
            return None
        running = sorted((due, name) for name, due, state in deadline_states(self.case, self.task.created_at)
                         if state in ("pending", "overdue"))
        return (running[0][1], running[0][0]) if running else None

    @property
    def due_key(self) -> str:
        """The due filter value this task falls under."""
        if self.task.due_at is None:
            return "none"
        if self.overdue:
            return "overdue"
        return "today" if self.due_today else ("week" if self.due_within_week else "later")

    @property
    def claim_key(self) -> str:
        """The claim filter value this task falls under."""
        return "mine" if self.claimed_by_me else ("others" if self.claimed_by_other else "unclaimed")


@dataclass
class Inbox:
    """The filtered, sorted items and the counts per filter value (given the other filters)."""

    items: list[InboxItem]
    total: int
    facets: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)  # name → (value, label, count)


def inbox(access: Access, now: datetime, wanted: InboxFilter | None = None) -> Inbox:
    """The open tasks the viewer may see, filtered and sorted as asked."""
    wanted = wanted or InboxFilter()
    everything = visible_open_tasks(access, now, wanted.case)
    tests: dict[str, Callable[[InboxItem], bool]] = {
        "due": lambda i: not wanted.due or i.due_key == wanted.due,
        "category": lambda i: not wanted.category or (i.case is not None and i.case.category == wanted.category),
        "place": lambda i: not wanted.place or i.township_code == wanted.place,
        "process": lambda i: not wanted.process or i.task.process_id == wanted.process,
        "claim": lambda i: not wanted.claim or i.claim_key == wanted.claim,
    }
    keys: dict[str, Callable[[InboxItem], tuple[str, str]]] = {
        "due": lambda i: (i.due_key, DUE_CHOICES.get(i.due_key, "更晚到期")),
        "category": lambda i: ((i.case.category or "") if i.case else "", i.category_name),
        "place": lambda i: (i.township_code, i.place_name.split(" ")[0] if i.place_name else ""),
        "process": lambda i: (i.task.process_id, i.process_name),
        "claim": lambda i: (i.claim_key, CLAIM_CHOICES[i.claim_key]),
    }
    facets = {}
    for name, key in keys.items():
        others = [i for i in everything if all(test(i) for other, test in tests.items() if other != name)]
        counted = Counter(key(i) for i in others)
        facets[name] = [(value, label or "（未填）", count) for (value, label), count in
                        sorted(counted.items(), key=lambda kv: (kv[0][0] == "", kv[0][0]))]
    chosen = [i for i in everything if all(test(i) for test in tests.values())]
    chosen.sort(key=_SORT_KEYS[wanted.sort])
    return Inbox(chosen, len(everything), facets)


_OPEN_TASKS = with_access_facts(
    select(HumanTask, CaseRecord).outerjoin(CaseRecord, CaseRecord.instance_id == HumanTask.instance_id)).where(
    HumanTask.status == "open", or_(HumanTask.lane.in_(bindparam("lanes", expanding=True)),
                                    HumanTask.claimed_by == VIEWER))
_OPEN_TASKS_OF_CASE = _OPEN_TASKS.where(HumanTask.instance_id == bindparam("case"))
# For the stand-in bodies (workflows.cases.stand_in): tasks of other lanes whose people may all have stepped aside
# or be kept from an accusation.
_OPEN_TASKS_OR_ASIDE = with_access_facts(
    select(HumanTask, CaseRecord).outerjoin(CaseRecord, CaseRecord.instance_id == HumanTask.instance_id)).where(
    HumanTask.status == "open", or_(HumanTask.lane.in_(bindparam("lanes", expanding=True)),
                                    HumanTask.claimed_by == VIEWER,
                                    CaseRecord.accused_unit != "", CaseRecord.accused_person != "",
                                    HumanTask.instance_id.in_(select(Event.instance_id)
                                                              .where(Event.type == STEPPED_ASIDE))))
_OPEN_TASKS_OR_ASIDE_OF_CASE = _OPEN_TASKS_OR_ASIDE.where(HumanTask.instance_id == bindparam("case"))


def visible_open_tasks(access: Access, now: datetime, case: int | None = None) -> list[InboxItem]:
    """Every open task the viewer may see (candidates by lane from the index, then the access rules), of one
    case when given."""
    viewer = access.viewer
    stand_in = viewer.has_role(*STAND_IN_ROLES)  # also the tasks of step-aside cases (回避) and accusations
    query = _OPEN_TASKS_OR_ASIDE if stand_in else _OPEN_TASKS
    params = {"lanes": sorted(viewer.lanes), **access_params(access)}
    if case is not None:
        query = _OPEN_TASKS_OR_ASIDE_OF_CASE if stand_in else _OPEN_TASKS_OF_CASE
        params = {**params, "case": case}
    rows = [take_access_facts(access, row) for row in access.session.execute(query, params)]  # one query in all
    visible = [(t, c) for t, c in rows if access.may_see_task(t, c)]
    return describe(access, visible, now)


def describe(access: Access, rows: Sequence[tuple[HumanTask, CaseRecord | None]], now: datetime,
             units: Mapping[str, OrgUnit] | None = None) -> list[InboxItem]:
    """Turn task rows the viewer may see into inbox items with names of processes, categories and places
    (`units`: the places by code, when the caller has them already) and why the viewer stands in, if so."""
    session, username = access.session, access.viewer.username
    names = recent_process_names(session)
    categories = packaged_config().routing.categories
    if units is None:
        units = remembered_units(session, {code for t, c in rows for code in (
            t.scope, c.township if c else None, c.village if c else None) if code})
    today = now.astimezone(LOCAL).date()
    items = []
    for task, case in rows:
        township = (case.township if case else None) or ""
        place_parts = [units[code].name for code in (township, case.village if case else None)
                       if code and code in units]
        if not place_parts and task.scope is not None and task.scope in units:
            place_parts = [units[task.scope].name]
        due = task.due_at
        category = case.category if case else None
        items.append(InboxItem(
            task=task, case=case, process_name=names.get(task.process_id, task.process_id),
            category_name=categories[category].name if category and category in categories else (category or ""),
            township_code=township, place_name=" ".join(place_parts),
            overdue=due is not None and due < now,
            due_today=due is not None and due >= now and due.astimezone(LOCAL).date() == today,
            due_within_week=due is not None and now <= due < now + timedelta(days=7),
            claimed_by_me=task.claimed_by == username,
            claimed_by_other=task.claimed_by not in (None, username),
            stand_in_reason=access.stand_in_reason(task, case)))
    return items


NAMES_TTL = 30.0  # seconds a worker keeps the process names; a newly deployed name shows within that time
_names: dict[str, tuple[float, dict[str, str]]] = {}


def recent_process_names(session: Session) -> dict[str, str]:
    """`process_names`, remembered per database for NAMES_TTL seconds (the inbox asks on every read)."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    cached = _names.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    names = process_names(session)
    _names[key] = (time.monotonic() + NAMES_TTL, names)
    return names


def process_names(session: Session) -> dict[str, str]:
    """The Chinese name of each deployed process (its newest version's)."""
    rows = session.execute(select(ProcessVersion.process_id, ProcessVersion.name)
                           .order_by(ProcessVersion.process_id, ProcessVersion.version)).all()
    return {process_id: name or process_id for process_id, name in rows}


_FAR = datetime.max.replace(tzinfo=LOCAL)
_SORT_KEYS: dict[str, Callable[[InboxItem], tuple[object, ...]]] = {
    "due": lambda i: (i.task.due_at is None, i.task.due_at or _FAR, i.task.created_at),
    "created": lambda i: (i.task.created_at,),
    "category": lambda i: (i.category_name, i.task.due_at or _FAR),
    "place": lambda i: (i.place_name, i.task.due_at or _FAR),
}

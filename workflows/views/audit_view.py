"""What auditors read: the case search, a case's history with everything recorded, the case at any step of its
history, and whether its record holds (re-execution and hash chain).

Personal data is masked everywhere here; each page that shows a case's data is itself recorded on the case
(`record_audit_view`). The re-execution is the engine's (`engine.audit.replay_steps`); the diagram marks are the
case page's (`workflows.views.case_diagram.marked_diagrams`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, or_, select, true
from sqlalchemy.orm import Session

from engine import Engine
from engine.access_log import BrokenRead, check_reads, reads_of, record_read
from engine.audit import CaseHistory, ChainStatus, Divergence, StepView, Verdict, chain_status, replay_steps, verify
from engine.export import Presentation, month_bounds
from engine.export import element_names as element_names_of
from engine.models import Event, Instance, ProcessVersion
from workflows.cases.access import Access
from workflows.cases.record import CLOSED, OPEN, CaseRecord
from workflows.cases.script_helpers import packaged_config
from workflows.intake.petitioner_query import OUTCOMES
from workflows.org.models import OrgUnit
from workflows.org.tree import units_by_code
from workflows.views.case_diagram import DiagramView, element_names, marked_diagrams
from workflows.views.case_view import (
    ACTOR_NAMES,
    EVENT_NAMES,
    LOCAL,
    PLACE_KEYS,
    Labels,
    display_names,
    field_text,
    form_labels,
    masked,
)
from workflows.views.inbox import process_names

AUDIT_ROLES = ("auditor", "county_bureau")  # who may open the audit pages
AUDIT_VIEWED = "audit_viewed"
READ_NAMES = {AUDIT_VIEWED: "审计查阅", "exported": "导出案卷", "personal_data_viewed": "查看完整个人信息"}
PER_PAGE = 25
STATUS_NAMES = {OPEN: "办理中", CLOSED: "已办结"}
OVERDUE_CHOICES = {"yes": "超期", "no": "未超期"}
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")  # with an offset only
FULL_NUMBER = re.compile(r"[Xx][Pp]\d{4}-\d{6}")  # a whole case number (see `workflows.cases.record.case_number`)
STAFF_KEYS = ("leader",)  # case data keys that hold a username
FILTERS = ("number", "place", "period", "process", "status", "overdue", "outcome")
# Fields of the events the audit itself and the engine's bookkeeping write, not named by any form.
RECORD_LABELS: Labels = {"format": ("格式", {}), "file": ("文件", {}), "page": ("页面", {"history": "办理过程",
                         "step": "逐步回放"}), "step": ("步骤", {}), "masked": ("个人信息脱敏", {}),
                         "fields": ("字段", {}), "case_number": ("案件编号", {}), "from_version": ("原版本", {}),
                         "to_version": ("新版本", {}), "message": ("消息", {}), "incident": ("故障编号", {}),
                         "leader": ("负责领导", {}), "registered_at": ("登记时间", {}), "overdue": ("已超期", {}),
                         "deadline_at": ("办结截止时间", {}), "remind_at": ("催办时间", {}),
                         "reason": ("理由", {}), "cause": ("原因", {}), "timers": ("定时器", {}),
                         "ends": ("结束事件", {}), "end": ("结束于", {}), "terminate": ("终止结束事件", {})}
CANCEL_REASONS = {"terminate_end": "终止结束事件", "interrupted": "边界事件中断", "withdrawn": "撤回"}
# What `engine.audit.Divergence.what` says, in Chinese: whole phrases, then phrases that go on with details.
DIVERGENCE_NAMES = {"sequence number": "事件序号", "case": "所属案件", "link to the previous event": "与前一事件的链接",
                    "hash of the recorded fields": "记录内容的哈希值", "chain head kept on the case": "案件保存的链头",
                    "diagram version": "流程图版本", "stored workflow state": "保存的流程状态"}
DIVERGENCE_STARTS = (("re-executing", "重新执行"), ("state after", "执行后的状态"), ("chain digest", "链摘要"),
                     ("case", "链摘要中的案件"))


# -- search -------------------------------------------------------------------------------------------------------
@dataclass
class CaseSearch:
    """The filters of the case search, as given in the page's query string."""

    number: str = ""
    place: str = ""  # an org unit code: the case's township, village or grid
    period: str = ""  # the month of registration, "YYYY-MM" (local time)
    process: str = ""
    status: str = ""
    overdue: str = ""  # "yes", "no" or any
    outcome: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseSearch:
        """Read the filters from a query string; unknown choices are ignored, a bad month is reported."""
        values = {name: str(args.get(name, "") or "").strip() for name in FILTERS}
        page = str(args.get("page", "1"))
        search = cls(**values, page=int(page) if page.isdigit() and int(page) > 0 else 1)
        search.status = search.status if search.status in STATUS_NAMES else ""
        search.overdue = search.overdue if search.overdue in OVERDUE_CHOICES else ""
        search.outcome = search.outcome if search.outcome in OUTCOMES else ""
        return search

    def problems(self, zone: tzinfo) -> dict[str, str]:
        """Messages for filters that cannot be applied, by filter name."""
        if self.period:
            try:
                month_bounds(self.period, zone)
            except ValueError:
                return {"period": f"月份请写成 2026-03 的形式（收到“{self.period}”）"}
        return {}

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query string of this search (for page links), with `changes`."""
        given = {k: v for k, v in asdict(self).items() if v and k != "page"}
        return {**given, **({"page": self.page} if self.page > 1 else {}), **changes}


@dataclass
class CaseRow:
    """A found case, ready to list."""

    case: CaseRecord
    process: str
    category: str
    places: list[tuple[str, str]]  # (code, name), township to grid
    outcome: str


@dataclass
class SearchPage:
    """One page of found cases."""

    rows: list[CaseRow]
    total: int
    page: int
    pages: int
    withheld: int = 0  # cases on this page kept from the viewer (confidential cases about them)


def search_cases(access: Access, search: CaseSearch, zone: tzinfo) -> SearchPage:
    """The cases that match, newest first, a page at a time (filters on indexed columns of `case_record`)."""
    session = access.session
    query = select(CaseRecord)
    if FULL_NUMBER.fullmatch(search.number):
        query = query.where(CaseRecord.case_number == search.number.upper())  # the unique index
    elif search.number:
        query = query.where(CaseRecord.case_number.contains(search.number, autoescape=True))
    if search.place:
        query = query.where(or_(CaseRecord.township == search.place, CaseRecord.village == search.place,
                                CaseRecord.grid == search.place))
    if search.period and not search.problems(zone):
        first, following = month_bounds(search.period, zone)
        query = query.where(CaseRecord.registered_at >= first, CaseRecord.registered_at < following)
    if search.process:
        query = query.where(CaseRecord.process_id == search.process)
    if search.status:
        query = query.where(CaseRecord.status == search.status)
    if search.overdue:
        query = query.where(CaseRecord.overdue == true() if search.overdue == "yes" else CaseRecord.overdue != true())
    if search.outcome:
        query = query.where(CaseRecord.outcome == search.outcome)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    page = min(search.page, pages)
    found = session.scalars(query.order_by(CaseRecord.registered_at.desc(), CaseRecord.instance_id.desc())
                            .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    visible = [case for case in found if access.may_see_case(case)]
    units = units_by_code(session, {c for case in visible for c in (case.township, case.village, case.grid) if c})
    titles = process_names(session)
    categories = {code: category.name for code, category in packaged_config().routing.categories.items()}
    rows = [CaseRow(case, titles.get(case.process_id, case.process_id),
                    categories.get(case.category or "", case.category or ""),
                    [(c, units[c].name if c in units else c) for c in (case.township, case.village, case.grid) if c],
                    OUTCOMES.get(case.outcome or "", case.outcome or "")) for case in visible]
    return SearchPage(rows, total, page, pages, len(found) - len(visible))


def townships(session: Session) -> list[OrgUnit]:
    """The townships, for the place filter."""
    return list(session.scalars(select(OrgUnit).where(OrgUnit.level == "township", OrgUnit.kind == "area")
                                .order_by(OrgUnit.code)))


# -- history --------------------------------------------------------------------------------------------------------
def record_audit_view(engine: Engine, case: CaseRecord, username: str, page: str, step: int | None = None) -> None:
    """Write to the case's access log (not its step history) that `username` opened an audit page showing its
    (masked) data."""
    record_read(engine.session, case.instance_id, AUDIT_VIEWED, username, engine.clock.now(),
                {"page": page, **({"step": step} if step is not None else {}), "masked": True})


@dataclass
class ReadRow:
    """One read of a case as the access tab shows it."""

    seq: int
    kind: str
    who: str
    at: datetime
    personal_data: bool
    details: list[tuple[str, str]]


@dataclass
class ReadsPage:
    """A case's access log, checked."""

    rows: list[ReadRow]
    broken: BrokenRead | None

    @property
    def personal_data_views(self) -> int:
        return sum(1 for row in self.rows if row.personal_data)


def reads_page(session: Session, case: CaseRecord, zone: tzinfo) -> ReadsPage:
    """Every read of a case (page views, exports, unmaskings), oldest first, with the check of their chain."""
    entries = reads_of(session, case.instance_id)
    people = display_names(session, [entry.actor for entry in entries])
    rows = [ReadRow(entry.seq, READ_NAMES.get(entry.kind, EVENT_NAMES.get(entry.kind, entry.kind)),
                    people.get(entry.actor) or ACTOR_NAMES.get(entry.actor, entry.actor),
                    entry.business_time.astimezone(zone), entry.personal_data,
                    [field_text(k, v, dict(RECORD_LABELS), {}) for k, v in entry.data.items()])
            for entry in entries]
    return ReadsPage(rows, check_reads(entries))


def export_presentation(session: Session, engine: Engine, ids: list[int], zone: tzinfo) -> Presentation:
    """How a CSV export shows these cases to people: local times, the forms' field titles, Chinese event names,
    staff by name, and personal data masked (names too when any of the cases is confidential)."""
    records = [session.get(CaseRecord, i) for i in ids]
    confidential = any(record is not None and record.confidential for record in records)
    version_ids = sorted(set(session.scalars(select(Instance.process_version_id).where(Instance.id.in_(ids)))),
                         reverse=True)
    titles = {key: title for key, (title, _) in RECORD_LABELS.items()}
    for version_id in version_ids:  # the newest version's forms name fields first
        for key, (title, _) in form_labels(session, engine, version_id)[1].items():
            titles.setdefault(key, title)
    actors = session.scalars(select(Event.actor).where(Event.instance_id.in_(ids)).distinct()).all()
    return Presentation(zone=zone, titles=titles, event_names=EVENT_NAMES,
                        actor_names={**ACTOR_NAMES, **display_names(session, list(actors))},
                        mask=lambda key, value: mask_deep(value, confidential, key))


def local_times(value: Any, zone: tzinfo = LOCAL) -> Any:
    """Recorded data with every moment (an ISO time with its offset) shown in local time, to the minute."""
    if isinstance(value, dict):
        return {k: local_times(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [local_times(item, zone) for item in value]
    if isinstance(value, str) and MOMENT.match(value):
        try:
            return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    return value


def mask_deep(value: Any, confidential: bool, key: str = "") -> Any:
    """Recorded data with personal data masked however deep it sits (before/after pairs, petitioner lists)."""
    if isinstance(value, dict):
        return {k: mask_deep(v, confidential, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_deep(item, confidential, key) for item in value]
    return masked(key, value, confidential)


def _named(value: Any, people: dict[str, str], key: str = "") -> Any:
    """Data with the usernames it holds for staff (the case's leader) shown with their names."""
    if isinstance(value, dict):
        return {k: _named(v, people, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(item, people, key) for item in value]
    if key in STAFF_KEYS and isinstance(value, str) and value in people:
        return f"{people[value]}（{value}）"
    return value


@dataclass
class Change:
    """One case variable an event changed."""

    key: str
    title: str
    before: str
    after: str


@dataclass
class AuditEntry:
    """One recorded event as an auditor reads it: who, what, when (business and wall time), with its data."""

    seq: int
    kind: str
    label: str
    actor: str
    task: str
    business_time: datetime
    wall_time: datetime
    version: int
    details: list[tuple[str, str]]
    changes: list[Change]
    data: str  # everything the event recorded, personal data masked, as JSON


@dataclass
class CaseReading:
    """A case's history ready to show, with what labels its values."""

    entries: list[AuditEntry]
    labels: Labels
    places: dict[str, OrgUnit]
    versions: dict[int, int]  # process version id → version number
    people: dict[str, str]  # display names by username (actors, and staff the data names)


def read_history(session: Session, engine: Engine, case: CaseRecord, history: CaseHistory) -> CaseReading:
    """Every event of the case, oldest first, with its data and the variables it changed, personal data masked."""
    labels: Labels = dict(RECORD_LABELS)
    for version_id in sorted(history.specs, reverse=True):  # the newest version's forms name fields first
        for key, value in form_labels(session, engine, version_id)[1].items():
            labels.setdefault(key, value)
    names: dict[str, str] = {}
    for version_id in sorted(history.specs):
        names.update(element_names(engine, session, version_id))
    values = [local_times(mask_deep(event["data"], case.confidential)) for event in history.events]
    place_codes = {str(v) for data in values for key, v in _flat_items(data) if key in PLACE_KEYS}
    places = units_by_code(session, place_codes)
    staff = [str(v) for data in values for key, v in _flat_items(data) if key in STAFF_KEYS]
    people = display_names(session, [event["actor"] for event in history.events] + staff)
    values = [_named(data, people) for data in values]
    versions = dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)
                                    .where(ProcessVersion.id.in_(sorted(history.specs)))).all())
    entries = []
    for event, data in zip(history.events, values, strict=True):
        element = (event["task"] or "").split("#")[0]
        entries.append(AuditEntry(
            event["seq"], event["type"], EVENT_NAMES.get(event["type"], event["type"]),
            people.get(event["actor"]) or ACTOR_NAMES.get(event["actor"], event["actor"]),
            names.get(element, element), datetime.fromisoformat(event["business_time"]),
            datetime.fromisoformat(event["wall_time"]), versions.get(event["version"], event["version"]),
            _details(event["type"], data, labels, places, names), changes(data.get("changes"), labels, places),
            json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)))
    return CaseReading(entries, labels, places, versions, people)


def changes(recorded: Any, labels: Labels, places: dict[str, OrgUnit]) -> list[Change]:
    """The before/after pairs an event recorded (already masked), labelled."""
    found = []
    for key, pair in sorted(recorded.items()) if isinstance(recorded, dict) else []:
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        title, after_text = field_text(key, after, labels, places)
        before_text = field_text(key, before, labels, places)[1] if before is not None else "—"
        found.append(Change(key, title, before_text, after_text if after is not None else "—"))
    return found


def _details(kind: str, data: dict[str, Any], labels: Labels, places: dict[str, OrgUnit],
             names: dict[str, str]) -> list[tuple[str, str]]:
    if kind in ("timer_fired", "timer_triggered"):
        return [("定时器", "、".join(names.get(ref.split("#")[0], ref) for ref in data.get("timers") or []))]
    if kind == "task_cancelled":
        cause = str(data.get("cause") or "").split("#")[0]
        return [("撤销原因", CANCEL_REASONS.get(str(data.get("reason")), str(data.get("reason")))
                 + (f"：{names.get(cause, cause)}" if cause else ""))]
    if kind == "completed" and data.get("end"):
        ends = [str(data["end"]).split("#")[0]] + ([str(data["terminate"]).split("#")[0]]
                                                     if data.get("terminate") and data["terminate"] != data["end"]
                                                     else [])
        return [("结束于", "、".join(names.get(end, end) for end in ends))]
    if kind == "incident_raised":
        return [("故障", str(data.get("message", "")))]
    shown = {"started": data.get("data"), "task_completed": data.get("submitted"),
             "message_received": data.get("payload"), "incident_resolved": data.get("corrected"),
             "incident_retried": data.get("corrected")}.get(kind)
    if kind in ("exported", "audit_viewed", "satisfaction_rated", "migrated"):
        shown = {k: v for k, v in data.items() if k not in ("changes", "calls", "diff")}
    return [field_text(k, v, labels, places) for k, v in shown.items()] if isinstance(shown, dict) else []


def _flat_items(value: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((str(key), item))
            found.extend(_flat_items(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_flat_items(item))
    return [(k, v) for k, v in found if isinstance(v, str | int)]


# -- steps ----------------------------------------------------------------------------------------------------------
@dataclass
class StepPage:
    """The case at one step of its history: the diagram marked as it stood, its data, and what the step changed."""

    step: StepView
    asked: int  # the step asked for; `step.number` is lower when the re-execution could not get that far
    total: int
    entry: AuditEntry
    diagrams: list[DiagramView]
    data: list[Change]  # the case data at this point (`before` unused)
    changes: list[Change]
    version: int | None  # the version number the case ran on at this point

    @property
    def reached(self) -> bool:
        return self.step.number == self.asked


def step_page(session: Session, engine: Engine, case: CaseRecord, history: CaseHistory, reading: CaseReading,
              number: int, helper_names: set[str]) -> StepPage:
    """Re-execute the history up to step `number` (1 ≤ number ≤ events) and show the case as it stood there."""
    step: StepView | None = None
    for step in replay_steps(history, helper_names):
        if step.number == number:
            break
    assert step is not None, "a case history starts with at least one event"
    shown = _named(local_times(mask_deep(step.data, case.confidential)), reading.people)
    data = []
    for key, value in shown.items():
        title, text = field_text(key, value, reading.labels, reading.places)
        data.append(Change(key, title, "", text))
    views = marked_diagrams(session, engine, step.version, step.progress) if step.version is not None else []
    return StepPage(step, number, len(history.events), reading.entries[step.number - 1], views, data,
                    reading.entries[step.number - 1].changes,
                    reading.versions.get(step.version) if step.version is not None else None)


# -- verification ---------------------------------------------------------------------------------------------------
@dataclass
class DigestRow:
    """One event's recorded state digest beside the one its re-execution gave."""

    seq: int
    label: str
    recorded: str
    replayed: str | None  # None: not re-executed this far
    divergence: Divergence | None = None


@dataclass
class Verification:
    """Whether a case's record holds: the verdict of `engine.audit.verify`, the chain digest, each event's digest."""

    verdict: Verdict
    chain: ChainStatus
    rows: list[DigestRow] = field(default_factory=list)


def verification(session: Session, history: CaseHistory, helper_names: set[str]) -> Verification:
    """Verify the case (chain, re-execution, stored state) and check it against the newest chain digest."""
    verdict = verify(history, helper_names)
    names = element_names_of(history)
    rows = []
    for event in history.events:
        element = (event["task"] or "").split("#")[0]
        label = EVENT_NAMES.get(event["type"], event["type"])
        rows.append(DigestRow(event["seq"], f"{label} · {names.get(element, element)}" if element else label,
                              event["state_digest"], None))
    for step in replay_steps(history, helper_names):
        rows[step.number - 1].replayed = step.digest
        rows[step.number - 1].divergence = step.divergence
    return Verification(verdict, chain_status(session, history.instance_id), rows)


def divergence_text(divergence: Divergence) -> str:
    """What disagrees, in Chinese (with the engine's own details after it)."""
    if divergence.what in DIVERGENCE_NAMES:
        return DIVERGENCE_NAMES[divergence.what]
    for start, name in DIVERGENCE_STARTS:
        if divergence.what.startswith(start + " "):
            return f"{name}（{divergence.what[len(start):].strip()}）"
    return divergence.what

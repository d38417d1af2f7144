"""A case as staff read it: details with personal data masked, who holds it, its deadlines and its history.

Personal data (ID numbers, phones, and for confidential cases the petitioners' names) is masked unless the page
is drawn for someone `Access.may_reveal` allows, after `record_reveal` has written the view to the case's
history. The diagram and its marks are in `workflows.views.case_diagram`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine
from engine.access_log import record_read
from engine.models import Event, HumanTask, Instance, ProcessVersion
from workflows.cases.access import CADRE_LANE, HANDLING_LANE, LEADER_LANE, SECRETARY_LANE
from workflows.cases.forms import FormDefinitionError, read_form
from workflows.cases.record import RATING_SOURCE_NAMES, CaseRecord, deadline_states, mask_id_number, mask_phone
from workflows.cases.script_helpers import packaged_config
from workflows.intake.petitioner_query import OUTCOMES, SATISFACTION
from workflows.org.models import OrgUnit, Person, RotaEntry
from workflows.org.tree import units_by_code
from workflows.views.case_diagram import deployed_files, element_names
from workflows.views.inbox import process_names

LOCAL = ZoneInfo("Asia/Shanghai")
REVEAL_EVENT = "personal_data_viewed"
CHANNELS = {"visit": "走访", "letter": "来信", "phone": "来电", "fax": "传真", "online": "网上信访",
            "grid": "网格上报"}
EVENT_NAMES = {"started": "立案", "task_completed": "完成任务", "task_claimed": "认领任务", "task_released": "释放任务",
               "timer_fired": "定时触发", "message_received": "收到消息", "incident_raised": "发生故障",
               "incident_resolved": "故障已排除", "incident_retried": "重试失败", "completed": "流程结束",
               REVEAL_EVENT: "查看完整个人信息", "satisfaction_rated": "信访人评价", "migrated": "迁移到新版流程",
               "exported": "导出案卷", "audit_viewed": "审计查阅", "timer_triggered": "定时触发（步内）",
               "task_cancelled": "任务撤销", "message_caught": "消息送达", "stepped_aside": "申请回避"}
PERSONAL_KEYS = ("id_number", "phone")
DECISIONS = {"accept": "受理", "not_accept": "不予受理", "transfer": "转送",
             "legal_referral": "导入法定途径（诉访分离）", "already_final": "已复核终结，不再受理"}
ACTOR_NAMES = {"timer": "系统（定时）", "system": "系统", "petitioner": "信访人"}
Labels = dict[str, tuple[str, dict[str, str]]]  # field name → (title, choice value → label)
PLACE_KEYS = ("township", "village", "grid", "handling_unit", "accused_unit")
# Fields that scripts set rather than forms: their titles (and value labels) for people.
EXTRA_LABELS: Labels = {"petitioners": ("信访人", {}),
                        "entry": ("进入方式", {"register": "登记", "escalated": "上级流程转入"}),
                        "repeat_candidates": ("疑似重复的既往案件", {}), "acceptance_due_at": ("受理审查期限", {}),
                        "accepted_at": ("受理时间", {}), "decided_at": ("受理审查决定时间", {}),
                        "wants_secrecy": ("要求保密", {"true": "是", "false": "否"}),
                        "rating_source": ("评价来源", RATING_SOURCE_NAMES),
                        "decision": ("受理审查决定", DECISIONS), "acceptance_notice": ("受理告知", {}),
                        "handling_due_at": ("法定办理期限", {}), "deadline_at": ("督办办结期限", {}),
                        "handled_at": ("督办审核通过时间", {}), "handled_by": ("原办理机关", {}),
                        "replied_at": ("书面答复时间", {}), "extension_used": ("已延期", {"true": "是", "false": "否"}),
                        "reply_pending": ("待书面答复", {"true": "是", "false": "否"})}


def mask_name(name: str) -> str:
    """A name as its first character and stars (for confidential cases)."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def masked(key: str, value: Any, confidential: bool) -> Any:
    """A value of the case data with personal data masked."""
    if key == "id_number" and isinstance(value, str):
        return mask_id_number(value)
    if key == "phone" and isinstance(value, str):
        return mask_phone(value)
    if key == "petitioner_name" and confidential and isinstance(value, str):
        return mask_name(value)
    if key == "petitioners" and isinstance(value, list):
        return [{k: masked(k, v, confidential) for k, v in p.items()} if isinstance(p, dict) else p for p in value]
    return value


@dataclass
class CaseSummary:
    """The details of a case, ready to show."""

    case: CaseRecord
    process_name: str
    channel: str
    category: str
    places: list[str]
    petitioners: list[dict[str, str]]
    handling_unit: str
    leader: str
    outcome: str
    satisfaction: str
    revealed: bool
    rating_source: str = ""  # who gave the satisfaction rating, in Chinese (e.g. 电话回访，工作人员代录)
    packaged_from: CaseRecord | None = None  # a leader packaging: the case it takes on (source_case)
    packaged_in: list[CaseRecord] = field(default_factory=list)  # the leader packagings that take this case on
    decision: str = ""
    review_unit: str = ""
    reexam_unit: str = ""


def summarize(session: Session, case: CaseRecord, revealed: bool,
              visible: Callable[[CaseRecord], bool] | None = None) -> CaseSummary:
    """The case's details; personal data masked unless `revealed`; linked cases the viewer may see (`visible`)."""
    categories = {code: category.name for code, category in packaged_config().routing.categories.items()}
    units = units_by_code(session, [c for c in (case.township, case.village, case.grid, case.handling_unit,
                                                case.review_unit, case.reexam_unit) if c])
    people = display_names(session, [case.leader] if case.leader else [])
    petitioners = []
    for person in case.petitioners or []:
        if not isinstance(person, dict):
            continue
        shown = person if revealed else {k: masked(k, v, case.confidential) for k, v in person.items()}
        petitioners.append({k: str(shown.get(k, "")) for k in ("petitioner_name", "id_number", "phone")})
    return CaseSummary(
        case=case, process_name=process_names(session).get(case.process_id, case.process_id),
        channel=CHANNELS.get(case.channel or "", case.channel or ""),
        category=categories.get(case.category or "", case.category or ""),
        places=[units[c].name if c in units else c for c in (case.township, case.village, case.grid) if c],
        petitioners=petitioners,
        handling_unit=units[case.handling_unit].name if case.handling_unit in units else (case.handling_unit or ""),
        leader=people.get(case.leader or "", case.leader or ""), outcome=OUTCOMES.get(case.outcome or "", ""),
        satisfaction=SATISFACTION.get(case.satisfaction or "", ""), revealed=revealed,
        rating_source=RATING_SOURCE_NAMES.get(case.rating_source or "", "") if case.satisfaction else "",
        decision=DECISIONS.get(case.decision or "", case.decision or ""),
        review_unit=units[case.review_unit].name if case.review_unit in units else (case.review_unit or ""),
        reexam_unit=units[case.reexam_unit].name if case.reexam_unit in units else (case.reexam_unit or ""),
        **_packaging_links(session, case, visible))


def _packaging_links(session: Session, case: CaseRecord,
                     visible: Callable[[CaseRecord], bool] | None) -> dict[str, Any]:
    """Leader packaging both ways (领导包案 ↔ the case it takes on), each only when the viewer may see it."""
    if visible is None:
        return {}
    source = session.get(CaseRecord, case.source_case) if case.source_case else None
    packagings = session.scalars(select(CaseRecord).where(CaseRecord.source_case == case.instance_id)
                                 .order_by(CaseRecord.instance_id)).all()
    return {"packaged_from": source if source is not None and visible(source) else None,
            "packaged_in": [p for p in packagings if visible(p)]}


def record_reveal(engine: Engine, case: CaseRecord, username: str) -> None:
    """Write to the case's access log (not its step history) that `username` viewed its personal data unmasked."""
    record_read(engine.session, case.instance_id, REVEAL_EVENT, username, engine.clock.now(),
                {"fields": ["petitioner_name", "id_number", "phone"], "case_number": case.case_number},
                personal_data=True)


def display_names(session: Session, usernames: list[str]) -> dict[str, str]:
    """Display names by username (unknown names are left out)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    return dict(session.execute(select(Person.username, Person.display_name).where(Person.username.in_(wanted))).all())


@dataclass
class Holder:
    """An open task of a case and who holds it."""

    task: HumanTask
    who: str
    overdue: bool


def holders_now(session: Session, case: CaseRecord, tasks: list[HumanTask], now: datetime) -> list[Holder]:
    """Who holds each open task: the person who claimed it, else whoever the lane and place point to."""
    names = display_names(session, [t.claimed_by or "" for t in tasks] + [case.leader or ""])
    entry = None
    if case.township:
        entry = session.scalar(select(RotaEntry).join(OrgUnit, OrgUnit.id == RotaEntry.township_id)
                               .where(OrgUnit.code == case.township,
                                      RotaEntry.day == now.astimezone(LOCAL).date()))
    unit = units_by_code(session, [case.handling_unit]) if case.handling_unit else {}
    holders = []
    for task in tasks:
        if task.claimed_by:
            who = f"{names.get(task.claimed_by, task.claimed_by)}（已认领）"
        elif task.lane == SECRETARY_LANE and entry is not None:
            who = f"今日坐班：{entry.secretary.display_name}"
        elif task.lane == CADRE_LANE and entry is not None:
            who = f"今日值班：{entry.cadre.display_name}"
        elif task.lane == LEADER_LANE and case.leader:
            who = names.get(case.leader, case.leader)
        elif task.lane == HANDLING_LANE and case.handling_unit:
            who = unit[case.handling_unit].name if case.handling_unit in unit else case.handling_unit
        else:
            who = f"{task.lane or ''}（待认领）"
        holders.append(Holder(task, who, task.due_at is not None and task.due_at < now))
    return holders


@dataclass
class DeadlineRow:
    """A deadline of a case and whether it was met."""

    name: str
    due: datetime
    state: str  # met, missed, overdue, pending
    label: str


def deadline_rows(case: CaseRecord, tasks: list[HumanTask], now: datetime) -> list[DeadlineRow]:
    """The case's statutory and supervision deadlines, then the due times of its open tasks."""
    rows = [DeadlineRow(name, due, state, _STATE_LABELS[state]) for name, due, state in deadline_states(case, now)]
    for task in tasks:
        if task.due_at is not None:
            state = "overdue" if task.due_at < now else "pending"
            rows.append(DeadlineRow(f"{task.name or task.element_id}（任务期限）", task.due_at, state,
                                    _STATE_LABELS[state]))
    return rows


_STATE_LABELS = {"met": "按期完成", "missed": "未按期完成", "overdue": "已超期", "pending": "未到期"}


def deadline_label(state: str) -> str:
    """The Chinese word for a deadline's state (met, missed, overdue, pending)."""
    return _STATE_LABELS[state]


@dataclass
class TimelineEntry:
    """One event of a case's history, as a person reads it."""

    seq: int
    at: datetime
    kind: str
    label: str
    actor: str
    task: str
    details: list[tuple[str, str]] = field(default_factory=list)


def timeline(session: Session, engine: Engine, instance: Instance, case: CaseRecord | None,
             revealed: bool, full: bool = False) -> list[TimelineEntry]:
    """Every event of the case, oldest first; personal data in submitted values masked unless `revealed`;
    long values cut short unless `full`."""
    events = session.scalars(select(Event).where(Event.instance_id == instance.id).order_by(Event.seq)).all()
    names = element_names(engine, session, instance.process_version_id)
    per_form, merged = form_labels(session, engine, instance.process_version_id)
    form_of = dict(session.execute(select(HumanTask.ref, HumanTask.form).where(
        HumanTask.instance_id == instance.id)).all())
    places = units_by_code(session, {str(v) for e in events for k, v in _shown(e).items() if k in PLACE_KEYS})
    people = display_names(session, [e.actor for e in events])
    confidential = case.confidential if case is not None else False
    entries = []
    for event in events:
        element = (event.task_ref or "").split("#")[0]
        details: list[tuple[str, str]] = []
        labels = {**merged, **per_form.get(form_of.get(event.task_ref or "") or "", {})}
        for key, value in _shown(event).items():
            details.append(field_text(key, value if revealed else masked(key, value, confidential), labels, places,
                                      full))
        if event.type == "timer_fired":
            details = [("定时器", "、".join(names.get(ref.split("#")[0], ref) for ref in event.data.get("timers", [])))]
        if event.type == "incident_raised":
            details = [("故障", str(event.data.get("message", "")))]
        label = EVENT_NAMES.get(event.type, event.type)
        actor = people.get(event.actor) or ACTOR_NAMES.get(event.actor, event.actor)
        entries.append(TimelineEntry(event.seq, event.business_time, event.type, label, actor,
                                     names.get(element, element), details))
    return entries


def field_text(key: str, value: Any, labels: Labels, places: dict[str, OrgUnit],
               full: bool = False) -> tuple[str, str]:
    """A case data value as a person reads it: the field's title, and the value's label, place name or text."""
    title, choices = labels.get(key, (key, {}))
    if key in PLACE_KEYS and str(value) in places:
        return title, places[str(value)].name
    if key == "petitioners" and isinstance(value, list):
        return title, "、".join(_person_text(p) for p in value if isinstance(p, dict))
    return title, choices.get(_choice_key(value), _short(value, None if full else 120))


def _shown(event: Event) -> dict[str, Any]:
    """The values an event carries that a person would want to read."""
    if event.type == "task_completed":
        shown = event.data.get("submitted")
    elif event.type == "started":
        shown = event.data.get("data")
    elif event.type in ("satisfaction_rated",):
        shown = event.data
    else:
        shown = None
    return shown if isinstance(shown, dict) else {}


def _person_text(person: dict[str, Any]) -> str:
    extra = "，".join(str(person[k]) for k in ("id_number", "phone") if person.get(k))
    return f"{person.get('petitioner_name', '')}（{extra}）" if extra else str(person.get("petitioner_name", ""))


def _choice_key(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _short(value: Any, limit: int | None = 120) -> str:
    if value is True or value is False:
        return "是" if value else "否"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "…"




def form_labels(session: Session, engine: Engine, version_id: int) -> tuple[dict[str, Labels], Labels]:
    """Titles and choice labels of the form fields deployed with a version: per form file, and merged."""
    version = session.get(ProcessVersion, version_id)
    if version is None:
        return {}, {}
    per_file: dict[str, Labels] = {}
    for name, content in deployed_files(session, version, ".json").items():
        try:
            form = read_form(content, name)
        except FormDefinitionError:
            continue
        base = name.rsplit("/", 1)[-1]
        per_file[base] = {f.name: (f.title, {_choice_key(o.value): o.label for o in f.options}) for f in form.fields}
    merged: Labels = dict(EXTRA_LABELS)
    # The case's own process's forms name its fields first (several processes use the same field names).
    for base in sorted(per_file, key=lambda b: not b.startswith(f"{version.process_id}-")):
        for key, value in per_file[base].items():
            merged.setdefault(key, value)
    return per_file, merged

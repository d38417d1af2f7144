"""The township reception room's desk (坐班接访): register a visit in one step, see today's visits.

Registering starts a `reception` case and completes its first task, 登记来访, as the duty secretary. What comes
next follows the real lanes: 接谈研判 is the township petition cadre's (乡镇信访干部), who chooses to answer on the
spot, coordinate on the spot or hand the case over; recording an answer is the duty secretary's again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine import Engine, StepResult
from engine.models import HumanTask
from workflows.cases.access import CADRE_LANE, RECEPTION_LANES, RECEPTION_PROCESS, SECRETARY_LANE, Access, DutySeat
from workflows.cases.forms import Form, FormDefinitionError, parse_form, read_form
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import AccessDenied, SubmissionInvalid, check_submission, task_context
from workflows.org.models import OrgUnit, RotaEntry
from workflows.org.tree import descendants, get_unit, remembered_units

LOCAL = ZoneInfo("Asia/Shanghai")
REGISTER_TASK = "register_visit"
FORM_PROPERTY = "formJsonSchemaFilename"  # the spiff-arena property naming a user task's form (bpmn/CONVENTIONS.md)
PETITIONER_FIELDS = ("petitioner_name", "id_number", "phone")
VISIT_FIELDS = ("headcount", "group_confirmed", "village", "category", "claim", "accused_unit", "accused_person")
MAX_ROWS = 10


def desk_seat(access: Access) -> DutySeat | None:
    """The reception room the viewer sits in today (as duty secretary first, else as the cadre), or None."""
    duty = sorted(access.viewer.duty, key=lambda d: d.lane != SECRETARY_LANE)
    return duty[0] if duty else None


def villages_of(session: Session, township: str) -> list[OrgUnit]:
    """The villages and communities of a township, by code."""
    return descendants(session, get_unit(session, township), level="village")


def on_duty(session: Session, township: str, day: Any) -> RotaEntry | None:
    """Today's rota entry of a township (by code)."""
    return session.scalar(select(RotaEntry).join(OrgUnit, OrgUnit.id == RotaEntry.township_id)
                          .where(OrgUnit.code == township, RotaEntry.day == day))


def on_duty_near(session: Session, access: Access) -> list[RotaEntry]:
    """Today's rota entries of the townships the viewer works in (who sits in the room when they do not)."""
    paths = {seat.unit_path for seat in access.viewer.seats}
    entries = session.scalars(select(RotaEntry).where(RotaEntry.day == access.viewer.day)).all()
    return sorted((e for e in entries if any(path.startswith(e.township.path) for path in paths)),
                  key=lambda e: e.township.code)


def register_visit(session: Session, engine: Engine, access: Access, posted: Mapping[str, Any],
                   now: datetime) -> StepResult:
    """Start a reception case and complete 登记来访 with the posted visit; SubmissionInvalid lists what is wrong.

    `posted` holds `headcount`, `group_confirmed`, `village`, `category`, `claim`, for an accusation
    `accused_unit` and/or `accused_person` (org ids), and per petitioner row i `p-{i}-petitioner_name`,
    `p-{i}-id_number`, `p-{i}-phone`; the township is the one the viewer is on duty at. The caller rolls back
    the transaction when this raises, so a refused registration leaves no case behind.
    """
    seat = desk_seat(access)
    if seat is None or seat.lane != SECRETARY_LANE:
        raise AccessDenied("今天您不在乡镇接访室坐班，不能登记来访")
    rows = petitioner_rows(posted)
    # The places this registration is checked against, looked up together (the access rules and the form's
    # village check then find them in the session's memory).
    remembered_units(session, {seat.township_code, str(posted.get("village", "")).strip()} - {""})
    # The case starts at the township of the room; the village is checked with the rest of the form.
    started = engine.start(RECEPTION_PROCESS, {"township": seat.township_code}, access.viewer.username)
    access.started_here(started.instance.id)
    task = next(t for t in started.open_tasks or engine.open_tasks(started.instance.id)
                if t.element_id == REGISTER_TASK)
    context = task_context(session, engine, access, task, session.get(CaseRecord, started.instance.id),
                           started.instance)
    fields = {**{k: str(posted.get(k, "")) for k in VISIT_FIELDS},
              "township": seat.township_code}
    first = rows[0] if rows else {}
    fields.update({k: first.get(k, "") for k in PETITIONER_FIELDS})
    values, errors, _ = parse_form(context.form, fields)
    errors = {**check_submission(session, context, values, now), **errors}
    errors = {(f"p-0-{k}" if k in PETITIONER_FIELDS else k): v for k, v in errors.items()}
    people = []
    for index, row in enumerate(rows):
        person_values, person_errors, _ = parse_form(context.form, {**fields, **row})
        person_errors = {**check_submission(session, context, person_values, now), **person_errors}
        for key in PETITIONER_FIELDS:
            if key in person_errors:
                errors.setdefault(f"p-{index}-{key}", person_errors[key])
        people.append({k: person_values[k] for k in PETITIONER_FIELDS if k in person_values})
    if not rows:
        errors["p-0-petitioner_name"] = "请填写至少一位信访人的姓名"
    if isinstance(values.get("headcount"), int) and values["headcount"] < len(rows) and "headcount" not in errors:
        errors["headcount"] = f"来访人数不能少于登记的信访人数（{len(rows)}人）"
    if errors:
        raise SubmissionInvalid(errors)
    values["petitioners"] = people
    return engine.complete_task(task.id, values, access.viewer.username)


def register_form(session: Session, engine: Engine) -> Form:
    """The form of 登记来访 in the newest deployed version of the reception process."""
    version = engine.specs.current(session, RECEPTION_PROCESS)
    assert version is not None
    spec, _ = engine.specs.parsed(session, version.id)
    task_spec = next(s for s in spec.task_specs.values() if getattr(s, "bpmn_id", None) == REGISTER_TASK)
    name = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(FORM_PROPERTY)
    content = engine.specs.file(session, version, name) if name else None
    if content is None:
        raise FormDefinitionError(f"{REGISTER_TASK}: its form is not deployed with reception v{version.version}")
    return read_form(content, name)


def petitioner_rows(posted: Mapping[str, Any]) -> list[dict[str, str]]:
    """The petitioner rows that have anything typed in them, in order."""
    rows = []
    for index in range(MAX_ROWS):
        row = {k: str(posted.get(f"p-{index}-{k}", "")).strip() for k in PETITIONER_FIELDS}
        if any(row.values()):
            rows.append(row)
    return rows


@dataclass
class DeskCase:
    """A visit at the desk today and what happens next."""

    case: CaseRecord
    tasks: list[HumanTask] = field(default_factory=list)
    actionable: list[HumanTask] = field(default_factory=list)
    next_step: str = ""


def todays_visits(session: Session, access: Access, seat: DutySeat, now: datetime) -> list[DeskCase]:
    """Reception cases of the township registered today, or still waiting on the reception room."""
    today = now.astimezone(LOCAL).date()
    midnight = datetime.combine(today, time(0), LOCAL)
    waiting = select(HumanTask.instance_id).where(HumanTask.status == "open",
                                                  HumanTask.process_id == RECEPTION_PROCESS,
                                                  HumanTask.lane.in_(RECEPTION_LANES))
    cases = session.scalars(select(CaseRecord).where(
        CaseRecord.process_id == RECEPTION_PROCESS, CaseRecord.township == seat.township_code,
        or_(CaseRecord.registered_at >= midnight, CaseRecord.instance_id.in_(waiting)))
        .order_by(CaseRecord.registered_at.desc())).all()  # a day's visits and those still waiting: all shown
    entry = on_duty(session, seat.township_code, today)
    visits = []
    for case in cases:
        if not access.may_see_case(case):
            continue
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                             HumanTask.status == "open")
                                     .order_by(HumanTask.created_at)))
        visit = DeskCase(case, tasks, [t for t in tasks if access.may_act_on_task(t, case)])
        visit.next_step = _next_step(case, tasks, entry)
        visits.append(visit)
    return visits


def _next_step(case: CaseRecord, tasks: list[HumanTask], entry: RotaEntry | None) -> str:
    if case.status == "closed":
        return "已办结" + ("（当场化解）" if case.on_the_spot else "")
    if not tasks:
        return "待下班时移交分管领导督办" if not case.leader else "已移交分管领导督办"
    parts = []
    for task in tasks:
        who = ""
        if entry is not None and task.lane == SECRETARY_LANE:
            who = f"：{entry.secretary.display_name}"
        elif entry is not None and task.lane == CADRE_LANE:
            who = f"：{entry.cadre.display_name}"
        elif task.claimed_by:
            who = f"：{task.claimed_by}"
        parts.append(f"{task.name or task.element_id}（{task.lane or ''}{who}）")
    return "待" + "、".join(parts)

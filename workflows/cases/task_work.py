"""Working on a task: read its form, suggest values, check a submission (schema and domain rules), complete it.

The web pages and the JSON API both go through these functions, so every way in checks the same access rules
(`workflows.cases.access`) and the same rules of the domain before the engine runs the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine import Engine, StepResult, TaskNotFound, TaskTaken
from engine.models import HumanTask, Instance, ProcessVersion
from workflows import DomainError
from workflows.cases.access import STEPPED_ASIDE, Access
from workflows.cases.forms import Form, FormDefinitionError, branch_only_fields, read_form, validate
from workflows.cases.org_choice import ASSIGNMENTS, check_org_fields
from workflows.cases.record import CaseRecord
from workflows.cases.routing import NoHandlingUnit, RoutingError, choose_handling_unit
from workflows.cases.script_helpers import packaged_config
from workflows.cases.task_rows import access_params, take_access_facts, with_access_facts
from workflows.org.models import OrgUnit
from workflows.org.tree import remembered_units

LOCAL = ZoneInfo("Asia/Shanghai")
ACCUSATION = "accusation"  # the category of 检举控告
EMPTY_FORM = {"type": "object", "title": "确认完成", "properties": {}}


class AccessDenied(DomainError):
    """The person may not see or act on this task or case."""


class SubmissionInvalid(DomainError):
    """A submission breaks the form's schema or a rule of the domain; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass
class TaskContext:
    """A task with what working on it needs: its case record, case data and form."""

    task: HumanTask
    case: CaseRecord | None
    data: dict[str, Any]
    form: Form
    version: ProcessVersion


_TASK_WITH_FACTS = with_access_facts(
    select(HumanTask, CaseRecord, Instance).join(Instance, Instance.id == HumanTask.instance_id)
    .outerjoin(CaseRecord, CaseRecord.instance_id == HumanTask.instance_id)).where(HumanTask.id == bindparam("task_id"))


def load_task(session: Session, engine: Engine, access: Access, task_id: str) -> TaskContext:
    """Load a task the viewer may see, with its case and form; TaskNotFound or AccessDenied otherwise.

    The task, its case record, its instance and what the access rules ask (`task_rows`) come in one query; the
    form from the spec store's per-version cache; the case state is deserialized once (a completion in the same
    request reuses it).
    """
    row = session.execute(_TASK_WITH_FACTS, {"task_id": task_id, **access_params(access)}).first()
    if row is None:
        raise TaskNotFound(f"no task {task_id}")
    return task_context(session, engine, access, *take_access_facts(access, row))


def task_context(session: Session, engine: Engine, access: Access, task: HumanTask, case: CaseRecord | None,
                 instance: Instance) -> TaskContext:
    """The context of a task whose rows the caller has in hand; AccessDenied when the viewer may not see it."""
    if not access.may_see_task(task, case):
        raise AccessDenied("此任务不属于您的职责范围")
    return _context(session, engine, task, case, instance)


def _context(session: Session, engine: Engine, task: HumanTask, case: CaseRecord | None,
             instance: Instance) -> TaskContext:
    engine.hold(instance)
    version = engine.specs.version(session, instance.process_version_id)
    return TaskContext(task, case, engine.case_data(task.instance_id) if task.status == "open" else {},
                       task_form(session, engine, version, task), version)


def task_form(session: Session, engine: Engine, version: ProcessVersion, task: HumanTask) -> Form:
    """The task's form, read from the files deployed with the case's version (an empty form when it has none)."""
    if not task.form:
        return read_form(EMPTY_FORM, "form")
    content = engine.specs.file(session, version, task.form)
    if content is None:
        raise FormDefinitionError(f"{task.form}: not deployed with {version.process_id} v{version.version}")
    return read_form(content, task.form)


@dataclass
class Suggestion:
    """What a task's form starts with: `values`, and `notes` (field → why nothing is suggested for it)."""

    values: dict[str, str]
    notes: dict[str, str]


def suggested_values(session: Session, context: TaskContext) -> Suggestion:
    """Values to start the form with: schema defaults, the statutory handling limit as the deadline, and the
    routing rules' handling unit (one the form accepts: when the rules find none, no unit is suggested and the
    note on the field says why, so the user picks one or refers the case up)."""
    values, notes = context.form.defaults(), dict[str, str]()
    limit = handling_limit(context.data)
    if context.form.field("deadline") is not None and limit is not None and "deadline" not in values:
        values["deadline"] = limit.isoformat()  # the statutory limit, unless the leader sets an earlier day
    if context.form.field("handling_unit") is not None:
        category, township, accused_unit, accused_person = (
            context.data.get(name) or (getattr(context.case, name) if context.case else None)
            for name in ("category", "township", "accused_unit", "accused_person"))
        if isinstance(category, str) and isinstance(township, str):
            try:
                unit = choose_handling_unit(
                    session, packaged_config().routing, category, township,
                    accused_unit=accused_unit if _is_unit(session, accused_unit) else None,
                    accused_person=accused_person if isinstance(accused_person, str) else None)
                values["handling_unit"] = unit.code
            except NoHandlingUnit as none_left:
                values.pop("handling_unit", None)  # a schema default is no better: the accused may be it
                notes["handling_unit"] = f"未能按分流规则建议承办单位：{none_left.reason}"
            except RoutingError:
                pass
    return Suggestion(values, notes)


def check_submission(session: Session, context: TaskContext, values: dict[str, Any], now: datetime) -> dict[str, str]:
    """Errors of a submission to a task, field by field: the form's schema first, then the rules of the domain."""
    known = dict(context.data)
    if context.case is not None:
        known.setdefault("accused_unit", context.case.accused_unit)
        known.setdefault("accused_person", context.case.accused_person)
        known.setdefault("category", context.case.category)
    return check_values(session, context.form, values, known, now)


def check_values(session: Session, form: Form, values: dict[str, Any], known: Mapping[str, Any],
                 now: datetime) -> dict[str, str]:
    """Errors of values for `form` given what the case already `known`s: the schema, then the domain's rules.

    A unit or person given work on a branch of the form's if/then that the values do not take is dropped first
    (`org_choice.ASSIGNMENTS`): neither checked nor kept.

    Rules: fields that name someone of the org are org ids (`workflows.cases.org_choice`: a handling unit is
    an office with staff, never the accused unit or its kin); a deadline date is not in the past nor beyond
    the statutory handling period; a group visit's headcount is confirmed; a village lies in the township given.
    """
    for name in branch_only_fields(form, values) & ASSIGNMENTS:
        values.pop(name, None)  # e.g. a handling unit left in the form when the accusation is transferred up
    errors = validate(form, values)
    for name, problem in check_org_fields(session, values, known).items():
        errors.setdefault(name, problem)
    category = values.get("category", known.get("category"))
    if form.field("accused_unit") is not None and category == ACCUSATION \
            and not (values.get("accused_unit") or values.get("accused_person")):
        errors.setdefault("accused_unit", "检举控告事项请从组织机构中选择被检举控告单位或被检举控告人")
    deadline = form.field("deadline")
    if deadline is not None and deadline.widget == "date" and isinstance(values.get("deadline"), str) \
            and "deadline" not in errors:
        message = _check_deadline(values["deadline"], now, known)
        if message:
            errors["deadline"] = message
    if form.field("handling_action") is not None and values.get("handling_action") == "extend" \
            and known.get("extension_used"):
        errors.setdefault("handling_action", "本案已延期一次，不能再次申请延期（第三十四条：经批准最多延长30日）")
    message = _check_group(form, values)
    if message and "headcount" not in errors:
        errors["group_confirmed"] = message
    if isinstance(values.get("village"), str) and isinstance(values.get("township"), str) \
            and "village" not in errors:
        message = village_in_township(session, values["village"], values["township"])
        if message:
            errors["village"] = message
    return errors


def _check_deadline(deadline: str, now: datetime, known: Mapping[str, Any]) -> str | None:
    """A deadline lies between today and the statutory handling limit (信访工作条例 Art. 34).

    The limit is the case's own (`handling_due_at`: 60 days from acceptance, moved off days off, extended when
    approved); a case without one gets the limit counted from today.
    """
    today = now.astimezone(LOCAL).date()
    days = packaged_config().deadlines.handling_days
    limit = handling_limit(known)
    latest = limit or today + timedelta(days=days)
    if deadline < today.isoformat():
        return f"办结期限不能早于今天（{today.isoformat()}）"
    if deadline > latest.isoformat():
        since = "自受理之日起" if limit else ""
        return (f"办结期限不能晚于{latest.isoformat()}：法定办理期限为{since}{days}日，"
                "需要更长时间请由承办单位申请延期、承办单位负责人审批")
    return None


def handling_limit(known: Mapping[str, Any]) -> date | None:
    """The local day the case's statutory handling period ends (`handling_due_at`), or None when not set."""
    due = known.get("handling_due_at")
    try:
        moment = datetime.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        return None
    return moment.astimezone(LOCAL).date() if moment is not None and moment.tzinfo is not None else None


def _check_group(form: Form, values: dict[str, Any]) -> str | None:
    """A headcount at the group-visit threshold is confirmed (a typo of 100000 must not reach the figures)."""
    threshold = packaged_config().deadlines.group_visit_threshold
    headcount = values.get("headcount")
    if form.field("group_confirmed") is None or not isinstance(headcount, int) or headcount < threshold:
        return None
    if values.get("group_confirmed") is True:
        return None
    return (f"来访{headcount}人，达到集体访标准（{threshold}人及以上）：请核对来访人数，"
            "无误后在“已核对人数，确认为集体访”选“是”")


def village_in_township(session: Session, village: str, township: str) -> str | None:
    """A message when `village` is not a village of `township` (both unit codes), else None."""
    units = remembered_units(session, {village, township})
    town, place = units.get(township), units.get(village)
    town = town if town is not None and town.level == "township" else None
    place = place if place is not None and place.level == "village" else None
    if town is None:
        return "没有这个乡镇"
    if place is None or not place.path.startswith(town.path):
        return f"该村（社区）不属于{town.name}"
    return None


def complete(session: Session, engine: Engine, access: Access, task_id: str, values: Mapping[str, Any],
             now: datetime, context: TaskContext | None = None) -> StepResult:
    """Complete a task the viewer may act on, after checking the submission; raises SubmissionInvalid.

    `context` is the task as this request already loaded it (`load_task`), so it is not loaded twice. A task that
    is no longer open goes to the engine all the same: the viewer's own identical submission, applied already,
    comes back as `already_applied`; anyone else's raises TaskTaken naming who completed it.
    """
    if context is None or context.task.id != task_id:
        context = load_task(session, engine, access, task_id)
    if context.task.status == "open":
        ensure_may_act(context, access)
    return _checked_completion(session, engine, context, values, access.viewer.username, now)


def complete_for(session: Session, engine: Engine, task_id: str, values: Mapping[str, Any], actor: str,
                 now: datetime) -> StepResult:
    """Complete a task for `actor` from the command line: the submission checked as on the task page (the form,
    org codes, deadlines), without the access rules — the operator at the console answers for who acts."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise TaskNotFound(f"no task {task_id}")
    instance = session.get(Instance, task.instance_id)
    assert instance is not None  # a task row always has its instance (foreign key)
    context = _context(session, engine, task, session.get(CaseRecord, task.instance_id), instance)
    return _checked_completion(session, engine, context, values, actor, now)


def _checked_completion(session: Session, engine: Engine, context: TaskContext, values: Mapping[str, Any],
                        actor: str, now: datetime) -> StepResult:
    """Check the submission and hand it to the engine. A task no longer open goes to the engine all the same, with
    its values normalised as the first submission's were: the same person's identical one is `already_applied`."""
    submitted = dict(values)
    errors = check_submission(session, context, submitted, now)
    if errors and context.task.status == "open":
        raise SubmissionInvalid(errors)
    return engine.complete_task(context.task.id, submitted, actor)


def claim(session: Session, engine: Engine, access: Access, task_id: str) -> HumanTask:
    """Claim a task the viewer may act on."""
    ensure_may_act(load_task(session, engine, access, task_id), access)
    return engine.claim(task_id, access.viewer.username)


def release(session: Session, engine: Engine, access: Access, task_id: str) -> HumanTask:
    """Give back a task the viewer claimed."""
    load_task(session, engine, access, task_id)
    return engine.release(task_id, access.viewer.username)


def step_aside(session: Session, engine: Engine, access: Access, task_id: str, reason: str) -> HumanTask:
    """Step aside from a task's case (回避): recorded on the case; the task goes back to the colleagues.

    From then on the person neither sees the case nor acts on its tasks (`Access` reads the event).
    """
    context = load_task(session, engine, access, task_id)
    if context.task.status != "open":
        raise AccessDenied("此任务已经办结或撤销")
    if not reason.strip():
        raise SubmissionInvalid({"reason": "请填写回避理由（与被反映人或被检举控告对象的关系）"})
    if context.task.claimed_by == access.viewer.username:
        engine.release(task_id, access.viewer.username)
    engine.record(context.task.instance_id, STEPPED_ASIDE, access.viewer.username,
                  {"reason": reason.strip()[:500]}, context.task.ref)
    access.know_stepped_aside(context.task.instance_id, True)  # the rest of this request sees it too
    return context.task


def ensure_may_act(context: TaskContext, access: Access) -> None:
    """Refuse an action on a task the viewer may not act on now; every way in (claim, complete, the task page's
    submit) answers the same. The context comes from `load_task`, so the viewer may see the task: held by a colleague
    who claimed it first is then a conflict naming who and when (409), as the engine answers a lost claim; a task no
    longer open, or outside the viewer's duties, is a refusal (403)."""
    task = context.task
    if access.may_act_on_task(task, context.case):
        return
    if task.status != "open":
        raise AccessDenied("此任务已经办结或撤销")
    if task.claimed_by not in (None, access.viewer.username):
        raise TaskTaken(f"task {task.id} is claimed by {task.claimed_by}", "claimed", task.claimed_by, task.claimed_at)
    raise AccessDenied("此任务不属于您的职责范围")


def _is_unit(session: Session, code: Any) -> bool:
    return isinstance(code, str) and session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None

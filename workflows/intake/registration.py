"""Opening a case through a door (`start_permissions`): the door's form, checked, then the case started in one step.

A door's form is the form of the process's start event when it has one (its values become the start data, as
for an online message), else the form of the first user task after the start (登记信访事项, 记录问题, 列入包案清单):
the case starts and that task is completed by the starter in the same transaction. Either way a refused
submission raises SubmissionInvalid with a message per field, and the caller rolls back, so nothing is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import Engine, StepResult
from workflows.cases.access import Access
from workflows.cases.forms import Form, FormDefinitionError, as_text, parse_form, read_form
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import AccessDenied, SubmissionInvalid, check_submission, check_values, load_task
from workflows.intake.start_permissions import Door

FORM_PROPERTY = "formJsonSchemaFilename"  # the spiff-arena property naming a form (bpmn/CONVENTIONS.md)
SOURCE_CASE = "source_case"  # the chosen earlier case of a door `from_case` (its case id)
PLACE_KEYS = ("township", "village", "grid")
FROM_SOURCE = ("case_ref", "case_summary")  # filled from the chosen case
# Names callers send for a field the form calls otherwise (the online message's channel is `message_channel`)
MISNAMED = {"source": "message_channel", "channel": "message_channel"}


@dataclass(frozen=True)
class Opening:
    """The form a process is opened with, and where it belongs."""

    form: Form
    element_id: str
    on_start_event: bool  # the values are the start data (no first task to complete)


def opening(session: Session, engine: Engine, process_id: str) -> Opening:
    """The opening form of the newest deployed version of `process_id`."""
    version = engine.specs.latest(session, process_id)
    if version is None:
        raise FormDefinitionError(f"process {process_id} is not deployed")
    spec, _ = engine.specs.parsed(session, version.id)
    starts = [s for s in spec.task_specs.values() if type(s).__name__.endswith("StartEvent")]
    found = None
    for start in starts:
        if _form_name(start):
            found = (start, True)
    if found is None:
        seen: set[str] = set()
        frontier = list(starts)
        while frontier and found is None:
            following = []
            for task_spec in frontier:
                for nxt in task_spec.outputs:
                    if nxt.name in seen:
                        continue
                    seen.add(nxt.name)
                    if getattr(nxt, "manual", False):
                        found = (nxt, False)
                        break
                    following.append(nxt)
            frontier = following
    if found is None or not _form_name(found[0]):
        raise FormDefinitionError(f"{process_id} v{version.version}: no form at its start or first user task")
    name = _form_name(found[0])
    content = engine.specs.file(session, version, name)
    if content is None:
        raise FormDefinitionError(f"{name}: not deployed with {process_id} v{version.version}")
    return Opening(read_form(content, name), found[0].bpmn_id, found[1])


def _form_name(task_spec: Any) -> str:
    return str((getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(FORM_PROPERTY) or "")


def own_place(access: Access, door: Door) -> dict[str, str]:
    """The place of the starter's position in one of the door's roles: township, village and grid codes."""
    seat = next((s for s in access.viewer.seats if s.role in door.roles), None)
    if seat is None:
        return {}
    codes = seat.area_path.strip("/").split("/")[1:]  # below the county: township, village, grid
    return {key: code for key, code in zip(PLACE_KEYS, codes, strict=False)}


def fixed_values(access: Access, door: Door) -> dict[str, Any]:
    """The values a door fixes for this starter: its presets and, for doors at one's own place, the place."""
    return {**door.preset, **(own_place(access, door) if door.place == "own" else {})}


def open_case(session: Session, engine: Engine, access: Access, door: Door, given: Mapping[str, Any],
              now: datetime, strict: bool = False) -> StepResult:
    """Start a case through `door` with the submitted values (posted text or JSON); SubmissionInvalid lists errors.

    With `strict` (the API) a key the form does not have is an error on that key; pages send extra fields
    (the CSRF token) that are ignored.
    """
    roles = access.viewer.roles
    if not door.open_to(roles):
        raise AccessDenied(f"您的角色不能使用「{door.title}」（可使用者：{door.role_names}）")
    start = opening(session, engine, door.process)
    fixed = fixed_values(access, door)
    values, errors, _ = parse_form(start.form, _as_posted(start.form, given, fixed))
    known = {f.name for f in start.form.fields} | {SOURCE_CASE}
    if strict:
        errors.update({str(k): _unknown_field(start.form, str(k)) for k in given if k not in known})
    for name in door.requires:
        if name not in values and name not in errors:
            spec = start.form.field(name)
            errors[name] = f"请选择{spec.title}" if spec is not None and spec.options else \
                f"请填写{spec.title if spec is not None else name}"
    if door.from_case:
        errors.update(_link_source(session, access, start.form, values, given.get(SOURCE_CASE)))
    if start.on_start_event:
        errors = {**check_values(session, start.form, values, {}, now), **errors}
        if errors:
            raise SubmissionInvalid(_derived_quiet(errors))
        return engine.start(door.process, values, access.viewer.username)
    seed = {k: v for k, v in fixed.items() if k in PLACE_KEYS}
    started = engine.start(door.process, seed, access.viewer.username)
    task = next((t for t in engine.open_tasks(started.instance.id) if t.element_id == start.element_id), None)
    if task is None:
        raise FormDefinitionError(f"{door.process}: {start.element_id} is not open right after the start")
    context = load_task(session, engine, access, task.id)
    errors = {**check_submission(session, context, values, now), **errors}
    if errors:
        raise SubmissionInvalid(_derived_quiet(errors))
    return engine.complete_task(task.id, values, access.viewer.username)


def _unknown_field(form: Form, name: str) -> str:
    """The message for a field the form does not have, naming the field meant when it is a known other name."""
    meant = MISNAMED.get(name)
    spec = form.field(meant) if meant is not None else None
    if spec is None:
        return "表单中没有此项"
    options = "、".join(f"{o.value}（{o.label}）" for o in spec.options)
    return f"表单中没有 {name}：{spec.title}的字段名是 {meant}" + (f"，可选 {options}" if options else "")


def _derived_quiet(errors: dict[str, str]) -> dict[str, str]:
    """Without a chosen case, the fields it would fill say nothing: the message is on the choice itself."""
    return {k: v for k, v in errors.items() if not (SOURCE_CASE in errors and k in FROM_SOURCE)}


def _as_posted(form: Form, given: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values as the text a page posts, with the door's fixed values in place of what was sent."""
    getlist = getattr(given, "getlist", None)
    posted: dict[str, Any] = {}
    for f in form.fields:
        value = fixed.get(f.name, given.get(f.name))
        if f.widget == "checkboxes":
            chosen = getlist(f.name) if getlist is not None and f.name not in fixed else value
            posted[f.name] = [as_text(v) for v in chosen] if isinstance(chosen, list) else \
                ([] if chosen in (None, "") else [as_text(chosen)])
        else:
            posted[f.name] = as_text(value)
    return posted


def _link_source(session: Session, access: Access, form: Form, values: dict[str, Any],
                 chosen: Any) -> dict[str, str]:
    """Link the chosen earlier case by id: its number and summary fill the form where it asks for them."""
    try:
        case = session.get(CaseRecord, int(str(chosen)))
    except ValueError:
        case = None
    if case is None or not access.may_see_case(case):
        return {SOURCE_CASE: "请选择一个您可以查看的案件"}
    values[SOURCE_CASE] = case.instance_id
    if form.field("case_ref") is not None:
        values["case_ref"] = case.case_number
    if form.field("case_summary") is not None and not values.get("case_summary"):
        values["case_summary"] = case.claim or ""
    return {}


"""Tables kept in step with each case so that lists never deserialize workflow state, and the reads of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import TaskNotFound
from .models import HumanTask, Instance, MessageWait
from .snapshot import Snapshot, due_time
from .state import Bookkeeping

OPEN_TASK, DONE_TASK, CANCELLED_TASK = "open", "completed", "cancelled"
FORM_PROPERTY = "formJsonSchemaFilename"


def project_tasks(session: Session, instance: Instance, snapshot: Snapshot, books: Bookkeeping, now: datetime,
                  task_scope: Callable[[dict[str, Any]], str | None]) -> list[HumanTask]:
    """Keep the human-task table in step, using the ids the state remembers instead of a query; return the rows
    of the tasks open now, oldest first."""
    ready = {str(t.id): t for t in snapshot.ready_manual}
    open_rows: list[HumanTask] = []
    for task_id in books.projected:
        if task_id not in ready:
            row = session.get(HumanTask, task_id)
            if row is not None and row.status == OPEN_TASK:
                row.status = CANCELLED_TASK
    for task_id, task in ready.items():
        if task_id in books.projected:
            row = session.get(HumanTask, task_id)
            if row is not None:
                row.due_at = due_time(task)
                open_rows.append(row)
            continue
        spec = task.task_spec
        properties = (getattr(spec, "extensions", None) or {}).get("properties", {})
        row = HumanTask(
            id=task_id, instance_id=instance.id, process_id=instance.process_id,
            element_id=str(spec.bpmn_id), ref=books.ref_of(task) or str(spec.bpmn_id),
            name=spec.bpmn_name, lane=spec.lane, form=properties.get(FORM_PROPERTY),
            scope=task_scope(task.data), status=OPEN_TASK, due_at=due_time(task), created_at=now)
        session.add(row)
        open_rows.append(row)
    books.projected = sorted(ready)
    return sorted(open_rows, key=lambda r: (r.created_at, r.ref))


def project_message_waits(session: Session, instance: Instance, waiting: list[Any], books: Bookkeeping) -> None:
    """Keep the message_wait rows in step with the messages the case waits for."""
    wanted = sorted({pending.name for pending in waiting if pending.event_type == "MessageEventDefinition"})
    if wanted == books.messages:
        return
    for name in set(books.messages) - set(wanted):
        row = session.get(MessageWait, (instance.id, name))
        if row is not None:
            session.delete(row)
    for name in set(wanted) - set(books.messages):
        session.add(MessageWait(instance_id=instance.id, message_name=name))
    books.messages = wanted


def get_task_row(session: Session, task_id: str) -> HumanTask:
    """The human-task row of that id (as this session has it)."""
    row = session.get(HumanTask, task_id)
    if row is None:
        raise TaskNotFound(f"no task {task_id}")
    return row


def fresh_task_row(session: Session, task_id: str) -> HumanTask:
    """The task row as the database has it now (not as this session first read it)."""
    return session.execute(select(HumanTask).where(HumanTask.id == task_id)
                           .execution_options(populate_existing=True)).scalar_one()


def open_task_rows(session: Session, instance_id: int | None = None, lane: str | None = None) -> list[HumanTask]:
    """Open human tasks (of one case, in one lane, if given), oldest first."""
    query = select(HumanTask).where(HumanTask.status == OPEN_TASK)
    if instance_id is not None:
        query = query.where(HumanTask.instance_id == instance_id)
    if lane is not None:
        query = query.where(HumanTask.lane == lane)
    return list(session.scalars(query.order_by(HumanTask.created_at, HumanTask.ref)))


def resolve_task_id(session: Session, given: str) -> str:
    """The full id of a task given by its id, a unique prefix of 6+ characters, or `CASE/ELEMENT`."""
    if session.get(HumanTask, given) is not None:
        return given
    case_id, _, element = given.partition("/")
    if element and case_id.isdigit():
        found = session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == int(case_id), HumanTask.element_id == element,
            HumanTask.status == OPEN_TASK).limit(2)).all()
        if len(found) != 1:
            raise TaskNotFound(f"case {case_id} has no open task '{element}'" if not found
                               else f"case {case_id} has several open '{element}' tasks; give the task id")
        return found[0]
    if len(given) < 6:
        raise TaskNotFound(f"no task {given} (give at least 6 characters of its id)")
    matches = session.scalars(select(HumanTask.id).where(HumanTask.id.startswith(given)).limit(2)).all()
    if len(matches) != 1:
        raise TaskNotFound(f"no task {given}" if not matches else f"the prefix {given} fits several tasks")
    return matches[0]

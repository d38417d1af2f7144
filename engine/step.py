"""One engine step written: its events, the projections, the instance's state and status — in one flush."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import history
from .acts import ACT_TYPES, GATEWAY_DECIDED, TIMER_TRIGGERED, StepActs, branch_data, read_acts
from .errors import Conflict
from .incidents import new_incident
from .json_data import jsonable
from .models import HumanTask, Incident, Instance
from .projection import project_message_waits, project_tasks
from .snapshot import Snapshot, next_timer
from .state import Bookkeeping, StateCodec, state_digest

RUNNING, INCIDENT, COMPLETED = "running", "incident", "completed"


@dataclass
class StepResult:
    """What one engine step did to an instance."""

    instance: Instance
    events: list[history.Event] = field(default_factory=list)
    already_applied: bool = False
    incident: Incident | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the case data after the step
    open_tasks: list[HumanTask] | None = None  # the human tasks open after the step (None: not a workflow step)


Observer = Callable[[StepResult], None]
Roots = list[tuple[Task, dict[str, Any]]]  # the tasks whose branches a step moves on, each with its data before


@dataclass
class LoadedCase:
    """A case as a step works on it: its row, live workflow and bookkeeping, and what it was before the step."""

    instance: Instance
    workflow: BpmnWorkflow
    books: Bookkeeping
    before: dict[str, Any]  # the case data as people saw it before the step
    states: dict[UUID, int] = field(default_factory=dict)  # every task's state before the step

    def roots(self, *tasks: Task) -> Roots:
        """Tasks whose branches this step moves on, each with its data before the step."""
        return [(task, copy.deepcopy(task.data)) for task in tasks]


def write_step(session: Session, codec: StateCodec, loaded: LoadedCase, now: datetime, actor: str, type_: str,
               data: dict[str, Any], task_ref: str | None, failure: SpiffWorkflowException | None, roots: Roots,
               calls: list[list[Any]], task_scope: Callable[[dict[str, Any]], str | None],
               observers: tuple[Observer, ...]) -> StepResult:
    """Record a step the workflow has just run: its event (with the data it changed and the helper `calls` its
    scripts made), what happened inside it, an incident for its `failure`, the completion; then the projections,
    the new state and status, the observers — and one flush."""
    instance, workflow, books = loaded.instance, loaded.workflow, loaded.books
    snapshot = Snapshot.of(workflow)
    books.name_new_tasks(snapshot.activated)
    acts = read_acts(workflow, books, loaded.states)
    changes = _changes(loaded, acts, roots, data.get("submitted") or {})
    after = {**loaded.before, **{key: value[1] for key, value in changes.items()}}
    books.case = jsonable(after)
    if type_ == history.TIMER_FIRED:
        data = {**data, "timers": acts.timers}
    decisions = {act.ref: act.data["took"] for act in acts.acts if act.type == GATEWAY_DECIDED}
    if decisions:  # every step passes gateways: their choices ride on the step's own event
        data = {**data, "decisions": decisions}
    digest = state_digest(workflow, books, snapshot.open)
    result = StepResult(instance, data=after)
    recorded = {**data, "changes": jsonable(changes), **({"calls": jsonable(calls)} if calls else {})}
    result.events.append(history.record(session, instance, type_, actor, now, digest, recorded, task_ref))
    for act in acts.acts:
        if act.type == GATEWAY_DECIDED or (type_ == history.TIMER_FIRED and act.type == TIMER_TRIGGERED) \
                or act.ref == task_ref:
            continue  # the step's own event already says so
        assert act.type in ACT_TYPES
        result.events.append(history.record(session, instance, act.type, actor, now, digest,
                                            jsonable(act.data), act.ref))
    if failure is not None:
        result.incident = new_incident(instance, snapshot, books, failure, now)
        session.add(result.incident)
        flush(session)
        result.events.append(history.record(
            session, instance, history.INCIDENT_RAISED, actor, now, digest,
            {"incident": result.incident.id, "element": result.incident.element_id,
             "line": result.incident.line, "message": result.incident.message}, result.incident.task_ref))
    completed = workflow.is_completed()
    instance.status = COMPLETED if completed else (INCIDENT if snapshot.errored or failure is not None
                                                   else RUNNING)
    if completed and instance.completed_at is None:
        instance.completed_at = now
        ending = {"end": acts.ends[-1] if acts.ends else None, "ends": acts.ends, "terminate": acts.terminate}
        result.events.append(history.record(session, instance, history.COMPLETED, actor, now, digest,
                                            {**ending, "data": jsonable(workflow.data or after)}))
    result.open_tasks = project_tasks(session, instance, snapshot, books, now, task_scope)
    waiting = workflow.waiting_events()
    instance.next_timer_at = next_timer(waiting)
    project_message_waits(session, instance, waiting, books)
    instance.updated_at = now
    instance.state = codec.dump(workflow, books)
    for observer in observers:
        observer(result)
    # One flush writes the instance (its row version checked first), events and projections together.
    flush(session)
    return result


def _changes(loaded: LoadedCase, acts: StepActs, roots: Roots, submitted: dict[str, Any]) -> dict[str, list[Any]]:
    """What the step set, key → [as the case read before, as it reads now]: every submitted value, and what
    the step's branches (its task, timers and messages it set off) changed that the case did not hold yet."""
    moved = [root for root, _ in roots]
    extra = [(task, copy.deepcopy(task.data)) for task in [*acts.fired, *acts.caught]
             if all(task is not root for root in moved)]
    branch = branch_data([*roots, *extra], loaded.workflow)
    changes = {}
    for key, (_, value) in branch.items():
        if key in submitted or loaded.before.get(key) != value:
            changes[key] = [loaded.before.get(key), value]
    for key, value in submitted.items():
        changes.setdefault(key, [loaded.before.get(key), value])
    return dict(sorted(changes.items()))


def flush(session: Session) -> None:
    """Flush the session, a concurrent change of the same rows raising Conflict."""
    with conflicts():
        session.flush()


@contextlib.contextmanager
def conflicts() -> Iterator[None]:
    """Turn what the database says about a concurrent change of the same rows into a Conflict."""
    try:
        yield
    except (StaleDataError, IntegrityError) as error:
        raise Conflict("the case was changed by someone else at the same time; reload and try again") from error
    except OperationalError as error:
        if "locked" in str(error).lower():
            raise Conflict("the case was changed by someone else at the same time; reload and try again") \
                from error
        raise

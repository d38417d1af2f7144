"""What the engine reads off a live workflow after each step: its tasks by kind, case data, due times."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .state import ACTIVATED, OPEN


@dataclass
class Snapshot:
    """The tasks of a workflow sorted by what the engine needs of them, from one walk over the tree."""

    activated: list[Task]
    open: list[Task]
    ready_manual: list[Task]
    errored: list[Task]

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> Snapshot:
        snapshot = cls([], [], [], [])
        for task in workflow.get_tasks(state=ACTIVATED):
            snapshot.activated.append(task)
            if task.has_state(OPEN):
                snapshot.open.append(task)
            if task.has_state(TaskState.READY) and task.task_spec.manual:
                snapshot.ready_manual.append(task)
            if task.has_state(TaskState.ERROR):
                snapshot.errored.append(task)
        return snapshot


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    """The task of that id in the workflow or its subprocesses; None when it is gone (SpiffWorkflow raises)."""
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return None


def waiting_for(workflow: BpmnWorkflow, name: str, keys: Mapping[str, Any]) -> Task | None:
    """The task that waits for the message `name` with data matching the correlation `keys`, if any."""
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if definition is None or getattr(definition, "name", None) != name:
            continue
        if all(task.data.get(k) == v for k, v in keys.items()):
            return task
    return None


def case_data(workflow: BpmnWorkflow, snapshot: Snapshot | None = None) -> dict[str, Any]:
    """The data a person would call the case's: the open work's (merged over parallel branches, in tree order),
    else the last finished task's. A call activity's own data is older than its called process's, so it counts
    only when nothing inside is open."""
    open_tasks = snapshot.open if snapshot is not None else workflow.get_tasks(state=OPEN)
    named = [t for t in open_tasks if getattr(t.task_spec, "bpmn_id", None) is not None]
    inner = [t for t in named if not isinstance(t.task_spec, SubWorkflowTask)]
    merged: dict[str, Any] = {}
    for task in inner or named:
        merged.update(task.data)
    if merged or named:
        return merged
    if workflow.last_task is not None:
        return dict(workflow.last_task.data)
    return dict(workflow.data)


def due_time(task: Task) -> datetime | None:
    """A task's due time is the latest timer attached to it as a boundary event (reminders come earlier), else
    that of the embedded subprocess it runs in (a deadline on a whole stretch of work)."""
    own = _attached_due(task)
    workflow: Any = task.workflow
    if own is not None or workflow is workflow.top_workflow:
        return own
    caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    if caller is None or isinstance(caller.task_spec, CallActivity):
        return None
    return due_time(caller)


def _attached_due(task: Task) -> datetime | None:
    parent = task.parent
    due: datetime | None = None
    for sibling in parent.children if parent is not None else []:
        definition = getattr(sibling.task_spec, "event_definition", None)
        value = sibling.internal_data.get("event_value") if sibling is not task else None
        if isinstance(definition, TimerEventDefinition) and isinstance(value, str):
            moment = parse_moment(value)
            if moment is not None and (due is None or moment > due):
                due = moment
    return due


def next_timer(waiting: list[Any]) -> datetime | None:
    moments = []
    for pending in waiting:
        if "Timer" in pending.event_type or "TimeDate" in pending.event_type or "Cycle" in pending.event_type:
            value = pending.value
            if isinstance(value, dict):
                value = value.get("next")
            if isinstance(value, str):
                moment = parse_moment(value)
                if moment is not None:
                    moments.append(moment)
    return min(moments) if moments else None


def parse_moment(value: str) -> datetime | None:
    try:
        return TimerEventDefinition.get_datetime(value).astimezone(UTC)
    except ValueError:
        return None

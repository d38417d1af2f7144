"""What the engine did inside one step, read off the task tree: timers fired, tasks cancelled, gateway decisions,
messages caught, ends reached — and the case data each branch of the step set.

SpiffWorkflow keeps no history, so the engine compares every task's state before and after a step. Data written on
a branch reaches the case only at a later join or end, so a step's changes are read off its own branch (the task
and what ran after it), not off a diff of the case data before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .state import OPEN, Bookkeeping

# Event types for what happened inside a step (they change no state of their own: replay skips them). Gateway
# decisions are recorded on the step's own event, under "decisions".
TIMER_TRIGGERED = "timer_triggered"
TASK_CANCELLED = "task_cancelled"
GATEWAY_DECIDED = "gateway_decided"
MESSAGE_CAUGHT = "message_caught"
ACT_TYPES = (TIMER_TRIGGERED, TASK_CANCELLED, GATEWAY_DECIDED, MESSAGE_CAUGHT)
_LIVE = OPEN | TaskState.COMPLETED


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    """Every task of a case, its called and embedded processes included, once each."""
    seen: set[UUID] = set()
    for source in [workflow, *workflow.subprocesses.values()]:
        for task in source.get_tasks_iterator():
            if task.id not in seen:
                seen.add(task.id)
                yield task


def task_states(workflow: BpmnWorkflow) -> dict[UUID, int]:
    """The state of every task, to compare with after a step."""
    return {task.id: task.state for task in all_tasks(workflow)}


@dataclass
class Act:
    """One thing the engine did: an event to record after the step's own event."""

    type: str
    ref: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepActs:
    """Everything the engine did in one step, in tree order."""

    acts: list[Act]
    fired: list[Task]  # timer events that fired (their branches carry the step's changes too)
    caught: list[Task]  # message events that caught a message
    ends: list[str]  # end events of the case's own process reached in this step
    terminate: str | None  # the terminate end event that ended the case's own process, if any

    @property
    def timers(self) -> list[str]:
        return sorted(act.ref for act in self.acts if act.type == TIMER_TRIGGERED)


def read_acts(workflow: BpmnWorkflow, books: Bookkeeping, before: dict[UUID, int]) -> StepActs:
    """What changed state in this step (tasks are named by `books` already)."""
    changed = [t for t in all_tasks(workflow)
               if t.state != before.get(t.id) and t.has_state(TaskState.COMPLETED | TaskState.CANCELLED)]
    terminated = {id(t.workflow): books.ref_of(t) for t in changed
                  if _is_end(t) and isinstance(t.task_spec.event_definition, TerminateEventDefinition)
                  and t.has_state(TaskState.COMPLETED)}
    result = StepActs([], [], [], [], None)
    for task in changed:
        ref = books.ref_of(task)
        if ref is None:
            continue
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if task.has_state(TaskState.CANCELLED):
            # A join waiting on each branch is cancelled on all but one when they meet: that is no news.
            # Boundary events disarmed because their activity finished are routine too.
            cause = _cancel_cause(task, books, terminated)
            if before.get(task.id, 0) & OPEN and not isinstance(spec, ParallelGateway | InclusiveGateway) \
                    and cause["reason"] != "activity_finished":
                result.acts.append(Act(TASK_CANCELLED, ref, cause))
        elif isinstance(definition, TimerEventDefinition) and not _is_end(task):
            result.fired.append(task)
            result.acts.append(Act(TIMER_TRIGGERED, ref, {"timers": [ref],
                                                          "due": task.internal_data.get("event_value")}))
        elif isinstance(definition, MessageEventDefinition) and not _is_end(task) and not _throws(task):
            result.caught.append(task)
            result.acts.append(Act(MESSAGE_CAUGHT, ref, {"message": definition.name}))
        elif isinstance(spec, ExclusiveGateway | InclusiveGateway) and len(spec.outputs) > 1:
            result.acts.append(Act(GATEWAY_DECIDED, ref, {"took": _targets(task)}))
        elif _is_end(task) and task.workflow is workflow:
            result.ends.append(ref)
            if isinstance(definition, TerminateEventDefinition):
                result.terminate = ref
    return result


def _is_end(task: Task) -> bool:
    return isinstance(task.task_spec, EndEvent)


def _throws(task: Task) -> bool:
    return type(task.task_spec).__name__ in ("IntermediateThrowEvent", "SendTask")


def _targets(gateway: Task) -> list[str]:
    """The elements a decision sent the case to (through SpiffWorkflow's unnamed helper tasks)."""
    found: list[str] = []
    for child in gateway.children:
        if not child.has_state(_LIVE):
            continue
        bpmn_id = getattr(child.task_spec, "bpmn_id", None)
        if bpmn_id is not None:
            found.append(str(bpmn_id))
        else:
            found.extend(str(c.task_spec.bpmn_id) for c in child.children
                         if getattr(c.task_spec, "bpmn_id", None) is not None and c.has_state(_LIVE)
                         and not isinstance(c.task_spec, BoundaryEvent))
    return found


def _cancel_cause(task: Task, books: Bookkeeping, terminated: dict[int, str | None]) -> dict[str, Any]:
    """Why a task was cancelled: a terminate end around it, the activity a boundary event was attached to
    finishing, or an interrupting boundary event firing on it."""
    workflow: Any = task.workflow
    while True:
        if id(workflow) in terminated:
            return {"cause": terminated[id(workflow)], "reason": "terminate_end"}
        if workflow is workflow.top_workflow:
            break
        caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if caller is None:
            break
        workflow = caller.workflow
    siblings = task.parent.children if task.parent is not None else []
    if isinstance(task.task_spec, BoundaryEvent):
        for sibling in siblings:
            if not isinstance(sibling.task_spec, BoundaryEvent) and sibling.has_state(TaskState.COMPLETED):
                return {"cause": books.ref_of(sibling), "reason": "activity_finished"}
    for sibling in siblings:
        spec = sibling.task_spec
        if isinstance(spec, BoundaryEvent) and spec.cancel_activity and sibling.has_state(TaskState.COMPLETED):
            return {"cause": books.ref_of(sibling), "reason": "interrupted"}
    return {"cause": None, "reason": "withdrawn"}


def branch_data(roots: list[tuple[Task, dict[str, Any]]], workflow: BpmnWorkflow) -> dict[str, list[Any]]:
    """The values each root's branch set in this step: its own data before → what it and the tasks after it
    hold now (called and embedded processes started on the branch included), key by key."""
    changes: dict[str, list[Any]] = {}
    for root, before in roots:
        after: dict[str, Any] = {}
        for task in _downstream(root, workflow):
            after.update(task.data)
        for key in sorted(set(after) | set(before)):
            if key in after and after[key] != before.get(key):
                changes[key] = [deepcopy(before.get(key)), deepcopy(after[key])]
    return changes


def _downstream(root: Task, workflow: BpmnWorkflow) -> Iterator[Task]:
    """The root and the diagram elements after it, in tree order; a process the branch started is followed inside,
    and a process the branch finished is followed out to its caller's next tasks. SpiffWorkflow's own joins are
    left out: one waiting for other branches still holds this branch's data from before."""
    stack, walked = [root], set()
    while stack:
        task = stack.pop()
        if task is root or (task.has_state(_LIVE) and getattr(task.task_spec, "bpmn_id", None) is not None):
            yield task
        sub = workflow.subprocesses.get(task.id)
        children = list(task.children)
        if sub is not None and id(sub) not in walked:
            walked.add(id(sub))
            children.append(sub.task_tree)
        owner: Any = task.workflow
        if not children and owner is not workflow and getattr(owner, "completed", False) and id(owner) not in walked:
            walked.add(id(owner))
            caller = workflow.get_task_from_id(owner.parent_task_id)
            children = list(caller.children) if caller is not None else []
        stack.extend(reversed(children))

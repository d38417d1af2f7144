"""Workflow state as Doorstep stores it: without the spec, pruned of finished history, named by element."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its spec: specs are stored once per deployed version, not per instance."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


STATE_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(
    {**SPIFF_CONFIG, BpmnWorkflow: _SpeclessWorkflowConverter}))

# A task is named once it has been activated: from then on it is part of the history.
ACTIVATED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED | TaskState.ERROR
OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
BOOKKEEPING_KEY = "doorstep"


@dataclass
class Bookkeeping:
    """Stable names for tasks ("element#occurrence"), independent of SpiffWorkflow's random ids."""

    refs: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    projected: list[str] = field(default_factory=list)  # ids of READY human tasks in the task table
    messages: list[str] = field(default_factory=list)  # names of messages waited for (message_wait rows)
    flows: list[str] = field(default_factory=list)  # "process:source->target" of every sequence flow taken
    # The case data as people see it: each step's changes folded in order (None in states stored before it).
    case: dict[str, Any] | None = None

    def ref_of(self, task: Task) -> str | None:
        """The stable name of a task, if it has been activated."""
        return self.refs.get(str(task.id))

    def name_new_tasks(self, activated: list[Task]) -> None:
        """Give every newly activated task (in tree order) its element id and occurrence number."""
        for task in activated:
            key = str(task.id)
            if key in self.refs:
                continue
            element = element_key(task)
            if element is None:
                continue
            self.counts[element] = self.counts.get(element, 0) + 1
            self.refs[key] = f"{element}#{self.counts[element]}"
            # A boundary event has no incoming flow: its tree parent is the activity's predecessor.
            source = None if isinstance(task.task_spec, BoundaryEvent) else _named_ancestor(task)
            if source is not None:
                edge = f"{process_name(task)}:{source.task_spec.bpmn_id}->{task.task_spec.bpmn_id}"
                if edge not in self.flows:
                    self.flows.append(edge)

    def task_by_ref(self, workflow: BpmnWorkflow, ref: str) -> Task | None:
        """The live task with that stable name."""
        for key, value in self.refs.items():
            if value == ref:
                return workflow.get_task_from_id(UUID(key))
        return None


def _named_ancestor(task: Task) -> Task | None:
    """The nearest ancestor that is a diagram element: the source of the sequence flow that led here."""
    node = task.parent
    while node is not None and getattr(node.task_spec, "bpmn_id", None) is None:
        node = node.parent
    return node


def element_key(task: Task) -> str | None:
    """Element id of a task, qualified by its process when it runs inside a called process."""
    bpmn_id = getattr(task.task_spec, "bpmn_id", None)
    if bpmn_id is None:
        return None
    owner = _diagram_process(task.workflow)
    if owner is not task.workflow.top_workflow:
        return f"{owner.spec.name}/{bpmn_id}"
    return str(bpmn_id)


def element_prefixes(spec: Any, subprocess_specs: dict[str, Any]) -> list[tuple[str, Any]]:
    """Each process spec with the prefix its elements' keys carry ("" for the case's own process, "pid/" for a
    called one; an embedded subprocess takes the prefix of the process it is drawn in), as `element_key` names."""
    processes = {spec.name: spec, **subprocess_specs}
    drawn_in: dict[str, str] = {}
    for name, process in processes.items():
        for task_spec in process.task_specs.values():
            if isinstance(task_spec, SubWorkflowTask) and not isinstance(task_spec, CallActivity):
                drawn_in[str(task_spec.spec)] = name

    def prefix(name: str) -> str:
        seen = set()
        while name in drawn_in and name not in seen:
            seen.add(name)
            name = drawn_in[name]
        return "" if name == spec.name else f"{name}/"

    return [(prefix(name), process) for name, process in processes.items()]


def process_name(task: Task) -> str:
    """The process a task's element is drawn in: an embedded subprocess belongs to the process around it."""
    return str(_diagram_process(task.workflow).spec.name)


def _diagram_process(workflow: Any) -> Any:
    # Element ids are unique within a diagram file, so an embedded subprocess needs no qualifier of its own;
    # only a call activity starts another diagram's process.
    while workflow is not workflow.top_workflow:
        caller = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        if caller is None or isinstance(caller.task_spec, CallActivity):
            return workflow
        workflow = caller.workflow
    return workflow


class StateCodec:
    """Turns workflows into stored text and back, with specs supplied from the version store."""

    def dump(self, workflow: BpmnWorkflow, books: Bookkeeping) -> str:
        """Serialize without the spec, after pruning finished history that nothing can reach any more."""
        compact(workflow, books)
        dct = STATE_SERIALIZER.to_dict(workflow)
        dct[BOOKKEEPING_KEY] = {"refs": books.refs, "counts": books.counts, "projected": books.projected,
                                "messages": books.messages, "flows": books.flows,
                                **({"case": books.case} if books.case is not None else {})}
        dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
        return json.dumps(dct, separators=(",", ":"), default=str)

    def load(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> tuple[BpmnWorkflow, Bookkeeping]:
        """Rebuild a workflow from stored text around already-parsed, shared spec objects."""
        dct = json.loads(text)
        kept = dct.pop(BOOKKEEPING_KEY, {})
        # The registry passes objects it does not know through unchanged, so handing it parsed specs
        # saves rebuilding them from dictionaries on every load.
        dct["spec"] = spec
        dct["subprocess_specs"] = subprocess_specs
        workflow = STATE_SERIALIZER.from_dict(dct)
        return workflow, Bookkeeping(refs=kept.get("refs", {}), counts=kept.get("counts", {}),
                                     projected=kept.get("projected", []), messages=kept.get("messages", []),
                                     flows=kept.get("flows", []), case=kept.get("case"))


def compact(workflow: BpmnWorkflow, books: Bookkeeping) -> None:
    """Prune finished history and forget the names of tasks that are gone."""
    prune_finished_history(workflow)
    live = {str(task_id) for task_id in workflow.tasks}
    for sub in workflow.subprocesses.values():
        live.update(str(task_id) for task_id in sub.tasks)
    books.refs = {k: v for k, v in books.refs.items() if k in live}


def prune_finished_history(workflow: BpmnWorkflow) -> None:
    """Drop finished tasks that lie outside the subtree holding all unfinished work.

    SpiffWorkflow keeps every task it ever ran, so a loop grows the stored state with each iteration. Only
    the subtree that leads to unfinished tasks is needed to go on; the history itself is kept by the event
    log. Called processes are pruned the same way.
    """
    _drop_finished_subprocesses(workflow)
    for sub in list(workflow.subprocesses.values()):
        _prune(sub, protected=set(workflow.subprocesses))
    _prune(workflow, protected=set(workflow.subprocesses))


def _drop_finished_subprocesses(workflow: BpmnWorkflow) -> None:
    """Forget called processes whose call activity has finished: their data went back to the caller."""
    for task_id in list(workflow.subprocesses):
        if task_id not in workflow.subprocesses:
            continue  # removed with its parent already
        caller = workflow.get_task_from_id(task_id)
        if caller is not None and caller.has_state(TaskState.COMPLETED | TaskState.CANCELLED):
            workflow.delete_subprocess(caller)


def _prune(workflow: Any, protected: set[Any]) -> None:
    root = workflow.task_tree
    # A task in ERROR is unfinished work too: an incident retries it, so it must survive pruning.
    unfinished = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)
                  or t.has_state(TaskState.ERROR)]
    if root is None or not unfinished:
        return
    anchor = _deepest_common_ancestor(unfinished)
    if anchor is not root and anchor.parent is not root:
        _splice(workflow, root, anchor, protected)
    _shorten_branches(workflow, anchor, unfinished, protected)


# A branch whose finished run is longer than this is a loop that went round while another branch of the same
# split waited (a reminder timer beside a send-back loop): without shortening, its depth would grow each round
# until SpiffWorkflow's task iterator (1,000 levels) no longer reached the open task.
LONG_BRANCH = 32


def _shorten_branches(workflow: Any, anchor: Task, unfinished: list[Task], protected: set[Any]) -> None:
    """Below the split where unfinished branches part, drop a branch's long finished run: the branch then starts
    at the last finished task before its unfinished work (kept, with everything below it: joins read the parents
    of their arrivals, and new tasks inherit their parent's data)."""
    starts: dict[Any, list[Task]] = {}
    for task in unfinished:
        path = _path(task)
        if anchor in path[:-1]:
            starts.setdefault(path[path.index(anchor) + 1].id, []).append(task)
    for start_id, branch in starts.items():
        parting = _deepest_common_ancestor(branch)
        last_finished, start = parting.parent, workflow.tasks[start_id]
        if last_finished is not None and last_finished is not start \
                and len(_path(last_finished)) - len(_path(start)) >= LONG_BRANCH:
            _splice(workflow, anchor, last_finished, protected, replacing=start)
        _shorten_branches(workflow, parting, branch, protected)  # a split further down: its branches the same way


def _splice(workflow: Any, above: Task, below: Task, protected: set[Any], replacing: Task | None = None) -> None:
    """Make `below` a child of `above`, dropping the finished tasks between them: all of them when `above` is the
    root, else the branch of `above` that starts at `replacing` (other branches stay). Nothing is dropped when a
    called process hangs on one of them."""
    root = workflow.task_tree
    top = replacing if replacing is not None else root
    kept = {task.id for task in _subtree(below)}
    doomed = [task.id for task in _subtree(top) if task.id not in kept and task is not root]
    if any(task_id in protected for task_id in doomed):
        return
    for task_id in doomed:
        del workflow.tasks[task_id]
    if replacing is None:
        root._children = [below.id]
    else:
        above._children = [below.id if child_id == replacing.id else child_id for child_id in above._children]
    below._parent = above.id
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = below


def _deepest_common_ancestor(tasks: list[Task]) -> Task:
    paths = [_path(task) for task in tasks]
    common = paths[0][0]
    for level in zip(*paths, strict=False):
        if any(node is not level[0] for node in level):
            break
        common = level[0]
    return common


def _path(task: Task) -> list[Task]:
    path = []
    node: Task | None = task
    while node is not None:
        path.append(node)
        node = node.parent
    return list(reversed(path))


def _subtree(task: Task) -> list[Task]:
    found, stack = [], [task]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def state_digest(workflow: BpmnWorkflow, books: Bookkeeping, open_now: list[Task] | None = None) -> str:
    """A digest of what the case is now: its data and its open tasks by stable name, not by random id."""
    open_tasks = []
    for task in open_now if open_now is not None else workflow.get_tasks(state=OPEN):
        ref = books.ref_of(task)
        if ref is None:
            continue
        open_tasks.append([ref, TaskState.get_name(task.state), task.data, task.internal_data.get("event_value")])
    open_tasks.sort(key=lambda item: item[0])
    summary = {
        "completed": workflow.is_completed(),
        "data": workflow.data,
        "open": open_tasks,
        "counts": dict(sorted(books.counts.items())),
    }
    return hashlib.sha256(canonical_json(summary).encode()).hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spacing: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

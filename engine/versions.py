"""Differences between two versions of a process, and moving a running case onto a newer version safely."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from .state import STATE_SERIALIZER, Bookkeeping, compact

IGNORED = {"inputs", "name", "description", "documentation", "lookahead"}  # derived or cosmetic keys


@dataclass(frozen=True)
class ElementChange:
    """One element added, removed or changed between two versions (qualified `process/element` in called ones)."""

    element: str
    kind: str  # added, removed, changed
    name: str | None = None
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        label = f" {self.name}" if self.name else ""
        what = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.kind} {self.element}{label}{what}"


@dataclass
class VersionDiff:
    """What changed from one stored spec to another."""

    changes: list[ElementChange] = field(default_factory=list)

    def by_element(self) -> dict[str, ElementChange]:
        return {change.element: change for change in self.changes}

    def summary(self) -> dict[str, int]:
        """How many elements were added, removed and changed."""
        counts = {"added": 0, "removed": 0, "changed": 0}
        for change in self.changes:
            counts[change.kind] += 1
        return counts


def diff_specs(old_text: str, new_text: str) -> VersionDiff:
    """Compare two stored specs (ProcessVersion.spec) element by element."""
    old, new = _elements(old_text), _elements(new_text)
    diff = VersionDiff()
    for element in sorted(set(old) | set(new)):
        if element not in new:
            diff.changes.append(ElementChange(element, "removed", old[element].get("bpmn_name")))
        elif element not in old:
            diff.changes.append(ElementChange(element, "added", new[element].get("bpmn_name")))
        else:
            fields = tuple(sorted(key for key in set(old[element]) | set(new[element])
                                  if key not in IGNORED and old[element].get(key) != new[element].get(key)))
            if fields:
                diff.changes.append(ElementChange(element, "changed", new[element].get("bpmn_name"), fields))
    return diff


def _elements(text: str) -> dict[str, dict[str, Any]]:
    stored = json.loads(text)
    found: dict[str, dict[str, Any]] = {}
    for prefix, spec in [("", stored["spec"]), *((f"{k}/", v) for k, v in stored["subprocess_specs"].items())]:
        for task_spec in spec["task_specs"].values():
            if task_spec.get("bpmn_id"):
                found[f"{prefix}{task_spec['bpmn_id']}"] = task_spec
    return found


COSMETIC = {"bpmn_name"}  # a renamed element runs exactly as before


def unsafe_moves(diff: VersionDiff, books: Bookkeeping) -> list[str]:
    """Why a case may not move: elements it ran or is running that the new version removed or changed."""
    changed = {element: change for element, change in diff.by_element().items()
               if change.kind != "changed" or not set(change.fields) <= COSMETIC}
    return [f"{element}: {changed[element].kind}" for element in sorted(books.counts) if element in changed]


def rebase(workflow: BpmnWorkflow, books: Bookkeeping, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """The same case on another version's specs: its history kept, its predictions of the future redone."""
    compact(workflow, books)
    dct = STATE_SERIALIZER.to_dict(workflow)
    for tasks in [dct["tasks"], *(sub["tasks"] for sub in dct["subprocesses"].values())]:
        _drop_predictions(tasks)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    moved: BpmnWorkflow = STATE_SERIALIZER.from_dict(dct)
    moved.script_engine = workflow.script_engine
    for task in moved.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    return moved


def _drop_predictions(tasks: dict[str, dict[str, Any]]) -> None:
    """Forget the tasks that only predict the future (FUTURE, LIKELY, MAYBE): they were made from the old spec."""
    doomed = {task_id for task_id, task in tasks.items()
              if task["state"] & (TaskState.PREDICTED_MASK | TaskState.FUTURE)}
    for task_id in doomed:
        del tasks[task_id]
    for task in tasks.values():
        task["children"] = [child for child in task["children"] if child not in doomed]

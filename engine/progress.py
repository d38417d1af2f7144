"""Where a case stands on its diagram: how often each element ran, which are open, the flows taken."""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .state import OPEN, Bookkeeping, element_key


@dataclass
class Progress:
    """Where a case stands: how often each element ran, which are open (and in what state), flows taken."""

    counts: dict[str, int]
    open: dict[str, list[str]]  # element → states of its open tasks ("ready", "waiting", "error"...)
    flows: list[str]  # "process:source->target"

    @classmethod
    def of(cls, workflow: BpmnWorkflow, books: Bookkeeping, open_tasks: list[Task] | None = None) -> Progress:
        """Read where a live workflow stands (its open tasks may be given, from a snapshot)."""
        open_elements: dict[str, list[str]] = {}
        for task in open_tasks if open_tasks is not None else workflow.get_tasks(state=OPEN):
            key = element_key(task)
            if key is not None:
                open_elements.setdefault(key, []).append(TaskState.get_name(task.state).lower())
        return cls(dict(books.counts), open_elements, list(books.flows))

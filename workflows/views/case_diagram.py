"""A case's diagrams with marks: how often each element ran, and which are completed, active, overdue or errored.

Counts come from the engine's bookkeeping, so loops show how many times an element ran and each parallel branch
counts on its own element. Elements of called processes (a call activity's process) are keyed
"process/element" by the engine; each called process gets its own diagram.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Engine, Progress
from engine.models import DeploymentFile, HumanTask, Incident, Instance, ProcessVersion, StoredFile
from engine.state import element_prefixes
from workflows.cases.record import OVERDUE_MARK
from workflows.views.inbox import process_names

MARK_NAMES = {"completed": "已完成", "active": "进行中", "overdue": "超期", "errored": "故障"}
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def element_names(engine: Engine, session: Session, version_id: int) -> dict[str, str]:
    """Chinese names of the elements of a version and its called processes, by element key."""
    spec, subprocess_specs = engine.specs.parsed(session, version_id)
    names: dict[str, str] = {}
    for prefix, process in element_prefixes(spec, subprocess_specs):
        for task_spec in process.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id is not None:
                names[f"{prefix}{bpmn_id}"] = getattr(task_spec, "bpmn_name", None) or bpmn_id
    return names


@dataclass
class ElementMark:
    """How an element of the diagram stands in one case."""

    element: str
    name: str
    count: int = 0
    states: list[str] = field(default_factory=list)

    @property
    def labels(self) -> str:
        """The states in Chinese."""
        return "、".join(MARK_NAMES[s] for s in self.states)


@dataclass
class DiagramView:
    """One process diagram of a case (the case's own, or one it called) with its marks."""

    process_id: str
    name: str
    file_name: str
    marks: dict[str, ElementMark]
    flows: list[tuple[str, str]]
    called: bool = False  # a process the case's own process calls (a call activity's)

    def marks_json(self) -> str:
        """The marks and taken flows for the bpmn-js page script."""
        return json.dumps({"marks": {k: {"count": m.count, "states": m.states} for k, m in self.marks.items()},
                           "flows": self.flows}, ensure_ascii=False)


def diagrams(session: Session, engine: Engine, instance: Instance, now: datetime) -> list[DiagramView]:
    """The diagrams of a case with completed / active / overdue / errored marks and run counts per element."""
    late = _late_elements(session, instance.id, now)
    errored = {(i.task_ref or i.element_id or "").split("#")[0] for i in session.scalars(
        select(Incident).where(Incident.instance_id == instance.id, Incident.status == "open"))}
    return marked_diagrams(session, engine, instance.process_version_id, engine.progress(instance.id), late, errored)


def marked_diagrams(session: Session, engine: Engine, version_id: int, progress: Progress,
                    late: set[str] | frozenset[str] = frozenset(),
                    errored: set[str] | frozenset[str] = frozenset()) -> list[DiagramView]:
    """The diagrams of a version marked as `progress` says a case stands (now, or at a step of its history).

    `late` and `errored` name elements to mark overdue or errored beyond what the progress itself tells.
    """
    counts = progress.counts
    spec, subprocess_specs = engine.specs.parsed(session, version_id)
    open_states = {key: ["errored" if state == "error" else "active" for state in states]
                   for key, states in progress.open.items()}
    names = element_names(engine, session, version_id)
    deadline_timers = _deadline_timers(spec, subprocess_specs)
    boundary = _boundary_events(spec, subprocess_specs)
    top = getattr(spec, "name", "")
    left = {source if process == top else f"{process}/{source}"
            for process, _, edge in (flow.partition(":") for flow in progress.flows)
            for source in [edge.partition("->")[0]]}
    marks: dict[str, ElementMark] = {}
    for key in set(counts) | set(open_states):
        states = []
        count = counts.get(key, 0)
        # A boundary event counts each time its activity starts; it happened only if a flow left it.
        if key in boundary and key not in left:
            if not open_states.get(key):
                continue
            count = len(open_states[key])  # armed now, never fired
        if count > len(open_states.get(key, [])) and (key not in boundary or key in left):
            states.append("completed")
        if "active" in open_states.get(key, []):
            states.append("active")
        if key in late or (key in deadline_timers and "completed" in states):
            states.append("overdue")
        if key in errored or "errored" in open_states.get(key, []):
            states.append("errored")
        marks[key] = ElementMark(key, names.get(key, key), count, states)
    flows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for flow in progress.flows:
        process, _, edge = flow.partition(":")
        source, _, target = edge.partition("->")
        flows[process].append((source, target))
    version = session.get(ProcessVersion, version_id)
    assert version is not None
    process_titles = process_names(session)
    views = [DiagramView(version.process_id, process_titles.get(version.process_id, version.process_id),
                         version.file_name, {k: m for k, m in marks.items() if "/" not in k},
                         flows.get(version.process_id, []))]
    files = _process_files(session, engine, version)
    for process_id in sorted({k.split("/")[0] for k in marks if "/" in k}):
        prefix = f"{process_id}/"
        views.append(DiagramView(process_id, process_titles.get(process_id, process_id), files.get(process_id, ""),
                                 {k[len(prefix):]: m for k, m in marks.items() if k.startswith(prefix)},
                                 flows.get(process_id, []), called=True))
    return views


def _boundary_events(spec: Any, subprocess_specs: dict[str, Any]) -> set[str]:
    """Keys of the boundary events (timers and messages attached to activities)."""
    return {f"{prefix}{task_spec.bpmn_id}"
            for prefix, process in element_prefixes(spec, subprocess_specs)
            for task_spec in process.task_specs.values()
            if isinstance(task_spec, BoundaryEvent) and getattr(task_spec, "bpmn_id", None)}


def _deadline_timers(spec: Any, subprocess_specs: dict[str, Any]) -> set[str]:
    """Keys of the timer events that mark a case overdue when they fire (their id holds `OVERDUE_MARK`)."""
    found = set()
    for prefix, process in element_prefixes(spec, subprocess_specs):
        for task_spec in process.task_specs.values():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            definition = getattr(task_spec, "event_definition", None)
            if bpmn_id and OVERDUE_MARK in bpmn_id and isinstance(definition, TimerEventDefinition):
                found.add(f"{prefix}{bpmn_id}")
    return found


def _late_elements(session: Session, instance_id: int, now: datetime) -> set[str]:
    """Element keys of human tasks that are open past their due time or were completed after it."""
    late = set()
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.due_at.is_not(None))):
        assert task.due_at is not None
        finished = task.completed_at if task.status == "completed" else None
        if (task.status == "open" and task.due_at < now) or (finished is not None and finished > task.due_at):
            late.add(task.ref.split("#")[0])
    return late


def _process_files(session: Session, engine: Engine, version: ProcessVersion) -> dict[str, str]:
    """The deployed .bpmn file of each process id in the version's deployment."""
    files: dict[str, str] = {}
    for name, content in deployed_files(session, version, ".bpmn").items():
        try:
            root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            files.setdefault(process.get("id", ""), name)
    return files


def deployed_files(session: Session, version: ProcessVersion, suffix: str) -> dict[str, bytes]:
    """The files deployed with a version whose names end with `suffix`, read in one query."""
    rows = session.execute(select(DeploymentFile.name, StoredFile.content)
                           .join(StoredFile, StoredFile.content_hash == DeploymentFile.content_hash)
                           .where(DeploymentFile.deployment_id == version.deployment_id,
                                  DeploymentFile.name.endswith(suffix))).all()
    return {name: bytes(content) for name, content in sorted(rows)}


def diagram_xml(session: Session, engine: Engine, instance: Instance, process_id: str,
                version_id: int | None = None) -> bytes | None:
    """The BPMN XML of the case's own process or of a process it calls, as deployed with its version (or with
    `version_id`, another version of its process: one it ran on before it was moved)."""
    version = session.get(ProcessVersion, version_id or instance.process_version_id)
    if version is None or version.process_id != instance.process_id:
        return None
    if process_id == instance.process_id:
        return engine.specs.file(session, version, version.file_name)
    _, called = engine.specs.parsed(session, version.id)
    if process_id not in called:
        return None
    name = _process_files(session, engine, version).get(process_id)
    return engine.specs.file(session, version, name) if name else None

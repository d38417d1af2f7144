"""Verify a case's recorded history: the hash chain, and a re-execution of its inputs on its diagram version.

A history is self-contained (events, the specs of the versions it ran on, the chain head the instance row holds
and its stored state), so an exported case can be verified on another machine without the database.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import history
from .clock import business_time
from .models import ChainDigest, Event, Instance, ProcessVersion
from .progress import Progress
from .sandbox import playback_helpers, restricted_script_engine
from .snapshot import Snapshot
from .state import SERIALIZER, Bookkeeping, StateCodec, canonical_json, compact, state_digest
from .versions import rebase

# Events that carry an input to re-execute; every other event changes no workflow state.
INPUT_EVENTS = {history.STARTED, history.TASK_COMPLETED, history.TIMER_FIRED, history.MESSAGE_RECEIVED,
                history.INCIDENT_RESOLVED, "incident_retried", history.MIGRATED}


@dataclass
class CaseHistory:
    """Everything needed to verify one case."""

    instance_id: int
    process_id: str
    events: list[dict[str, Any]]
    specs: dict[int, str]  # process version id → stored spec JSON
    head: tuple[int, str | None]  # the instance row's event count and last event hash
    state: str | None = None  # the instance's stored workflow state
    # Personal values in the events were replaced (a masked export): the hashes cover values no longer here,
    # so only the numbering and the links between events can be checked, not the hashes or a re-execution.
    masked: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (see `from_dict`)."""
        return {"instance_id": self.instance_id, "process_id": self.process_id, "events": self.events,
                "specs": {str(k): v for k, v in self.specs.items()}, "head": list(self.head), "state": self.state,
                **({"masked": True} if self.masked else {})}

    @classmethod
    def from_dict(cls, dct: dict[str, Any]) -> CaseHistory:
        """Read a history back from its JSON form."""
        return cls(int(dct["instance_id"]), dct["process_id"], dct["events"],
                   {int(k): v for k, v in dct["specs"].items()}, (int(dct["head"][0]), dct["head"][1]),
                   dct.get("state"), bool(dct.get("masked")))

    def masked_with(self, mask: Callable[[str, Any], Any]) -> CaseHistory:
        """A copy whose event data went through `mask` (key, value) and without the stored state (it holds the
        same personal data)."""
        events = [{**event, "data": {k: mask(k, v) for k, v in event["data"].items()}} for event in self.events]
        return CaseHistory(self.instance_id, self.process_id, events, self.specs, self.head, None, True)


@dataclass
class Divergence:
    """The first place where the record and its re-execution (or its chain) disagree."""

    seq: int | None
    what: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"event {self.seq}" if self.seq is not None else "case"
        return f"{where}: {self.what}: expected {self.expected}, found {self.found}"


@dataclass
class Verdict:
    """The result of verifying one case."""

    instance_id: int
    events: int
    divergence: Divergence | None = None
    digests: list[str] = field(default_factory=list)  # the re-executed state digest after each event
    links_only: bool = False  # a masked export: numbering and links checked, not hashes nor re-execution

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def __str__(self) -> str:
        if self.ok and self.links_only:
            return (f"case {self.instance_id}: links OK ({self.events} events; masked export: the hashes and the "
                    "re-execution need the unmasked export or the database)")
        if self.ok:
            return f"case {self.instance_id}: OK ({self.events} events)"
        return f"case {self.instance_id}: FAILED at {self.divergence}"


def history_from_db(session: Session, instance_id: int) -> CaseHistory:
    """Read a case's history from the database."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise LookupError(f"no case {instance_id}")
    rows = session.scalars(select(Event).where(Event.instance_id == instance_id).order_by(Event.seq, Event.id)).all()
    events = [{**history.hashed_fields(row), "hash": row.hash} for row in rows]
    version_ids = {instance.process_version_id, *(row.process_version_id for row in rows)}
    specs = {v.id: v.spec for v in session.scalars(select(ProcessVersion).where(ProcessVersion.id.in_(version_ids)))}
    return CaseHistory(instance.id, instance.process_id, events, specs,
                       (instance.event_count or 0, instance.last_event_hash), instance.state)


def histories_from_db(session: Session, instance_ids: list[int], batch: int = 500) -> Iterator[CaseHistory]:
    """The histories of many cases in the order given, read `batch` cases at a time (two queries a batch, and one
    for the specs not read yet): the specs are read once and shared, and no more than a batch is held."""
    specs: dict[int, str] = {}
    for start in range(0, len(instance_ids), batch):
        chunk = instance_ids[start:start + batch]
        instances = {row.id: row for row in session.scalars(select(Instance).where(Instance.id.in_(chunk)))}
        events: dict[int, list[dict[str, Any]]] = {case: [] for case in chunk}
        for row in session.scalars(select(Event).where(Event.instance_id.in_(chunk))
                                   .order_by(Event.instance_id, Event.seq, Event.id)):
            events[row.instance_id].append({**history.hashed_fields(row), "hash": row.hash})
        versions = {row.process_version_id for row in instances.values()}
        versions.update(event["version"] for case in events.values() for event in case)
        missing = versions - specs.keys()
        if missing:
            specs.update((version, spec) for version, spec in session.execute(
                select(ProcessVersion.id, ProcessVersion.spec).where(ProcessVersion.id.in_(missing))))
        for case in chunk:
            instance = instances.get(case)
            if instance is None:
                raise LookupError(f"no case {case}")
            used = {instance.process_version_id, *(event["version"] for event in events[case])}
            yield CaseHistory(instance.id, instance.process_id, events[case], {v: specs[v] for v in used},
                              (instance.event_count or 0, instance.last_event_hash), instance.state)
        session.expunge_all()


@functools.lru_cache(maxsize=64)
def parsed_spec(text: str) -> tuple[Any, dict[str, Any]]:
    """Specs rebuilt from their stored text, once per distinct text (many cases share a version)."""
    stored = json.loads(text)
    return (SERIALIZER.registry.restore(stored["spec"]),
            {k: SERIALIZER.registry.restore(v) for k, v in stored["subprocess_specs"].items()})


def verify(case: CaseHistory, helper_names: set[str] | None = None) -> Verdict:
    """Check the chain and head, re-execute the inputs, and compare every recorded state digest."""
    verdict = Verdict(case.instance_id, len(case.events), links_only=case.masked)
    if case.masked:
        verdict.divergence = _check_chain(case, hashes=False)
        return verdict
    verdict.divergence = _check_chain(case) or _replay(case, helper_names or set(), verdict.digests)
    return verdict


def _check_chain(case: CaseHistory, hashes: bool = True) -> Divergence | None:
    previous: str | None = None
    for number, event in enumerate(case.events, 1):
        if event["seq"] != number:
            return Divergence(number, "sequence number", str(number), str(event["seq"]))
        if event["instance"] != case.instance_id:
            return Divergence(number, "case", str(case.instance_id), str(event["instance"]))
        if event["prev_hash"] != previous:
            return Divergence(number, "link to the previous event", str(previous), str(event["prev_hash"]))
        fields = {k: v for k, v in event.items() if k != "hash"}
        if hashes and history.event_hash(fields) != event["hash"]:
            return Divergence(number, "hash of the recorded fields", event["hash"], history.event_hash(fields))
        previous = event["hash"]
    count, last = case.head
    if count != len(case.events) or last != previous:
        return Divergence(None, "chain head kept on the case", f"{count} events ending {last}",
                          f"{len(case.events)} events ending {previous}")
    return None


@dataclass
class StepView:
    """A case as its re-execution stood right after one recorded event: what an auditor steps through."""

    number: int  # the event's place in the history, from 1
    event: dict[str, Any]  # the recorded event
    version: int | None  # the diagram version the re-executed case runs on (None before it started)
    digest: str  # the re-executed state digest
    progress: Progress  # run counts per element, open elements with their states, flows taken so far
    data: dict[str, Any]  # the case data at this point, as people saw it (the recorded changes folded in order)
    changes: dict[str, Any]  # what the event changed, as recorded: key → [before, after]
    refused: Divergence | None = None  # why the re-execution could not go past this event

    @property
    def divergence(self) -> Divergence | None:
        """Where this step disagrees with the record: an input that could not be applied, or another state."""
        if self.refused is not None:
            return self.refused
        if self.digest != self.event["state_digest"]:
            return _state_divergence(self.event, self.digest)
        return None


def replay_steps(case: CaseHistory, helper_names: set[str] | None = None) -> Iterator[StepView]:
    """Re-execute a history and yield the case after each event, lazily (memory stays flat however long it is).

    Steps whose state disagrees with the record are yielded too, marked by `divergence`; the steps end early only
    at an input that cannot be applied at all.
    """
    replay = _Replay(case, helper_names or set(), watch=True)
    seen: dict[str, Any] = {}  # the case as people saw it: each step's recorded changes, in order
    for number, (event, refused) in enumerate(replay.run(), 1):
        progress = replay.progress
        changes = dict(event["data"].get("changes") or {})
        seen.update({key: pair[1] for key, pair in changes.items() if isinstance(pair, list) and len(pair) == 2})
        yield StepView(number, event, replay.version, replay.digest, progress, json.loads(canonical_json(seen)),
                       changes, refused)


class _Replay:
    """Re-executes a case's inputs on the specs it ran on, with the helper answers it recorded.

    With `watch`, it also keeps, after every applied input, where the case stands (for the step view).
    """

    def __init__(self, case: CaseHistory, helper_names: set[str], watch: bool = False):
        self.case = case
        self.helper_names = helper_names
        self.watch = watch
        self.workflow: BpmnWorkflow | None = None
        self.books = Bookkeeping()
        self.digest = ""
        self.version: int | None = None
        self.progress = Progress({}, {}, [])

    def specs(self, version_id: int) -> tuple[Any, dict[str, Any]]:
        return parsed_spec(self.case.specs[version_id])

    def run(self) -> Iterator[tuple[dict[str, Any], Divergence | None]]:
        """Re-execute every event in order, yielding each with why it could not be applied (then stopping)."""
        for event in self.case.events:
            refused = self._apply_recorded(event)
            yield event, refused
            if refused is not None:
                return

    def _apply_recorded(self, event: dict[str, Any]) -> Divergence | None:
        if event["type"] not in INPUT_EVENTS:
            return None  # changes no workflow state
        if event["version"] not in self.case.specs:
            return Divergence(event["seq"], "diagram version", f"version {event['version']}", "no such version")
        problem = self.apply(event)
        if problem is not None:
            return Divergence(event["seq"], f"re-executing {event['type']}", "the recorded input to apply", problem)
        return None

    def apply(self, event: dict[str, Any]) -> str | None:
        """Re-execute one input event; return why it could not be applied, if it could not."""
        engine = restricted_script_engine(playback_helpers(self.helper_names, event["data"].get("calls") or []))
        moment = datetime.fromisoformat(event["business_time"])
        action = self._actions().get(event["type"])
        if action is None:
            return None
        if event["type"] != history.STARTED and self.workflow is None:
            return "the case has no start event"
        if self.workflow is not None:
            self.workflow.script_engine = engine
        with business_time(moment):
            try:
                problem = action(event, engine)
            except (WorkflowException, SpiffWorkflowException):
                problem = None  # recorded as an incident in the original run too; the digest will tell
        if problem is None:
            assert self.workflow is not None
            snapshot = Snapshot.of(self.workflow)
            self.books.name_new_tasks(snapshot.activated)
            self.digest = state_digest(self.workflow, self.books, snapshot.open)
            if self.watch:  # read before pruning
                self.progress = Progress.of(self.workflow, self.books, snapshot.open)
            compact(self.workflow, self.books)  # as the engine does when it stores the state
        return problem

    def _actions(self) -> dict[str, Callable[[dict[str, Any], Any], str | None]]:
        return {history.STARTED: self._start, history.TASK_COMPLETED: self._complete,
                history.TIMER_FIRED: self._timers, history.MESSAGE_RECEIVED: self._message,
                history.INCIDENT_RESOLVED: self._retry, "incident_retried": self._retry,
                history.MIGRATED: self._migrate}

    def _start(self, event: dict[str, Any], engine: Any) -> str | None:
        spec, subprocess_specs = self.specs(event["version"])
        self.workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
        self.version = event["version"]
        self.workflow.task_tree.data.update(event["data"].get("data") or {})
        self.workflow.do_engine_steps()
        return None

    def _complete(self, event: dict[str, Any], _engine: Any) -> str | None:
        assert self.workflow is not None
        task = self.books.task_by_ref(self.workflow, event["task"] or "")
        if task is None or not task.has_state(TaskState.READY):
            return f"task {event['task']} is not open at this point"
        task.data.update(event["data"].get("submitted") or {})
        try:
            task.run()
        finally:
            self.workflow.do_engine_steps()
        return None

    def _timers(self, _event: dict[str, Any], _engine: Any) -> str | None:
        assert self.workflow is not None
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps()
        return None

    def _message(self, event: dict[str, Any], engine: Any) -> str | None:
        assert self.workflow is not None
        task = self.books.task_by_ref(self.workflow, event["task"] or "")
        if task is None:
            return f"no task {event['task']} waits for the message"
        definition = task.task_spec.event_definition
        payload = event["data"].get("payload") or {}
        self.workflow.send_event(BpmnEvent(definition, payload, definition.calculate_correlations(
            engine, definition.correlation_properties, payload)))
        self.workflow.do_engine_steps()
        return None

    def _migrate(self, event: dict[str, Any], _engine: Any) -> str | None:
        assert self.workflow is not None
        spec, subprocess_specs = self.specs(event["version"])
        self.workflow = rebase(self.workflow, self.books, spec, subprocess_specs)
        self.version = event["version"]
        return None

    def _retry(self, event: dict[str, Any], _engine: Any) -> str | None:
        assert self.workflow is not None
        for task in self.workflow.get_tasks(state=TaskState.ERROR):
            task.data.update(event["data"].get("corrected") or {})
            task.run()
        self.workflow.do_engine_steps()
        return None



def _replay(case: CaseHistory, helper_names: set[str], digests: list[str]) -> Divergence | None:
    replay = _Replay(case, helper_names)
    for event, refused in replay.run():
        if refused is not None:
            return refused
        digests.append(replay.digest)
        if replay.digest != event["state_digest"]:
            return _state_divergence(event, replay.digest)
    if case.state is not None and case.events and replay.workflow is not None:
        spec, subprocess_specs = replay.specs(case.events[-1]["version"])
        try:
            stored, books = StateCodec().load(case.state, spec, subprocess_specs)
            stored_digest = state_digest(stored, books)
        except (ValueError, KeyError, TypeError) as error:
            stored_digest = f"unreadable state ({error})"
        if stored_digest != case.events[-1]["state_digest"]:
            return Divergence(None, "stored workflow state", case.events[-1]["state_digest"], stored_digest)
    return None


def _state_divergence(event: dict[str, Any], found: str) -> Divergence:
    return Divergence(event["seq"], f"state after {event['type']} {event['task'] or ''}".rstrip(),
                      event["state_digest"], found)


def chain_heads(session: Session) -> list[list[Any]]:
    """[case id, event count, last event hash] of every case, by case id."""
    rows = session.execute(select(Instance.id, Instance.event_count, Instance.last_event_hash)
                           .order_by(Instance.id)).all()
    return [[row[0], row[1] or 0, row[2]] for row in rows]


def take_chain_digest(session: Session, now: datetime) -> ChainDigest:
    """Record a digest over every chain head (the caller commits); print or publish its `digest`."""
    heads = chain_heads(session)
    row = ChainDigest(taken_at=now, cases=len(heads), heads=heads,
                      digest=hashlib.sha256(canonical_json(heads).encode()).hexdigest())
    session.add(row)
    session.flush()
    return row


def check_chain_digests(session: Session) -> list[Divergence]:
    """Every case a stored digest saw must still exist, its chain at least as long and unchanged up to there."""
    problems: list[Divergence] = []
    for stored in session.scalars(select(ChainDigest).order_by(ChainDigest.id)):
        problem = _digest_problem(stored)
        if problem is not None:
            problems.append(problem)
            continue
        for case_id, count, last_hash in stored.heads:
            head = _head_problem(session, stored, case_id, count, last_hash)
            if head is not None:
                problems.append(head)
    return problems


@dataclass
class ChainStatus:
    """How one case stands against the newest stored chain digest."""

    digest: ChainDigest | None  # the newest digest; None when none has been taken
    covered: int  # how many of the case's events it saw (0: the case is newer than the digest, or was empty)
    problem: Divergence | None = None


def chain_status(session: Session, instance_id: int) -> ChainStatus:
    """Check one case against the newest chain digest (its chain cannot have been cut or rewritten since)."""
    stored = session.scalar(select(ChainDigest).order_by(ChainDigest.id.desc()).limit(1))
    if stored is None:
        return ChainStatus(None, 0)
    entry = next((head for head in stored.heads if head[0] == instance_id), None)
    problem = _digest_problem(stored)
    if problem is None and entry is not None:
        problem = _head_problem(session, stored, *entry)
    return ChainStatus(stored, entry[1] if entry is not None else 0, problem)


def _digest_problem(stored: ChainDigest) -> Divergence | None:
    if hashlib.sha256(canonical_json(stored.heads).encode()).hexdigest() == stored.digest:
        return None
    return Divergence(None, f"chain digest {stored.id} of {stored.taken_at:%Y-%m-%d}", stored.digest,
                      "a list of heads that does not hash to it")


def _head_problem(session: Session, stored: ChainDigest, case_id: int, count: int,
                  last_hash: str | None) -> Divergence | None:
    if count == 0:
        return None
    found = session.scalar(select(Event.hash).where(Event.instance_id == case_id, Event.seq == count))
    if found == last_hash:
        return None
    return Divergence(None, f"case {case_id} in the digest of {stored.taken_at:%Y-%m-%d}",
                      f"event {count} with hash {last_hash}", "no such event" if found is None else f"hash {found}")

"""The engine: start cases, complete human tasks, fire timers, deliver messages — one transaction a step."""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException, WorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import inspect, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import history
from .acts import ACT_TYPES, GATEWAY_DECIDED, TIMER_TRIGGERED, branch_data, read_acts, task_states
from .clock import Clock, business_time
from .errors import (
    Conflict,
    InvalidTaskData,
    MigrationRefused,
    NoMessageWaiting,
    TaskNotFound,
    TaskNotReady,
    TaskTaken,
    UnknownIncident,
    UnknownInstance,
)
from .models import HumanTask, Incident, Instance, MessageWait, ProcessVersion
from .projection import DONE_TASK, OPEN_TASK, project_message_waits, project_tasks
from .sandbox import restricted_script_engine
from .script_limits import ScriptLimits
from .snapshot import Snapshot, next_timer
from .snapshot import case_data as read_case_data
from .specs import SpecStore
from .state import OPEN, Bookkeeping, StateCodec, canonical_json, element_key, state_digest
from .versions import diff_specs, rebase, unsafe_moves

RUNNING, INCIDENT, COMPLETED = "running", "incident", "completed"
# SpiffWorkflow fires a timer only once the clock is strictly past its due time.
TIMER_RESOLUTION = timedelta(microseconds=1)


@dataclass
class StepResult:
    """What one engine step did to an instance."""

    instance: Instance
    events: list[history.Event] = field(default_factory=list)
    already_applied: bool = False
    incident: Incident | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the case data after the step
    open_tasks: list[HumanTask] | None = None  # the human tasks open after the step (None: not a workflow step)


Observer = Callable[["StepResult"], None]


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


@dataclass
class _Loaded:
    instance: Instance
    workflow: BpmnWorkflow
    books: Bookkeeping
    before: dict[str, Any]  # the case data as people saw it before the step
    states: dict[UUID, int] = field(default_factory=dict)  # every task's state before the step

    def roots(self, *tasks: Task) -> list[tuple[Task, dict[str, Any]]]:
        """Tasks whose branches this step moves on, each with its data before the step."""
        return [(task, copy.deepcopy(task.data)) for task in tasks]


class Engine:
    """Runs BPMN instances durably; the caller owns the session (and commits or rolls back each step)."""

    def __init__(self, session: Session, clock: Clock, specs: SpecStore,
                 helpers: Mapping[str, Callable[..., Any]] | None = None,
                 task_scope: Callable[[dict[str, Any]], str | None] | None = None,
                 observers: tuple[Observer, ...] = (), script_limits: ScriptLimits | None = None,
                 companions: tuple[type[Any], ...] = ()):
        self.session = session
        self.clock = clock
        self.specs = specs
        self.script_engine = restricted_script_engine(helpers, script_limits)
        self.task_scope = task_scope or (lambda _data: None)
        self.observers = observers  # called after every step, inside its transaction (e.g. domain projections)
        # Mapped classes keyed by the instance id that the observers update on every step (a domain projection):
        # a timer worker reads them in the query that takes the due row, so the step looks them up without a query.
        self.companions = companions
        self.codec = StateCodec()
        # Rows and deserialized states this engine (one request or unit of work) already has: held so that the
        # session's weak identity map keeps them, and so a case read then stepped is loaded and deserialized once.
        self._held: dict[int, Instance] = {}
        self._read: dict[int, tuple[str, _Loaded]] = {}
        self._kept: list[Any] = []  # companion rows read with the instance row, kept for the step's observers

    # -- starting -------------------------------------------------------------------------------------------
    def start(self, process_id: str, data: Mapping[str, Any], actor: str) -> StepResult:
        """Start an instance of the latest version of a process with initial data."""
        initial = _json_object(data, "start data")
        version = self.specs.current(self.session, process_id)
        if version is None:
            self.specs.latest(self.session, process_id)  # raises UnknownProcess with the message
        assert version is not None
        self._take_helper_calls()
        spec, subprocess_specs = self.specs.parsed(self.session, version.id)
        now = self.clock.now()
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(initial)
        instance = Instance(process_version_id=version.id, process_id=process_id, status=RUNNING, state="{}",
                            started_at=now, started_by=actor, updated_at=now, event_count=0)
        self.session.add(instance)
        self.session.flush()
        loaded = _Loaded(instance, workflow, Bookkeeping(), {})
        roots: list[tuple[Task, dict[str, Any]]] = [(workflow.task_tree, {})]
        with business_time(now):
            failure = self._run(lambda: workflow.do_engine_steps())
        return self._persist(loaded, now, actor, history.STARTED, {"data": initial}, None, failure, roots)

    # -- human tasks ----------------------------------------------------------------------------------------
    def complete_task(self, task_id: str, data: Mapping[str, Any], actor: str) -> StepResult:
        """Complete a READY human task with submitted data; a repeated identical submission is applied once.

        A task someone else completed first raises TaskTaken naming who; the same person's identical submission,
        applied already, answers `already_applied` instead of failing.
        """
        submitted = _json_object(data, "task data")
        task_row = self._task_row(task_id)
        key = _completion_key(actor, submitted)
        if task_row.status != OPEN_TASK:
            return self._settled(task_row, key)
        if task_row.claimed_by not in (None, actor):
            raise TaskTaken(f"task {task_id} is claimed by {task_row.claimed_by}; only they can complete it",
                            "claimed", task_row.claimed_by, task_row.claimed_at)
        loaded = self._load(task_row.instance_id)
        task = _find_task(loaded.workflow, task_id)
        if task is None or not task.has_state(TaskState.READY):
            # The case moved on after the task row was read: a completion committed in between. Say whose.
            return self._settled(self._fresh_task_row(task_id), key)
        ref = loaded.books.ref_of(task)
        now = self.clock.now()
        roots = loaded.roots(task)
        with business_time(now):
            task.data.update(submitted)
            failure = self._run(lambda: (task.run(), loaded.workflow.do_engine_steps()))
        task_row.status, task_row.completed_by, task_row.completed_at = DONE_TASK, actor, now
        task_row.completion_key = key
        return self._persist(loaded, now, actor, history.TASK_COMPLETED, {"submitted": submitted}, ref, failure,
                             roots)

    def _settled(self, task_row: HumanTask, key: str) -> StepResult:
        """Answer a completion of a task that is not open (any more): applied already, or refused saying why."""
        if task_row.status == DONE_TASK:
            if task_row.completion_key == key:
                return StepResult(self._instance(task_row.instance_id), already_applied=True)
            raise TaskTaken(f"task {task_row.id} was already completed by {task_row.completed_by} "
                            f"at {_show(task_row.completed_at)}", "completed", task_row.completed_by,
                            task_row.completed_at)
        if task_row.status == OPEN_TASK:
            raise Conflict(f"task {task_row.id} was changed by someone else just now; reload the case")
        raise TaskNotReady(f"task {task_row.id} is {task_row.status}; it can no longer be completed")

    def claim(self, task_id: str, actor: str) -> HumanTask:
        """Take an open task so that no one else works on it at the same time (of two claimers, one wins)."""
        task_row = self._task_row(task_id)
        if task_row.status != OPEN_TASK:
            raise TaskNotReady(f"task {task_id} is {task_row.status}; it cannot be claimed")
        # Compare and set in the database, whatever this transaction read before: a second claimer's update waits
        # for the first one's transaction and then matches no row.
        with self._conflicts():
            taken = self.session.execute(
                update(HumanTask).where(HumanTask.id == task_id, HumanTask.status == OPEN_TASK,
                                        or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == actor))
                .values(claimed_by=actor, claimed_at=self.clock.now()).execution_options(synchronize_session=False))
        task_row = self._fresh_task_row(task_id)
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            if task_row.status != OPEN_TASK:
                raise TaskNotReady(f"task {task_id} is {task_row.status}; it cannot be claimed")
            raise TaskTaken(f"task {task_id} is already claimed by {task_row.claimed_by}", "claimed",
                            task_row.claimed_by, task_row.claimed_at)
        self._log_on_task(task_row, history.TASK_CLAIMED, actor)
        return task_row

    def release(self, task_id: str, actor: str) -> HumanTask:
        """Give a claimed task back to everyone who may act on it."""
        task_row = self._task_row(task_id)
        if task_row.claimed_by != actor:
            raise TaskNotReady(f"task {task_id} is not claimed by {actor}")
        task_row.claimed_by, task_row.claimed_at = None, None
        self._log_on_task(task_row, history.TASK_RELEASED, actor)
        return task_row

    # -- time -------------------------------------------------------------------------------------------------
    def due_instances(self, now: datetime, limit: int = 100) -> list[int]:
        """Ids of instances whose next timer is due at `now`, found through the indexed column."""
        # Only unfinished cases have a next timer (a case with an incident keeps its other branches' deadlines),
        # so the indexed column alone finds them.
        query = (select(Instance.id).where(Instance.next_timer_at < now)
                 .order_by(Instance.next_timer_at).limit(limit))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(self.session.scalars(query))

    def fire_timers(self, instance_id: int, now: datetime, actor: str = "timer") -> StepResult:
        """Fire every timer of one instance that is due at `now`."""
        loaded = self._load(instance_id)
        with business_time(now):
            failure = self._run(lambda: (loaded.workflow.refresh_timers(), loaded.workflow.do_engine_steps()))
        # The timers that fired are read off the step (`_persist` fills in the list).
        return self._persist(loaded, now, actor, history.TIMER_FIRED, {"timers": []}, None, failure)

    def fire_due(self, now: datetime | None = None) -> list[StepResult]:
        """Fire the due timers of every instance at `now` (default: the clock's time), in this transaction."""
        moment = now or self.clock.now()
        return [self.fire_timers(instance_id, moment) for instance_id in self.due_instances(moment)]

    def fire_next_due(self, now: datetime | None = None) -> StepResult | None:
        """Fire the timers of one due instance (locked, skipping those other workers hold); None if none is due."""
        moment = now or self.clock.now()
        # The due row itself, locked, in the one query that finds it (through the indexed next_timer_at), with
        # the companion rows of the case (by primary key) so that the step reads nothing more before it writes.
        query = select(Instance, *self.companions)
        for companion in self.companions:
            query = query.outerjoin(companion, inspect(companion).primary_key[0] == Instance.id)
        query = query.where(Instance.next_timer_at < moment).order_by(Instance.next_timer_at).limit(1)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Instance, skip_locked=True)
        row = self.session.execute(query).first()
        if row is None:
            return None
        instance, *companions = row
        self._kept = [companion for companion in companions if companion is not None]
        return self.fire_timers(self.hold(instance).id, moment)

    def next_due(self, until: datetime, after: datetime | None = None) -> datetime | None:
        """The earliest timer due at or before `until` (and after `after`, if given), over all running instances."""
        query = select(Instance.next_timer_at).where(Instance.next_timer_at <= until)
        if after is not None:
            query = query.where(Instance.next_timer_at > after)
        return self.session.scalar(query.order_by(Instance.next_timer_at).limit(1))

    def run_until(self, target: datetime, move_clock: Callable[[datetime], None]) -> list[StepResult]:
        """Move a simulated clock to `target`, firing each timer at its own due time on the way.

        A timer due exactly at `target` fires too, one microsecond past it (SpiffWorkflow fires only once the
        clock has passed the due time), and the clock then stays there.
        """
        results: list[StepResult] = []
        while (due := self.next_due(target)) is not None:
            moment = due + TIMER_RESOLUTION
            move_clock(max(moment, self.clock.now()))
            for instance_id in self.due_instances(moment):
                results.append(self.fire_timers(instance_id, moment))
            self.session.flush()
        move_clock(max(target, self.clock.now()))
        return results

    # -- messages ---------------------------------------------------------------------------------------------
    def deliver_message(self, name: str, payload: Mapping[str, Any], correlation: Mapping[str, Any],
                        actor: str) -> list[StepResult]:
        """Deliver a named message to every instance waiting for it whose data matches the correlation keys."""
        body = _json_object(payload, "message payload")
        keys = _json_object(correlation, "correlation keys")
        candidates = self.session.scalars(select(MessageWait.instance_id)
                                          .where(MessageWait.message_name == name)).all()
        results = []
        for instance_id in sorted(candidates):
            loaded = self._load(instance_id)
            waiting = self._waiting_for(loaded.workflow, name, keys)
            if waiting is None:
                continue
            now = self.clock.now()
            roots = loaded.roots(waiting)
            definition = waiting.task_spec.event_definition
            with business_time(now):
                event = BpmnEvent(definition, body, definition.calculate_correlations(
                    self.script_engine, definition.correlation_properties, body))
                failure = self._run(functools.partial(_deliver, loaded.workflow, event))
            results.append(self._persist(loaded, now, actor, history.MESSAGE_RECEIVED,
                                         {"message": name, "payload": body, "correlation": keys},
                                         loaded.books.ref_of(waiting), failure, roots))
        if not results:
            raise NoMessageWaiting(f"no case waits for the message '{name}' with {canonical_json(keys)}")
        return results

    @staticmethod
    def _waiting_for(workflow: BpmnWorkflow, name: str, keys: Mapping[str, Any]) -> Task | None:
        for task in workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            if definition is None or getattr(definition, "name", None) != name:
                continue
            if all(task.data.get(k) == v for k, v in keys.items()):
                return task
        return None

    # -- incidents --------------------------------------------------------------------------------------------
    def retry_incident(self, incident_id: int, actor: str, data: Mapping[str, Any] | None = None,
                       reason: str | None = None) -> StepResult:
        """Run the failed step again once its cause is fixed, optionally with data an administrator corrected.

        Corrected data needs a reason; both are recorded on the case with the administrator's name.
        """
        incident = self.session.get(Incident, incident_id)
        if incident is None or incident.status != "open":
            raise UnknownIncident(f"no open incident {incident_id}")
        patch = _json_object(data or {}, "corrected data")
        if patch and not (reason or "").strip():
            raise InvalidTaskData("corrected data needs a reason (it is recorded with the correction)")
        loaded = self._load(incident.instance_id)
        now = self.clock.now()
        failed = loaded.workflow.get_tasks(state=TaskState.ERROR)
        roots = loaded.roots(*failed)

        def again() -> None:
            for task in failed:
                task.data.update(patch)
                task.run()
            loaded.workflow.do_engine_steps()

        with business_time(now):
            failure = self._run(again)
        # A retry that fails again closes this incident: the one raised for the new failure replaces it.
        incident.status = "resolved" if failure is None else "retried"
        incident.resolved_at, incident.resolved_by = now, actor
        return self._persist(loaded, now, actor, history.INCIDENT_RESOLVED if failure is None else "incident_retried",
                             {"incident": incident_id, "corrected": patch, **({"reason": reason} if reason else {})},
                             incident.task_ref, failure, roots)

    # -- versions ---------------------------------------------------------------------------------------------
    def migrate(self, instance_id: int, version_id: int, actor: str) -> StepResult:
        """Move an unfinished case to another version of its process, if nothing it ran or runs has changed."""
        loaded = self._load(instance_id)
        instance = loaded.instance
        current = self.session.get(ProcessVersion, instance.process_version_id)
        target = self.session.get(ProcessVersion, version_id)
        if target is None or current is None or target.process_id != current.process_id:
            raise MigrationRefused(f"case {instance_id} runs {instance.process_id}; version id {version_id} "
                                   "is not a version of that process")
        if instance.status == COMPLETED:
            raise MigrationRefused(f"case {instance_id} is completed; only running cases move")
        if target.id == current.id:
            raise MigrationRefused(f"case {instance_id} already runs version {target.version}")
        diff = diff_specs(current.spec, target.spec)
        reasons = unsafe_moves(diff, loaded.books)
        if reasons:
            raise MigrationRefused(f"case {instance_id} cannot move to v{target.version}: it ran or is running "
                                   f"elements that changed: {'; '.join(reasons)}")
        spec, subprocess_specs = self.specs.parsed(self.session, target.id)
        now = self.clock.now()
        with business_time(now):
            loaded.workflow = rebase(loaded.workflow, loaded.books, spec, subprocess_specs)
        instance.process_version_id = target.id
        return self._persist(loaded, now, actor, history.MIGRATED,
                             {"from_version": current.version, "to_version": target.version,
                              "diff": diff.summary()}, None, None)

    # -- reading ----------------------------------------------------------------------------------------------
    def resolve_task_id(self, given: str) -> str:
        """The full id of a task given by its id, a unique prefix of 6+ characters, or `CASE/ELEMENT`."""
        if self.session.get(HumanTask, given) is not None:
            return given
        case_id, _, element = given.partition("/")
        if element and case_id.isdigit():
            found = self.session.scalars(select(HumanTask.id).where(
                HumanTask.instance_id == int(case_id), HumanTask.element_id == element,
                HumanTask.status == OPEN_TASK).limit(2)).all()
            if len(found) != 1:
                raise TaskNotFound(f"case {case_id} has no open task '{element}'" if not found
                                   else f"case {case_id} has several open '{element}' tasks; give the task id")
            return found[0]
        if len(given) < 6:
            raise TaskNotFound(f"no task {given} (give at least 6 characters of its id)")
        matches = self.session.scalars(select(HumanTask.id).where(HumanTask.id.startswith(given)).limit(2)).all()
        if len(matches) != 1:
            raise TaskNotFound(f"no task {given}" if not matches else f"the prefix {given} fits several tasks")
        return matches[0]

    def open_incident(self, instance_id: int) -> Incident:
        """The open incident of a case."""
        incident = self.session.scalar(select(Incident).where(Incident.instance_id == instance_id,
                                                              Incident.status == "open").order_by(Incident.id))
        if incident is None:
            raise UnknownIncident(f"case {instance_id} has no open incident")
        return incident

    def instance(self, instance_id: int) -> Instance:
        """An instance row (no workflow state is deserialized)."""
        return self._instance(instance_id)

    def case_data(self, instance_id: int) -> dict[str, Any]:
        """The case data as people see it: every step's changes in order (deserializes its state, once: a step
        of the same case that follows in this unit of work reuses it)."""
        loaded = self._load(instance_id)
        self._read[instance_id] = (loaded.instance.state, loaded)
        return dict(loaded.before)

    def hold(self, instance: Instance) -> Instance:
        """Keep a row loaded elsewhere (e.g. joined to its task) for this engine's steps."""
        self._held[instance.id] = instance
        return instance

    def open_tasks(self, instance_id: int | None = None, lane: str | None = None) -> list[HumanTask]:
        """Open human tasks from the projection, oldest first."""
        query = select(HumanTask).where(HumanTask.status == OPEN_TASK)
        if instance_id is not None:
            query = query.where(HumanTask.instance_id == instance_id)
        if lane is not None:
            query = query.where(HumanTask.lane == lane)
        return list(self.session.scalars(query.order_by(HumanTask.created_at, HumanTask.ref)))

    def element_counts(self, instance_id: int) -> dict[str, int]:
        """How many times each element ran (or is running) in an instance."""
        return self.progress(instance_id).counts

    def taken_flows(self, instance_id: int) -> list[str]:
        """Every sequence flow an instance has taken, as "process:source->target"."""
        return self.progress(instance_id).flows

    def progress(self, instance_id: int) -> Progress:
        """Where a case stands on its diagram: run counts, open elements with their states, flows taken."""
        loaded = self._load(instance_id)
        return Progress.of(loaded.workflow, loaded.books)

    # -- internals --------------------------------------------------------------------------------------------
    def _task_row(self, task_id: str) -> HumanTask:
        task_row = self.session.get(HumanTask, task_id)
        if task_row is None:
            raise TaskNotFound(f"no task {task_id}")
        return task_row

    def _fresh_task_row(self, task_id: str) -> HumanTask:
        """The task row as the database has it now (not as this session first read it)."""
        return self.session.execute(select(HumanTask).where(HumanTask.id == task_id)
                                    .execution_options(populate_existing=True)).scalar_one()

    def _instance(self, instance_id: int) -> Instance:
        instance = self._held.get(instance_id) or self.session.get(Instance, instance_id)
        if instance is None:
            raise UnknownInstance(f"no case {instance_id}")
        self._held[instance_id] = instance
        return instance

    def _load(self, instance_id: int) -> _Loaded:
        self._take_helper_calls()
        instance = self._instance(instance_id)
        read = self._read.pop(instance_id, None)
        if read is not None and read[0] is instance.state and read[1].instance is instance:
            return read[1]  # deserialized by case_data() in this unit of work, and unchanged since
        spec, subprocess_specs = self.specs.parsed(self.session, instance.process_version_id)
        workflow, books = self.codec.load(instance.state, spec, subprocess_specs)
        workflow.script_engine = self.script_engine
        before = books.case if books.case is not None else read_case_data(workflow)
        return _Loaded(instance, workflow, books, before, task_states(workflow))

    @staticmethod
    def _run(step: Callable[[], Any]) -> SpiffWorkflowException | None:
        try:
            step()
        except (WorkflowException, SpiffWorkflowException) as error:
            return error
        return None

    def record(self, instance_id: int, type_: str, actor: str, data: Mapping[str, Any] | None = None,
               task_ref: str | None = None) -> history.Event:
        """Append an event that changes no workflow state (a claim, a view of personal data, a rating...)."""
        instance = self._instance(instance_id)
        event = history.record(self.session, instance, type_, actor, self.clock.now(), self._last_digest(instance),
                               _json_object(data or {}, "event data"), task_ref)
        self._flush()
        return event

    def _log_on_task(self, task_row: HumanTask, type_: str, actor: str) -> None:
        self.record(task_row.instance_id, type_, actor, {}, task_row.ref)

    def _last_digest(self, instance: Instance) -> str:
        event = self.session.scalar(select(history.Event.state_digest)
                                    .where(history.Event.instance_id == instance.id)
                                    .order_by(history.Event.seq.desc()).limit(1))
        return event or ""

    def _persist(self, loaded: _Loaded, now: datetime, actor: str, type_: str, data: dict[str, Any],
                 task_ref: str | None, failure: SpiffWorkflowException | None,
                 roots: list[tuple[Task, dict[str, Any]]] | None = None) -> StepResult:
        instance, workflow, books = loaded.instance, loaded.workflow, loaded.books
        snapshot = Snapshot.of(workflow)
        books.name_new_tasks(snapshot.activated)
        acts = read_acts(workflow, books, loaded.states)
        changes = self._changes(loaded, acts, roots or [], data.get("submitted") or {})
        after = {**loaded.before, **{key: value[1] for key, value in changes.items()}}
        books.case = _jsonable(after)
        if type_ == history.TIMER_FIRED:
            data = {**data, "timers": acts.timers}
        decisions = {act.ref: act.data["took"] for act in acts.acts if act.type == GATEWAY_DECIDED}
        if decisions:  # every step passes gateways: their choices ride on the step's own event
            data = {**data, "decisions": decisions}
        digest = state_digest(workflow, books, snapshot.open)
        result = StepResult(instance, data=after)
        calls = self._take_helper_calls()
        recorded = {**data, "changes": _jsonable(changes), **({"calls": _jsonable(calls)} if calls else {})}
        result.events.append(history.record(self.session, instance, type_, actor, now, digest, recorded, task_ref))
        for act in acts.acts:
            if act.type == GATEWAY_DECIDED or (type_ == history.TIMER_FIRED and act.type == TIMER_TRIGGERED) \
                    or act.ref == task_ref:
                continue  # the step's own event already says so
            assert act.type in ACT_TYPES
            result.events.append(history.record(self.session, instance, act.type, actor, now, digest,
                                                _jsonable(act.data), act.ref))
        if failure is not None:
            result.incident = self._raise_incident(instance, snapshot, books, failure, now)
            result.events.append(history.record(
                self.session, instance, history.INCIDENT_RAISED, actor, now, digest,
                {"incident": result.incident.id, "element": result.incident.element_id,
                 "line": result.incident.line, "message": result.incident.message}, result.incident.task_ref))
        completed = workflow.is_completed()
        instance.status = COMPLETED if completed else (INCIDENT if snapshot.errored or failure is not None
                                                       else RUNNING)
        if completed and instance.completed_at is None:
            instance.completed_at = now
            ending = {"end": acts.ends[-1] if acts.ends else None, "ends": acts.ends, "terminate": acts.terminate}
            result.events.append(history.record(self.session, instance, history.COMPLETED, actor, now, digest,
                                                {**ending, "data": _jsonable(workflow.data or after)}))
        result.open_tasks = project_tasks(self.session, instance, snapshot, books, now, self.task_scope)
        waiting = workflow.waiting_events()
        instance.next_timer_at = next_timer(waiting)
        project_message_waits(self.session, instance, waiting, books)
        instance.updated_at = now
        instance.state = self.codec.dump(workflow, books)
        for observer in self.observers:
            observer(result)
        # One flush writes the instance (its row version checked first), events and projections together.
        self._flush()
        self._held.clear()  # a long unit of work (a simulation) keeps no more than the case in hand
        self._read.clear()
        self._kept.clear()
        return result

    @staticmethod
    def _changes(loaded: _Loaded, acts: Any, roots: list[tuple[Task, dict[str, Any]]],
                 submitted: dict[str, Any]) -> dict[str, list[Any]]:
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

    def _take_helper_calls(self) -> list[list[Any]]:
        environment = self.script_engine.environment
        calls = list(getattr(environment, "calls", []))
        if calls:
            environment.calls = []
        return calls

    def _raise_incident(self, instance: Instance, snapshot: Snapshot, books: Bookkeeping,
                        failure: SpiffWorkflowException, now: datetime) -> Incident:
        task = getattr(failure, "task", None)
        if task is None and snapshot.errored:
            task = snapshot.errored[0]
        line = getattr(failure, "line_number", None)
        element = getattr(task.task_spec, "bpmn_id", None) if task is not None else None
        incident = Incident(instance_id=instance.id, element_id=element,
                            task_ref=books.ref_of(task) if task is not None else None,
                            line=line if isinstance(line, int) and line > 0 else None,
                            message=_plain_message(failure), status="open", raised_at=now)
        self.session.add(incident)
        self._flush()
        return incident

    def _flush(self) -> None:
        with self._conflicts():
            self.session.flush()

    @staticmethod
    @contextlib.contextmanager
    def _conflicts() -> Iterator[None]:
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


def _find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    """The task of that id in the workflow or its subprocesses; None when it is gone (SpiffWorkflow raises)."""
    try:
        return workflow.get_task_from_id(UUID(task_id))  # type: ignore[no-any-return]
    except TaskNotFoundException:
        return None


def _deliver(workflow: BpmnWorkflow, event: BpmnEvent) -> None:
    workflow.send_event(event)
    workflow.do_engine_steps()


def _json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidTaskData(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidTaskData(f"{what} must contain only JSON values: {error}") from error
    loaded: dict[str, Any] = json.loads(text)
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise InvalidTaskData(f"{what} keys must be strings: {bad!r}")
    return loaded


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _completion_key(actor: str, data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"actor": actor, "data": data}).encode()).hexdigest()


def _plain_message(failure: Exception) -> str:
    lines = [str(failure).split("\n")[0]]
    # SpiffWorkflow says only "Error evaluating expression ..." for conditions and timers: add why.
    cause = failure.__cause__ or failure.__context__
    if cause is not None and not isinstance(cause, SpiffWorkflowException) and str(cause) not in lines[0]:
        lines.append(f"{type(cause).__name__}: {cause}")
    if getattr(failure, "error_line", None):
        lines.append(f"at: {failure.error_line}")  # type: ignore[attr-defined]
    return " — ".join(line for line in lines if line)


def _show(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "?"

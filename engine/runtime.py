"""The engine: start cases, complete human tasks, fire timers, deliver messages — one transaction a step."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import inspect, or_, select, update
from sqlalchemy.orm import Session

from . import history
from .acts import task_states
from .clock import Clock, business_time
from .errors import (
    Conflict,
    InvalidTaskData,
    MigrationRefused,
    NoMessageWaiting,
    TaskNotReady,
    TaskTaken,
    UnknownIncident,
    UnknownInstance,
)
from .incidents import open_incident
from .json_data import completion_key, json_object
from .models import HumanTask, Incident, Instance, MessageWait, ProcessVersion
from .progress import Progress
from .projection import DONE_TASK, OPEN_TASK, fresh_task_row, get_task_row, open_task_rows, resolve_task_id
from .sandbox import restricted_script_engine
from .script_limits import ScriptLimits
from .snapshot import case_data as read_case_data
from .snapshot import find_task, waiting_for
from .specs import SpecStore
from .state import Bookkeeping, StateCodec, canonical_json
from .step import COMPLETED, RUNNING, LoadedCase, Observer, Roots, StepResult, conflicts, flush, write_step
from .versions import diff_specs, rebase, unsafe_moves

# SpiffWorkflow fires a timer only once the clock is strictly past its due time.
TIMER_RESOLUTION = timedelta(microseconds=1)


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
        self._read: dict[int, tuple[str, LoadedCase]] = {}
        self._kept: list[Any] = []  # companion rows read with the instance row, kept for the step's observers

    # -- starting -------------------------------------------------------------------------------------------
    def start(self, process_id: str, data: Mapping[str, Any], actor: str) -> StepResult:
        """Start an instance of the latest version of a process with initial data."""
        initial = json_object(data, "start data")
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
        loaded = LoadedCase(instance, workflow, Bookkeeping(), {})
        roots: Roots = [(workflow.task_tree, {})]
        with business_time(now):
            failure = self._run(lambda: workflow.do_engine_steps())
        return self._persist(loaded, now, actor, history.STARTED, {"data": initial}, None, failure, roots)

    # -- human tasks ----------------------------------------------------------------------------------------
    def complete_task(self, task_id: str, data: Mapping[str, Any], actor: str) -> StepResult:
        """Complete a READY human task with submitted data; a repeated identical submission is applied once.

        A task someone else completed first raises TaskTaken naming who; the same person's identical submission,
        applied already, answers `already_applied` instead of failing.
        """
        submitted = json_object(data, "task data")
        task_row = get_task_row(self.session, task_id)
        key = completion_key(actor, submitted)
        if task_row.status != OPEN_TASK:
            return self._settled(task_row, key)
        if task_row.claimed_by not in (None, actor):
            raise TaskTaken(f"task {task_id} is claimed by {task_row.claimed_by}; only they can complete it",
                            "claimed", task_row.claimed_by, task_row.claimed_at)
        loaded = self._load(task_row.instance_id)
        task = find_task(loaded.workflow, task_id)
        if task is None or not task.has_state(TaskState.READY):
            # The case moved on after the task row was read: a completion committed in between. Say whose.
            return self._settled(fresh_task_row(self.session, task_id), key)
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
        task_row = get_task_row(self.session, task_id)
        if task_row.status != OPEN_TASK:
            raise TaskNotReady(f"task {task_id} is {task_row.status}; it cannot be claimed")
        # Compare and set in the database, whatever this transaction read before: a second claimer's update waits
        # for the first one's transaction and then matches no row.
        with conflicts():
            taken = self.session.execute(
                update(HumanTask).where(HumanTask.id == task_id, HumanTask.status == OPEN_TASK,
                                        or_(HumanTask.claimed_by.is_(None), HumanTask.claimed_by == actor))
                .values(claimed_by=actor, claimed_at=self.clock.now()).execution_options(synchronize_session=False))
        task_row = fresh_task_row(self.session, task_id)
        if taken.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
            if task_row.status != OPEN_TASK:
                raise TaskNotReady(f"task {task_id} is {task_row.status}; it cannot be claimed")
            raise TaskTaken(f"task {task_id} is already claimed by {task_row.claimed_by}", "claimed",
                            task_row.claimed_by, task_row.claimed_at)
        self._log_on_task(task_row, history.TASK_CLAIMED, actor)
        return task_row

    def release(self, task_id: str, actor: str) -> HumanTask:
        """Give a claimed task back to everyone who may act on it."""
        task_row = get_task_row(self.session, task_id)
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
        body = json_object(payload, "message payload")
        keys = json_object(correlation, "correlation keys")
        candidates = self.session.scalars(select(MessageWait.instance_id)
                                          .where(MessageWait.message_name == name)).all()
        results = []
        for instance_id in sorted(candidates):
            loaded = self._load(instance_id)
            waiting = waiting_for(loaded.workflow, name, keys)
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

    # -- incidents --------------------------------------------------------------------------------------------
    def retry_incident(self, incident_id: int, actor: str, data: Mapping[str, Any] | None = None,
                       reason: str | None = None) -> StepResult:
        """Run the failed step again once its cause is fixed, optionally with data an administrator corrected.

        Corrected data needs a reason; both are recorded on the case with the administrator's name.
        """
        incident = self.session.get(Incident, incident_id)
        if incident is None or incident.status != "open":
            raise UnknownIncident(f"no open incident {incident_id}")
        patch = json_object(data or {}, "corrected data")
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
        return resolve_task_id(self.session, given)

    def open_incident(self, instance_id: int) -> Incident:
        """The open incident of a case."""
        return open_incident(self.session, instance_id)

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
        return open_task_rows(self.session, instance_id, lane)

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
    def _instance(self, instance_id: int) -> Instance:
        instance = self._held.get(instance_id) or self.session.get(Instance, instance_id)
        if instance is None:
            raise UnknownInstance(f"no case {instance_id}")
        self._held[instance_id] = instance
        return instance

    def _load(self, instance_id: int) -> LoadedCase:
        self._take_helper_calls()
        instance = self._instance(instance_id)
        read = self._read.pop(instance_id, None)
        if read is not None and read[0] is instance.state and read[1].instance is instance:
            return read[1]  # deserialized by case_data() in this unit of work, and unchanged since
        spec, subprocess_specs = self.specs.parsed(self.session, instance.process_version_id)
        workflow, books = self.codec.load(instance.state, spec, subprocess_specs)
        workflow.script_engine = self.script_engine
        before = books.case if books.case is not None else read_case_data(workflow)
        return LoadedCase(instance, workflow, books, before, task_states(workflow))

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
                               json_object(data or {}, "event data"), task_ref)
        flush(self.session)
        return event

    def _log_on_task(self, task_row: HumanTask, type_: str, actor: str) -> None:
        self.record(task_row.instance_id, type_, actor, {}, task_row.ref)

    def _last_digest(self, instance: Instance) -> str:
        event = self.session.scalar(select(history.Event.state_digest)
                                    .where(history.Event.instance_id == instance.id)
                                    .order_by(history.Event.seq.desc()).limit(1))
        return event or ""

    def _persist(self, loaded: LoadedCase, now: datetime, actor: str, type_: str, data: dict[str, Any],
                 task_ref: str | None, failure: SpiffWorkflowException | None,
                 roots: Roots | None = None) -> StepResult:
        """Write the step that ran on `loaded` (engine/step.py), then let go of the rows held for it."""
        result = write_step(self.session, self.codec, loaded, now, actor, type_, data, task_ref, failure, roots or [],
                            self._take_helper_calls(), self.task_scope, self.observers)
        self._held.clear()  # a long unit of work (a simulation) keeps no more than the case in hand
        self._read.clear()
        self._kept.clear()
        return result

    def _take_helper_calls(self) -> list[list[Any]]:
        environment = self.script_engine.environment
        calls = list(getattr(environment, "calls", []))
        if calls:
            environment.calls = []
        return calls


def _deliver(workflow: BpmnWorkflow, event: BpmnEvent) -> None:
    workflow.send_event(event)
    workflow.do_engine_steps()


def _show(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "?"

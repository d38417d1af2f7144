"""Start and inspect cases; list and complete human tasks."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from engine import MigrationRefused
from engine.catalog import version_row
from engine.models import Event, HumanTask, Incident, Instance, ProcessVersion
from workflows.cases.task_work import complete_for

from ..cli_support import emit, local, parse_json, services, user_errors


@click.group()
def case() -> None:
    """Start and inspect cases."""


@case.command("start")
@click.argument("process_id")
@click.option("--data", default="{}", show_default=True, help="Initial case data (JSON object).")
@click.option("--as", "actor", required=True, help="Who starts the case.")
@click.pass_context
@user_errors
def case_start(ctx: click.Context, process_id: str, data: str, actor: str) -> None:
    """Start a case of the newest version of PROCESS_ID."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        result = engine.start(process_id, parse_json(data, "--data"), actor)
        tasks = engine.open_tasks(result.instance.id)
        payload = _case_payload(result.instance, tasks)
    emit(ctx, payload, f"case {result.instance.id} started ({result.instance.status})\n" + _task_lines(tasks))


@case.command("show")
@click.argument("case_id", type=int)
@click.pass_context
@user_errors
def case_show(ctx: click.Context, case_id: int) -> None:
    """Show a case: status, open tasks, incidents and its event history."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        instance = engine.instance(case_id)
        tasks = engine.open_tasks(case_id)
        events = session.scalars(select(Event).where(Event.instance_id == case_id).order_by(Event.seq)).all()
        incidents = session.scalars(select(Incident).where(Incident.instance_id == case_id,
                                                           Incident.status == "open")).all()
        data = engine.case_data(case_id)
        version = session.get(ProcessVersion, instance.process_version_id)
        payload = {**_case_payload(instance, tasks), "version": version.version if version else None, "data": data,
                   "incidents": [{"id": i.id, "element": i.element_id, "line": i.line, "message": i.message}
                                 for i in incidents],
                   "events": [{"seq": e.seq, "type": e.type, "business_time": e.business_time, "actor": e.actor,
                               "task": e.task_ref, "data": e.data} for e in events]}
    text = [f"case {instance.id}: {instance.process_id} v{payload['version']} — "
            f"{instance.status}", f"started {local(instance.started_at)} by {instance.started_by}",
            f"next timer: {local(instance.next_timer_at)}", "open tasks:", _task_lines(tasks)]
    text += [f"incident {i.id}: {i.element_id} line {i.line or '-'}: {i.message}" for i in incidents]
    text.append("history:")
    text += [f"  {e.seq:3} {local(e.business_time)} {e.type:<16} {e.actor:<14} "
             f"{e.task_ref or ', '.join(e.data.get('timers') or [])}"
             f"{_changes(e.data)}" for e in events]
    emit(ctx, payload, "\n".join(text))


@case.command("migrate")
@click.argument("case_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Every running case of the process.")
@click.option("--process", "process_id", help="With --all: the process whose cases move.")
@click.option("--to", "number", type=int, required=True, help="The version number to move to.")
@click.option("--as", "actor", required=True, help="Who moves the cases (recorded).")
@click.pass_context
@user_errors
def case_migrate(ctx: click.Context, case_id: int | None, every: bool, process_id: str | None, number: int,
                 actor: str) -> None:
    """Move running cases to another version where that is safe; refuse the others with the reason."""
    if (case_id is None) == (not every) or (every and not process_id):
        raise click.UsageError("give CASE_ID, or --all with --process")
    svc = services(ctx)
    moved, refused = [], []
    with svc.unit_of_work() as session:
        ids = [case_id] if case_id is not None else list(session.scalars(
            select(Instance.id).where(Instance.process_id == process_id, Instance.status != "completed")))
        process = process_id or svc.engine(session).instance(ids[0]).process_id
        target = version_row(session, process, number)
    for one in ids:  # one transaction per case: a refusal never undoes another case's move
        try:
            with svc.unit_of_work() as session:
                svc.engine(session).migrate(one, target.id, actor)
            moved.append(one)
        except MigrationRefused as error:
            refused.append((one, str(error)))
    lines = [f"case {one}: moved to v{number}" for one in moved] + [f"case {one}: refused — {why}"
                                                                     for one, why in refused]
    emit(ctx, {"moved": moved, "refused": [{"case": c, "reason": r} for c, r in refused]},
         "\n".join(lines) or "no running case to move")
    if refused and case_id is not None:
        ctx.exit(1)


@case.command("retry")
@click.argument("case_id", type=int)
@click.option("--data", default="{}", show_default=True, help="Corrected case data (JSON object).")
@click.option("--reason", help="Why the data is corrected (required with --data; recorded).")
@click.option("--as", "actor", required=True, help="The administrator who retries (recorded).")
@click.pass_context
@user_errors
def case_retry(ctx: click.Context, case_id: int, data: str, reason: str | None, actor: str) -> None:
    """Run a case's failed step again after its cause is fixed, optionally with corrected data."""
    svc = services(ctx)
    corrected = parse_json(data, "--data")
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        incident = engine.open_incident(case_id)
        result = engine.retry_incident(incident.id, actor, corrected, reason)
        tasks = engine.open_tasks(case_id)
        payload = {**_case_payload(result.instance, tasks),
                   "incident": result.incident.message if result.incident else None}
    head = (f"the step failed again: {result.incident.message}" if result.incident
            else f"incident {incident.id} resolved")
    emit(ctx, payload, f"{head}. case {case_id} is {result.instance.status}\n" + _task_lines(tasks))


@click.group()
def task() -> None:
    """List and complete human tasks."""


@task.command("list")
@click.option("--case", "case_id", type=int, help="Only this case's tasks.")
@click.option("--lane", help="Only tasks of this lane (role), e.g. 分管领导.")
@click.pass_context
@user_errors
def task_list(ctx: click.Context, case_id: int | None, lane: str | None) -> None:
    """List open human tasks (from the task table; no workflow state is loaded)."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        tasks = svc.engine(session).open_tasks(case_id, lane)
        payload = [_task_payload(t) for t in tasks]
    emit(ctx, payload, _task_lines(tasks))


@task.command("complete")
@click.argument("task_id")
@click.option("--data", default="{}", show_default=True, help="Submitted form data (JSON object).")
@click.option("--as", "actor", required=True, help="Who completes the task.")
@click.pass_context
@user_errors
def task_complete(ctx: click.Context, task_id: str, data: str, actor: str) -> None:
    """Complete TASK_ID: its id, a unique prefix of 6+ characters, or CASE/ELEMENT (e.g. 1/hear_claim).

    The data is checked as on the task page, by the form and the domain's rules (units and people become org
    codes, deadlines stay within the statutory limit); a refusal names the field and changes nothing. The access
    rules are not applied: the operator answers for the person named by --as, who is recorded.
    """
    svc = services(ctx)
    submitted = parse_json(data, "--data")
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        full_id = engine.resolve_task_id(task_id)
        result = complete_for(session, engine, full_id, submitted, actor, svc.now(session))
        tasks = engine.open_tasks(result.instance.id)
        payload = {**_case_payload(result.instance, tasks), "already_applied": result.already_applied,
                   "incident": result.incident.message if result.incident else None}
    head = "already applied; nothing changed" if result.already_applied else "completed"
    if result.incident:
        head += f"; the case stopped with an incident: {result.incident.message}"
    emit(ctx, payload, f"{head}. case {result.instance.id} is {result.instance.status}\n" + _task_lines(tasks))


def _case_payload(instance: Instance, tasks: list[HumanTask]) -> dict[str, Any]:
    return {"case": instance.id, "process": instance.process_id, "status": instance.status,
            "next_timer_at": instance.next_timer_at, "tasks": [_task_payload(t) for t in tasks]}


def _task_payload(task: HumanTask) -> dict[str, Any]:
    return {"id": task.id, "case": task.instance_id, "element": task.element_id, "ref": task.ref,
            "name": task.name, "lane": task.lane, "form": task.form, "due_at": task.due_at,
            "claimed_by": task.claimed_by}


def _task_lines(tasks: list[HumanTask]) -> str:
    if not tasks:
        return "  (no open tasks)"
    return "\n".join(f"  task {t.id[:8]}  case {t.instance_id}  {t.name or t.element_id}  [{t.lane or '-'}]"
                     f"  due {local(t.due_at)}" for t in tasks)


def _changes(data: dict[str, Any]) -> str:
    changes = data.get("changes") or {}
    if not changes:
        return ""
    shown = ", ".join(f"{k}={json.dumps(v[1], ensure_ascii=False)}" for k, v in list(changes.items())[:4])
    return f"  ({shown}{', …' if len(changes) > 4 else ''})"

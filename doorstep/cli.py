"""The `doorstep` command: thin wrappers over engine and domain calls."""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select

from engine import EngineError, SimulatedClock, read_bundle, validate_bundle
from engine.models import Event, HumanTask, Incident, Instance
from workflows import DomainError
from workflows.demo_org import load_demo_county
from workflows.roles import BY_LANE

from .config import Settings
from .database import upgrade
from .services import Services

SYSTEM_ACTOR = "system"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class UserError(click.ClickException):
    """A mistake of the person at the keyboard: one line on stderr, exit 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn engine and domain errors into one-line messages with exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (EngineError, DomainError, FileNotFoundError) as error:
            raise UserError(str(error).splitlines()[0] if str(error) else type(error).__name__) from error

    return wrapper


def parse_json(text: str, option: str) -> dict[str, Any]:
    """Parse a JSON option value or fail with a message naming the option."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise UserError(f"{option} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise UserError(f"{option} must be a JSON object")
    return value


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date or datetime; a date means midnight UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise UserError(f"'{text}' is not an ISO 8601 date or time (e.g. 2026-03-02T08:00:00+08:00)") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def emit(ctx: click.Context, payload: Any, text: str) -> None:
    """Print JSON with --json, else the human-readable text."""
    if ctx.obj["json"]:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        click.echo(text)


def local(moment: datetime | None) -> str:
    """A moment as the county reads it (Asia/Shanghai)."""
    if moment is None:
        return "-"
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@click.group()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def main(ctx: click.Context, as_json: bool) -> None:
    """Doorstep: petition work at the people's doorstep, run as BPMN processes."""
    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json
    ctx.obj["services"] = None


def services(ctx: click.Context) -> Services:
    """The services of this command run, opened on first use."""
    root = ctx.find_root()
    if root.obj.get("services") is None:
        root.obj["services"] = Services.from_settings(Settings.from_environment())
    return root.obj["services"]  # type: ignore[no-any-return]


@main.command()
@click.option("--demo", is_flag=True, help="Load the demo county (org, people, rota).")
@click.option("--simulated-clock", "start", metavar="START", help="Run on a simulated clock from START (ISO 8601).")
@click.pass_context
@user_errors
def init(ctx: click.Context, demo: bool, start: str | None) -> None:
    """Create or upgrade the database, deploy the diagrams in bpmn/, optionally load demo data."""
    svc = services(ctx)
    upgrade(svc.db)
    lines = [f"database ready: {svc.db.url.render_as_string(hide_password=True)}"]
    with svc.unit_of_work() as session:
        if start:
            SimulatedClock.install(session, parse_moment(start))
            lines.append(f"simulated clock set to {local(parse_moment(start))} (Asia/Shanghai)")
        deployed = svc.specs.deploy(session, read_bundle([svc.settings.bpmn_dir]), SYSTEM_ACTOR,
                                    svc.now(session), svc.lanes())
        lines += [f"process {v.process_id} v{v.version}{' (new)' if v.created else ''}" for v in deployed]
    if demo:
        with svc.unit_of_work() as session:
            today = svc.now(session).astimezone(SHANGHAI).date()
            lines.append(f"demo county (synthetic names): {load_demo_county(session, today)}")
    emit(ctx, {"ok": True, "messages": lines}, "\n".join(lines))


@main.group()
def bpmn() -> None:
    """Check and deploy diagrams."""


@bpmn.command("validate")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
@user_errors
def bpmn_validate(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Check diagrams (and their forms) and list every problem as file:line: element: message."""
    result = validate_bundle(read_bundle(list(paths)), set(BY_LANE))
    problems = [str(p) for p in result.problems]
    emit(ctx, {"ok": result.ok, "problems": [p.__dict__ for p in result.problems],
               "processes": sorted(result.processes)},
         "\n".join(problems) if problems else f"OK: {len(result.processes)} executable process(es): "
                                                f"{', '.join(sorted(result.processes))}")
    if problems:
        ctx.exit(1)


@bpmn.command("deploy")
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "actor", default=SYSTEM_ACTOR, show_default=True, help="Who deploys.")
@click.pass_context
@user_errors
def bpmn_deploy(ctx: click.Context, paths: tuple[str, ...], actor: str) -> None:
    """Validate and deploy diagrams; each changed process gets a new version."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        deployed = svc.specs.deploy(session, read_bundle(list(paths)), actor, svc.now(session), svc.lanes())
    emit(ctx, [v.__dict__ for v in deployed],
         "\n".join(f"{v.process_id} v{v.version} {'deployed' if v.created else 'unchanged'}" for v in deployed))


@main.group()
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
        payload = {**_case_payload(instance, tasks), "data": data,
                   "incidents": [{"id": i.id, "element": i.element_id, "line": i.line, "message": i.message}
                                 for i in incidents],
                   "events": [{"seq": e.seq, "type": e.type, "business_time": e.business_time, "actor": e.actor,
                               "task": e.task_ref, "data": e.data} for e in events]}
    text = [f"case {instance.id}: {instance.process_id} (version id {instance.process_version_id}) — "
            f"{instance.status}", f"started {local(instance.started_at)} by {instance.started_by}",
            f"next timer: {local(instance.next_timer_at)}", "open tasks:", _task_lines(tasks)]
    text += [f"incident {i.id}: {i.element_id} line {i.line or '-'}: {i.message}" for i in incidents]
    text.append("history:")
    text += [f"  {e.seq:3} {local(e.business_time)} {e.type:<16} {e.actor:<14} "
             f"{e.task_ref or ', '.join(e.data.get('timers') or [])}"
             f"{_changes(e.data)}" for e in events]
    emit(ctx, payload, "\n".join(text))


@main.group()
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
    """Complete TASK_ID: its id, a unique prefix of 6+ characters, or CASE/ELEMENT (e.g. 1/hear_claim)."""
    svc = services(ctx)
    submitted = parse_json(data, "--data")
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        full_id = engine.resolve_task_id(task_id)
        result = engine.complete_task(full_id, submitted, actor)
        tasks = engine.open_tasks(result.instance.id)
        payload = {**_case_payload(result.instance, tasks), "already_applied": result.already_applied,
                   "incident": result.incident.message if result.incident else None}
    head = "already applied; nothing changed" if result.already_applied else "completed"
    if result.incident:
        head += f"; the case stopped with an incident: {result.incident.message}"
    emit(ctx, payload, f"{head}. case {result.instance.id} is {result.instance.status}\n" + _task_lines(tasks))


@main.group()
def clock() -> None:
    """Show or move the clock."""


@clock.command("show")
@click.pass_context
@user_errors
def clock_show(ctx: click.Context) -> None:
    """Print the business time and whether it is simulated."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        simulated = SimulatedClock.is_installed(session)
        now = svc.now(session)
    emit(ctx, {"now": now, "simulated": simulated},
         f"{local(now)} Asia/Shanghai ({now.isoformat(timespec='seconds')}) — "
         f"{'simulated clock' if simulated else 'system clock'}")


@clock.command("advance")
@click.argument("duration")
@click.pass_context
@user_errors
def clock_advance(ctx: click.Context, duration: str) -> None:
    """Move the simulated clock forward by DURATION (ISO 8601, e.g. P15D, PT8H) and fire what falls due."""
    svc = services(ctx)
    try:
        parsed = TimerEventDefinition.parse_iso_duration(duration)
    except Exception as error:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        raise UserError(f"'{duration}' is not an ISO 8601 duration such as P15D or PT8H") from error
    with svc.unit_of_work() as session:
        if not SimulatedClock.is_installed(session):
            raise UserError("this database runs on the system clock; start it with `doorstep init "
                            "--simulated-clock START` to move time by command")
        sim = SimulatedClock(session)
        start = sim.now()
        target = start + TimerEventDefinition.get_timedelta_from_start(parsed, start)
        results = svc.engine(session, sim).run_until(target, sim.set)
        fired = [(r.instance.id, r.events[0].data.get("timers", [])) for r in results]
    lines = [f"clock moved from {local(start)} to {local(target)}"]
    lines += [f"case {case_id}: fired {', '.join(timers) or 'timer'}" for case_id, timers in fired]
    emit(ctx, {"from": start, "to": target, "fired": fired}, "\n".join(lines))


@main.command()
@click.option("--interval", default=5.0, show_default=True, help="Seconds between looks for due timers.")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.pass_context
@user_errors
def worker(ctx: click.Context, interval: float, once: bool) -> None:
    """Fire due timers on the real clock until stopped (Ctrl-C)."""
    svc = services(ctx)
    while True:
        with svc.unit_of_work() as session:
            results = svc.engine(session).fire_due()
        for result in results:
            click.echo(f"{local(datetime.now(UTC))} case {result.instance.id}: timer fired")
        if once:
            return
        try:
            time.sleep(interval)
        except KeyboardInterrupt:
            return


@main.command()
@click.option("--host", help="Address to listen on (default DOORSTEP_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default DOORSTEP_PORT or 5000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the web application."""
    from web import create_app

    settings = Settings.from_environment()
    app = create_app(settings=settings)
    address = f"http://{host or settings.host}:{port or settings.port}/"
    click.echo(f"Doorstep is running at {address}  (Ctrl-C to stop)")
    app.run(host=host or settings.host, port=port or settings.port, debug=False)


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


if __name__ == "__main__":
    sys.exit(main())

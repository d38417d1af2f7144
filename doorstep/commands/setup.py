"""Set up a deployment, run its timer worker and its web server."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from engine import SimulatedClock, StepResult, read_bundle
from workflows.org.accounts import ensure_demo_accounts, rota_usernames
from workflows.org.demo import load_demo_county

from ..cli_support import (
    SHANGHAI,
    SYSTEM_ACTOR,
    emit,
    local,
    parse_moment,
    services,
    user_errors,
)
from ..config import Settings
from ..database import upgrade
from ..retry import retrying
from .org import current_problems, warning_lines


@click.command()
@click.option("--demo", is_flag=True, help="Load the demo county (org, people, rota).")
@click.option("--simulated-clock", "start", metavar="START", help="Run on a simulated clock from START (ISO 8601).")
@click.pass_context
@user_errors
def init(ctx: click.Context, demo: bool, start: str | None) -> None:
    """Create or upgrade the database, deploy the diagrams in bpmn/, optionally load demo data."""
    svc = services(ctx)
    upgrade(svc.db)
    lines = [f"database ready: {svc.db.url.render_as_string(hide_password=True)}"]
    problems: list[str] = []  # what the demo org lacks (`doorstep org check`)
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
            accounts = ensure_demo_accounts(session, today, svc.now(session))
            rota = len(rota_usernames(session))
        lines.append("demo accounts (log in at /login):")
        lines += [f"  {a.username:<28} password: {a.password}  {a.role_name}（{a.place}）{a.note}"
                  for a in accounts]
        lines.append(f"  and everyone on the reception rota ({rota} people), with the same password: "
                     "the desk names who is on duty each day")
        problems = current_problems(svc)
        lines += warning_lines(problems)
    emit(ctx, {"ok": True, "messages": lines, "problems": problems,
               "demo_accounts": [a.__dict__ for a in accounts] if demo else []}, "\n".join(lines))


@click.command()
@click.option("--interval", default=5.0, show_default=True,
              help="Seconds between looks for due timers (sooner when a timer falls due before).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Cases fired at the same time, each on its own connection (default 4 on PostgreSQL, 1 on SQLite).")
@click.option("--once", is_flag=True, help="Fire what is due now and stop.")
@click.pass_context
@user_errors
def worker(ctx: click.Context, interval: float, threads: int | None, once: bool) -> None:
    """Fire due timers on the real clock until stopped (Ctrl-C); survive lost connections and conflicts.

    A round that fails for a passing reason (the database restarted, a deadlock, another worker firing the same
    case) is retried with backoff, with one line on stderr per retry; what was fired before stays fired.
    """
    svc = services(ctx)
    if threads is None:
        threads = 4 if svc.db.dialect.name == "postgresql" else 1

    def fired(result: StepResult) -> None:
        click.echo(f"{local(datetime.now(UTC))} case {result.instance.id}: "
                   f"fired {', '.join(result.events[0].data.get('timers') or []) or 'timer'}")

    while True:
        retrying(lambda: svc.fire_due_timers(threads, fired), "firing due timers", _to_stderr)
        retrying(svc.purge_expired_replies, "purging expired idempotency answers", _to_stderr)
        if once:
            return
        try:
            time.sleep(retrying(lambda: svc.next_timer_wait(interval), "looking for the next timer", _to_stderr))
        except KeyboardInterrupt:
            return


def _to_stderr(line: str) -> None:
    click.echo(f"{local(datetime.now(UTC))} {line}", err=True)


@click.command()
@click.option("--host", help="Address to listen on (default DOORSTEP_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default DOORSTEP_PORT or 5000).")
@click.option("--workers", type=click.IntRange(min=1), envvar="DOORSTEP_WORKERS",
              help="Web worker processes (default DOORSTEP_WORKERS, else two per CPU core plus one).")
@click.option("--threads", type=click.IntRange(min=1), envvar="DOORSTEP_THREADS", default=1, show_default=True,
              help="Requests one web worker serves at once (default DOORSTEP_THREADS, else 1).")
@click.option("--timeout", default=30, show_default=True, help="Seconds a web worker may spend on one request.")
@click.option("--dev", is_flag=True, help="Flask's development server in one process (designers on a laptop).")
@click.option("--timers/--no-timers", default=True, show_default=True,
              help="Also fire due timers (a `doorstep worker` child; turn off when workers run elsewhere).")
@click.option("--timer-interval", default=10.0, show_default=True, help="Seconds between looks for due timers.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None, threads: int, timeout: int,
          dev: bool, timers: bool, timer_interval: float) -> None:
    """Run the web application under gunicorn (and, by default, a timer worker beside it)."""
    from web import create_app

    from ..server import (
        DoorstepServer,
        behind_proxies,
        default_workers,
        gunicorn_options,
        timer_worker,
        trusted_proxies,
    )

    settings = Settings.from_environment()
    host, port = host or settings.host, port or settings.port
    if dev:
        app = create_app(settings=settings)
        if timers:
            app.extensions["doorstep"].run_timer_thread(timer_interval)
        click.echo(f"Doorstep (development server) is running at http://{host}:{port}/  (Ctrl-C to stop)")
        app.run(host=host, port=port, debug=False)
        return
    count = workers or default_workers()
    click.echo(f"Doorstep is running at http://{host}:{port}/ with {count} web workers"
               f"{' and a timer worker' if timers else ''}  (Ctrl-C to stop)")
    proxies = trusted_proxies()
    server = DoorstepServer(lambda: behind_proxies(create_app(settings=settings), proxies),
                            gunicorn_options(host, port, count, timeout, threads))
    if not timers:
        server.run()
        return
    with timer_worker(timer_interval):
        server.run()

"""The org: import it, and check that every lane and every routed claim has somebody to act."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy.orm import Session

from engine.catalog import human_task_lanes
from workflows.cases.staffing import org_problems
from workflows.org.importer import import_org_file

from ..cli_support import SHANGHAI, emit, services, user_errors
from ..services import Services


@click.group()
def org() -> None:
    """Import the org tree and people; check who may act where."""


@org.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
@user_errors
def org_import(ctx: click.Context, path: str) -> None:
    """Import units, people and positions from a YAML file (format: workflows/data/README.md), then warn of what
    the org still lacks (as `doorstep org check`)."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        report = import_org_file(session, path)
    problems = current_problems(svc)
    lines = [", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.__dict__.items()), *warning_lines(problems)]
    emit(ctx, {**report.__dict__, "problems": problems}, "\n".join(lines))


@org.command("check")
@click.pass_context
@user_errors
def org_check(ctx: click.Context) -> None:
    """List what leaves a task or a routed claim with nobody to act: routing-table gaps, lanes of the deployed
    diagrams nobody holds in a township, a reception room without a rota. Exit status 1 when there is any."""
    problems = current_problems(services(ctx))
    if problems:
        text = [f"组织机构检查：发现 {len(problems)} 个问题，办理时会有任务无人可办：", *_numbered(problems)]
    else:
        text = ["组织机构检查：未发现问题，各泳道、各乡镇都有人可办，路由表推荐的单位都有承办人员。"]
    emit(ctx, {"ok": not problems, "count": len(problems), "problems": problems}, "\n".join(text))
    if problems:
        ctx.exit(1)


def current_problems(svc: Services) -> list[str]:
    """What the stored org lacks for the deployed diagrams and the routing tables, as of today (business time)."""
    with svc.unit_of_work() as session:
        return org_problems(session, human_task_lanes(session), _today(svc, session))


def warning_lines(problems: list[str]) -> list[str]:
    """The check's findings as warnings printed after a change of the org (none when it is clean)."""
    if not problems:
        return ["组织机构检查：未发现问题。"]
    return [f"警告：组织机构检查发现 {len(problems)} 个问题，办理时会有任务无人可办（`doorstep org check` 可再查）：",
            *_numbered(problems)]


def _numbered(problems: list[str]) -> list[str]:
    return [f"  {number}. {problem}" for number, problem in enumerate(problems, start=1)]


def _today(svc: Services, session: Session) -> date:
    return svc.now(session).astimezone(SHANGHAI).date()

"""Check, deploy and test diagrams."""

from __future__ import annotations

from pathlib import Path

import click

from engine import read_bundle, validate_bundle
from engine.catalog import version_row, version_table
from engine.lint import lint_bundle
from engine.versions import diff_specs
from workflows.design.library_check import check_library
from workflows.org.roles import BY_LANE

from ..cli_support import SYSTEM_ACTOR, emit, local, services, user_errors
from ..config import Settings


@click.group()
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


@bpmn.command("lint")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
@user_errors
def bpmn_lint(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Find what runs but misleads (disconnected elements, implicit splits, overlapping conditions...)."""
    problems = lint_bundle(read_bundle(list(paths)))
    emit(ctx, {"ok": not problems, "problems": [p.__dict__ for p in problems]},
         "\n".join(str(p) for p in problems) if problems else "OK: no lint problems")
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


@bpmn.command("coverage")
@click.option("--dir", "folder", type=click.Path(file_okay=False), help="Diagrams folder (default: DOORSTEP_BPMN_DIR).")
@click.option("--process", help="Only the scenarios and flows of this process.")
@click.pass_context
@user_errors
def bpmn_coverage(ctx: click.Context, folder: str | None, process: str | None) -> None:
    """Run the scenarios in bpmn/scenarios/ and list every sequence flow no scenario takes (exit 1 if any)."""
    bpmn_dir = Path(folder) if folder else Settings.from_environment().bpmn_dir
    report = check_library(bpmn_dir, only=process)
    lines = [str(result) for result in report.results]
    taken = len([f for f in report.flows if not process or f.process == process]) - len(report.untaken)
    lines.append(f"{taken} of {taken + len(report.untaken)} sequence flows taken by "
                 f"{len(report.results)} scenario(s)")
    lines += [f"never taken: {flow}" for flow in report.untaken]
    emit(ctx, {"ok": report.ok, "scenarios": [{"file": r.scenario.file, "name": r.scenario.name,
                                              "passed": r.passed, "step": r.step, "message": r.message}
                                             for r in report.results],
               "untaken": [flow.__dict__ for flow in report.untaken]}, "\n".join(lines))
    if not report.ok:
        ctx.exit(1)


@bpmn.command("versions")
@click.argument("process_id", required=False)
@click.pass_context
@user_errors
def bpmn_versions(ctx: click.Context, process_id: str | None) -> None:
    """List deployed versions (number, when, by whom, content hash) and how many cases run on each."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        rows = version_table(session, process_id)
    lines = [f"{r['process']:<16} v{r['version']:<3} {local(r['deployed_at'])}  {r['deployed_by']:<10} "
             f"{r['spec_hash'][:12]}  running {r['running']}, finished {r['finished']}" for r in rows]
    emit(ctx, rows, "\n".join(lines) or "nothing is deployed")


@bpmn.command("diff")
@click.argument("process_id")
@click.argument("old", type=int)
@click.argument("new", type=int)
@click.pass_context
@user_errors
def bpmn_diff(ctx: click.Context, process_id: str, old: int, new: int) -> None:
    """Show the elements added, removed and changed from version OLD to version NEW of a process."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        diff = diff_specs(version_row(session, process_id, old).spec, version_row(session, process_id, new).spec)
    emit(ctx, [c.__dict__ for c in diff.changes],
         "\n".join(str(c) for c in diff.changes) or f"v{old} and v{new} run the same elements")


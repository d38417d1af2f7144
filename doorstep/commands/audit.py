"""Verify and export case histories; take the daily chain digest."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from engine.audit import check_chain_digests, histories_from_db, take_chain_digest, verify
from engine.export import EXPORTERS, cases_of_month, export_cases, from_json
from engine.models import Instance
from workflows.cases.script_helpers import script_helpers
from workflows.views.audit_view import export_presentation
from workflows.views.case_view import LOCAL

from ..cli_support import UserError, emit, local, services, user_errors


@click.group()
def audit() -> None:
    """Check that case histories are intact and consistent with their diagrams; export them."""


@audit.command("verify")
@click.argument("case_id", type=int, required=False)
@click.option("--all", "every", is_flag=True, help="Verify every case and the stored chain digests.")
@click.option("--file", "export_file", type=click.Path(exists=True, dir_okay=False),
              help="Verify the cases of a JSON export instead of the database.")
@click.pass_context
@user_errors
def audit_verify(ctx: click.Context, case_id: int | None, every: bool, export_file: str | None) -> None:
    """Re-execute each case's recorded inputs on its recorded diagram version and check every digest and hash."""
    if sum(bool(x) for x in (case_id is not None, every, export_file)) != 1:
        raise click.UsageError("give one of CASE_ID, --all or --file")
    svc = services(ctx)
    problems: list[str] = []
    with svc.unit_of_work() as session:
        names = set(script_helpers(session))
        if export_file:
            try:
                cases = from_json(Path(export_file).read_text(encoding="utf-8"))
            except ValueError as error:
                raise UserError(f"{export_file}: {error}") from error
        else:
            ids = [case_id] if case_id is not None else list(session.scalars(select(Instance.id).order_by(Instance.id)))
            if case_id is not None and session.get(Instance, case_id) is None:
                raise UserError(f"no case {case_id}")
            if every:
                problems = [f"digest: {p}" for p in check_chain_digests(session)]
            # Verified as they are read, a batch at a time: `--all` over many cases holds one batch.
            verdicts = [verify(case, names) for case in histories_from_db(session, ids)]
    if export_file:
        verdicts = [verify(case, names) for case in cases]
    lines = [str(v) for v in verdicts] + problems
    failed = [v for v in verdicts if not v.ok]
    lines.append(f"{len(verdicts) - len(failed)} of {len(verdicts)} case(s) verified"
                 + (f"; {len(problems)} digest problem(s)" if problems else ""))
    emit(ctx, {"ok": not failed and not problems,
               "cases": [{"case": v.instance_id, "ok": v.ok, "events": v.events,
                          "divergence": str(v.divergence) if v.divergence else None} for v in verdicts],
               "digest_problems": problems}, "\n".join(lines))
    if failed or problems:
        ctx.exit(1)


@audit.command("export")
@click.argument("case_id", type=int, required=False)
@click.option("--period", metavar="YYYY-MM", help="Every case started in that month (business time, UTC).")
@click.option("--format", "fmt", type=click.Choice(sorted(EXPORTERS)), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, help="File to write.")
@click.option("--as", "actor", required=True, help="Who exports (recorded on every exported case).")
@click.option("--unmasked-because", "reason", metavar="REASON",
              help="Export personal data unmasked (a JSON export then verifies completely); the reason is recorded "
                   "as a view of personal data in each case's access log.")
@click.pass_context
@user_errors
def audit_export(ctx: click.Context, case_id: int | None, period: str | None, fmt: str, output: str,
                 actor: str, reason: str | None) -> None:
    """Export one case or a month's cases, personal data masked; each export is recorded in the case's access
    log."""
    if reason is not None and not reason.strip():
        raise click.UsageError("--unmasked-because needs a reason")
    if (case_id is None) == (period is None):
        raise click.UsageError("give CASE_ID or --period YYYY-MM")
    svc = services(ctx)
    with svc.unit_of_work() as session:
        engine = svc.engine(session)
        if case_id is not None:
            ids = [case_id]
        else:
            try:
                ids = cases_of_month(session, period or "")
            except ValueError as error:
                raise UserError(f"--period must be YYYY-MM, not {period!r}") from error
        content = export_cases(engine, ids, fmt, actor, Path(output).name,
                               export_presentation(session, engine, ids, LOCAL), reason)
    Path(output).write_bytes(content)
    emit(ctx, {"file": output, "cases": len(ids), "format": fmt},
         f"{len(ids)} case(s) written to {output} ({fmt}, {len(content)} bytes)")


@audit.command("digest")
@click.pass_context
@user_errors
def audit_digest(ctx: click.Context) -> None:
    """Record today's digest over every case's chain head and print it (publish or file it)."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        row = take_chain_digest(session, svc.now(session))
        payload = {"taken_at": row.taken_at, "cases": row.cases, "digest": row.digest}
    emit(ctx, payload, f"{local(row.taken_at)}  {row.cases} case(s)  chain digest {row.digest}")


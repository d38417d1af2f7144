"""The monthly report (一月一通报) from the command line."""

from __future__ import annotations

import json

import click

from workflows.cases.script_helpers import packaged_config
from workflows.reports.monthly import monthly_report, report_dict
from workflows.reports.text import report_csv, report_text

from ..cli_support import services, user_errors


@click.group()
def report() -> None:
    """Reports computed from the case records."""


@report.command("monthly")
@click.argument("month", metavar="YYYY-MM")
@click.option("--township", help="One township (code or name) instead of the whole county.")
@click.option("--format", "form", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True)
@click.pass_context
@user_errors
def report_monthly(ctx: click.Context, month: str, township: str | None, form: str) -> None:
    """Print the monthly report of MONTH: the 通报 as posted, CSV, or JSON."""
    config = packaged_config()
    with services(ctx).unit_of_work() as session:
        result = monthly_report(session, month, township=township, zone=config.calendar.timezone,
                                group_threshold=config.deadlines.group_visit_threshold,
                                now=services(ctx).now(session))
    if form == "json" or ctx.obj["json"]:
        click.echo(json.dumps(report_dict(result), ensure_ascii=False, indent=2))
    elif form == "csv":
        click.echo(report_csv(result), nl=False)
    else:
        click.echo(report_text(result), nl=False)

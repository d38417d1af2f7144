"""The `doorstep` command: thin wrappers over engine and domain calls, one module per group."""

from __future__ import annotations

import sys

import click

from .commands.accounts import account
from .commands.audit import audit
from .commands.bpmn import bpmn
from .commands.cases import case, task
from .commands.clock import clock
from .commands.org import org
from .commands.report import report
from .commands.rota import rota
from .commands.setup import init, serve, worker
from .commands.simulate import simulate_command
from .commands.tokens import token


@click.group()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.pass_context
def main(ctx: click.Context, as_json: bool) -> None:
    """Doorstep: petition work at the people's doorstep, run as BPMN processes."""
    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json
    ctx.obj["services"] = None


for command in (init, org, rota, bpmn, case, task, clock, worker, serve, audit, simulate_command, report, token,
                account):
    main.add_command(command)


if __name__ == "__main__":
    sys.exit(main())

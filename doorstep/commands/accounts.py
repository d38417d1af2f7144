"""Staff accounts from the command line: set (or reset) a password."""

from __future__ import annotations

import click

from workflows.org.accounts import set_password

from ..cli_support import emit, services, user_errors


@click.group()
def account() -> None:
    """Staff accounts."""


@account.command("password")
@click.argument("username")
@click.password_option("--password", prompt="New password", help="the new password (asked twice when not given)")
@click.pass_context
@user_errors
def account_password(ctx: click.Context, username: str, password: str) -> None:
    """Set USERNAME's password (creating the account if needed); every session of the account ends."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        set_password(session, username, password, svc.now(session))
    emit(ctx, {"username": username, "sessions_ended": True},
         f"{username}: password set; every browser logged in as {username} must log in again")

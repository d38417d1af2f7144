"""Issue API tokens for the JSON API (`/api/v1`)."""

from __future__ import annotations

import click

from workflows.org.accounts import issue_api_token

from ..cli_support import emit, services, user_errors


@click.group()
def token() -> None:
    """API tokens for the JSON API."""


@token.command("issue")
@click.argument("username")
@click.pass_context
@user_errors
def token_issue(ctx: click.Context, username: str) -> None:
    """Give USERNAME a new API token (the previous one stops working) and print it; it is shown only once."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        issued = issue_api_token(session, username)
    emit(ctx, {"username": username, "token": issued}, issued)

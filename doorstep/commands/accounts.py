"""Staff accounts from the command line: set (or reset) a password; give a township, a unit or the county its
logins at once; disable and enable a login; list who may log in."""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import click

from workflows.org.account_admin import (
    InitialLogin,
    account_rows,
    create_accounts,
    disable_account,
    enable_account,
    find_scope,
    hash_passwords,
    initial_password,
    people_without_account,
)
from workflows.org.accounts import set_password

from ..cli_support import SYSTEM_ACTOR, UserError, emit, services, user_errors

CSV_HEADER = ("username", "name", "units", "initial_password")
BATCH = 500  # accounts written to the file and committed together: an interruption loses at most one batch's work
AS_ADMIN = click.option("--as", "actor", default=SYSTEM_ACTOR, show_default=True,
                        help="The administrator who does this (recorded).")


@click.group()
def account() -> None:
    """Staff accounts."""


@account.command("password")
@click.argument("username")
@click.password_option("--password", prompt="New password", help="the new password (asked twice when not given)")
@click.pass_context
@user_errors
def account_password(ctx: click.Context, username: str, password: str) -> None:
    """Set USERNAME's password (creating the account if needed); every session of the account ends, its API token
    too, and its owner must choose a new password at the next login."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        set_password(session, username, password, svc.now(session), by_operator=True)
    emit(ctx, {"username": username, "sessions_ended": True, "must_change_password": True},
         f"{username}: password set; every browser logged in as {username} must log in again, "
         "and the first login leads to changing it")


@account.command("create")
@click.option("--township", default=None, help="Everyone of one township (code or name).")
@click.option("--unit", default=None, help="Everyone of one unit (code) and the units below it.")
@click.option("--all", "everyone", is_flag=True, help="Everyone of the org.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file for the initial passwords (created with mode 0600; never overwritten).")
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True, type=click.IntRange(1, 64),
              help="Processes hashing passwords (scrypt takes tenths of a second each).")
@AS_ADMIN
@click.pass_context
@user_errors
def account_create(ctx: click.Context, township: str | None, unit: str | None, everyone: bool, out: Path,
                   jobs: int, actor: str) -> None:
    """Give everyone in scope who has no account one, with a random initial password to change at the first
    login. The passwords go to --out only (one row per account: username, name, units, initial_password), never
    to the screen; hand each its row and delete the file."""
    if sum((township is not None, unit is not None, everyone)) != 1:
        raise UserError("give exactly one of --township, --unit or --all")
    if out.exists():
        raise UserError(f"--out: {out} exists; it is never overwritten (move it away or choose another name)")
    svc = services(ctx)
    with svc.unit_of_work() as session:
        scope = find_scope(session, township, unit)
        usernames = [person.username for person in people_without_account(session, scope)]
    if not usernames:
        emit(ctx, {"scope": scope.label, "created": 0, "out": None}, f"{scope.label}: everyone has an account")
        return
    started = time.monotonic()
    with _private_csv(out) as sheet:
        csv.writer(sheet).writerow(CSV_HEADER)
        for first in range(0, len(usernames), BATCH):
            batch = usernames[first:first + BATCH]
            passwords = [initial_password() for _ in batch]
            hashes = hash_passwords(passwords, jobs, _progress(first, len(usernames), started))
            with svc.unit_of_work() as session:
                people = people_without_account(session, scope, batch)
                if len(people) != len(batch):
                    raise UserError("accounts were created meanwhile by someone else: run again with a new --out")
                logins = create_accounts(session, people, passwords, hashes, actor, svc.now(session))
                _write(sheet, logins)  # on disk before the accounts are committed
    seconds = time.monotonic() - started
    click.echo("", err=True)
    emit(ctx, {"scope": scope.label, "created": len(usernames), "out": str(out), "seconds": round(seconds, 1)},
         f"{scope.label}: {len(usernames)} accounts created in {seconds:.0f} s; initial passwords in {out} "
         "(mode 0600): each must be changed at the first login")


def _private_csv(path: Path) -> TextIO:
    """A new file only its owner can read; an existing one is an error, not overwritten."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise UserError(f"--out: {path} exists; it is never overwritten") from error
    except OSError as error:
        raise UserError(f"--out: cannot create {path}: {error.strerror}") from error
    os.fchmod(descriptor, 0o600)  # whatever the umask
    return open(descriptor, "w", newline="", encoding="utf-8")


def _write(sheet: TextIO, logins: list[InitialLogin]) -> None:
    csv.writer(sheet).writerows([login.username, login.display_name, login.units, login.password] for login in logins)
    sheet.flush()
    os.fsync(sheet.fileno())


def _progress(before: int, total: int, started: float) -> Callable[[int], None]:
    def show(done: int) -> None:
        count = before + done
        elapsed = time.monotonic() - started
        left = elapsed / count * (total - count) if count else 0
        click.echo(f"\rhashing passwords: {count}/{total}, {elapsed:.0f} s, about {left:.0f} s left ",
                   nl=False, err=True)

    return show


@account.command("disable")
@click.argument("username")
@click.option("--reason", required=True, help="Why (recorded), e.g. 调离 2026-12-01.")
@AS_ADMIN
@click.pass_context
@user_errors
def account_disable(ctx: click.Context, username: str, reason: str, actor: str) -> None:
    """Stop USERNAME from logging in: its sessions end at once and its API token stops working."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        ended = disable_account(session, username, reason, actor, svc.now(session))
    emit(ctx, {"username": username, "disabled": True, "sessions_ended": ended},
         f"{username}: disabled ({ended} sessions ended, API token dropped)")


@account.command("enable")
@click.argument("username")
@click.option("--reason", default="", help="Why (recorded).")
@AS_ADMIN
@click.pass_context
@user_errors
def account_enable(ctx: click.Context, username: str, reason: str, actor: str) -> None:
    """Let USERNAME log in again with its password (an API token must be asked for anew)."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        enable_account(session, username, actor, svc.now(session), reason)
    emit(ctx, {"username": username, "disabled": False}, f"{username}: enabled")


@account.command("list")
@click.option("--township", default=None, help="Only the people of one township (code or name).")
@click.option("--disabled", "disabled_only", is_flag=True, help="Only disabled accounts.")
@click.pass_context
@user_errors
def account_list(ctx: click.Context, township: str | None, disabled_only: bool) -> None:
    """Everyone (of a township) with whether they have an account, must change its password, or are disabled."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        rows = account_rows(session, find_scope(session, township), disabled_only)
    lines = ["\t".join([row.username, row.display_name, "有账号" if row.has_account else "无账号",
                        "须改密码" if row.must_change else "", "已停用" if row.disabled else ""]).rstrip()
             for row in rows]
    emit(ctx, [asdict(row) for row in rows], "\n".join(lines) if lines else "nobody")

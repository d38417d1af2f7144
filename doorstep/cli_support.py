"""What every `doorstep` command shares: error handling, option parsing, output, and the services."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from engine import EngineError
from workflows import DomainError

from .config import Settings
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
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=_json_value))
    else:
        click.echo(text)


def local(moment: datetime | None) -> str:
    """A moment as the county reads it (Asia/Shanghai)."""
    if moment is None:
        return "-"
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def services(ctx: click.Context) -> Services:
    """The services of this command run, opened on first use."""
    root = ctx.find_root()
    if root.obj.get("services") is None:
        opened = root.obj["services"] = Services.from_settings(Settings.from_environment())
        root.call_on_close(opened.db.dispose)
    return root.obj["services"]


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)

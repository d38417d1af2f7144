"""The reception rota (坐班接访排班): generate it for the county calendar, show it, swap or reassign a day."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import click
from sqlalchemy.orm import Session

from workflows.cases.script_helpers import packaged_config
from workflows.org.models import OrgUnit, RotaEntry
from workflows.org.rota import (
    RotaEditor,
    RotaError,
    entries_between,
    find_township,
    generate_rota,
    reassign_duty,
    rota_changes_of,
    secretary_villages,
    swap_duties,
)

from ..cli_support import SHANGHAI, SYSTEM_ACTOR, UserError, emit, local, services, user_errors
from ..services import Services

WEEKDAYS = "一二三四五六日"


class IsoDay(click.ParamType):
    """A calendar day written YYYY-MM-DD; a bad one is a usage error naming the option or argument."""

    name = "day"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"'{value}' 不是日期，请写成 YYYY-MM-DD（如 2026-12-07）", param, ctx)


DAY = IsoDay()
# The command-line name of each input a RotaError can blame.
OPTIONS = {"township": "TOWNSHIP", "from": "--from", "to": "--to", "day": "DAY", "first": "DAY1", "second": "DAY2",
           "secretary": "--secretary", "cadre": "--cadre", "username": "--secretary"}


def _named_fields(command: Callable[..., Any]) -> Callable[..., Any]:
    """Prefix a rota refusal with the option or argument it is about."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except RotaError as error:
            field = OPTIONS.get(error.field)
            raise UserError(f"{field}: {error}" if field else str(error)) from error

    return wrapper


def _handled(command: Callable[..., Any]) -> Callable[..., Any]:
    """The click context first; domain refusals as one line naming the option or argument."""
    return click.pass_context(user_errors(_named_fields(command)))


AS_ACTOR = click.option("--as", "actor", default=SYSTEM_ACTOR, show_default=True,
                        help="Who makes the change (recorded).")


@click.group()
def rota() -> None:
    """The reception rota: which village secretary and township cadre sit in the reception room on which day."""


@rota.command("generate")
@click.option("--from", "start", type=DAY, required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "end", type=DAY, required=True, help="Last day (YYYY-MM-DD).")
@click.option("--township", default=None, help="One township (code or name); all townships when left out.")
@click.option("--replace", is_flag=True, help="Generate again over days that already have a rota.")
@AS_ACTOR
@_handled
def rota_generate(ctx: click.Context, start: date, end: date, township: str | None, replace: bool,
                  actor: str) -> None:
    """Fill the workdays of the county calendar round-robin over each township's village secretaries and
    petition cadres, continuing the turn of the days before. For all townships, one with nobody to sit is left
    out and named (exit status 1), the others are written."""
    svc = services(ctx)
    unstaffed: list[RotaError] = []
    with svc.unit_of_work() as session:
        entries = generate_rota(session, packaged_config().calendar, start, end, township, replace=replace,
                                editor=_editor(svc, session, actor), unstaffed=unstaffed)
        written: dict[str, list[date]] = {}
        for entry in entries:
            written.setdefault(_town(entry.township), []).append(entry.day)
    lines = [f"{town}：写入 {len(days)} 个工作日（{days[0]} 至 {days[-1]}）" for town, days in written.items()]
    lines += [f"未排班：{refusal}" for refusal in unstaffed]
    payload = {town: [day.isoformat() for day in days] for town, days in written.items()}
    emit(ctx, {"written": payload, "unstaffed": [str(refusal) for refusal in unstaffed]},
         "\n".join(lines) or f"{start} 至 {end} 没有工作日，未写入排班")
    if unstaffed:
        ctx.exit(1)


@rota.command("show")
@click.option("--township", default=None, help="One township (code or name); all townships when left out.")
@click.option("--from", "start", type=DAY, default=None, help="First day (YYYY-MM-DD); today when left out.")
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How many calendar days.")
@_handled
def rota_show(ctx: click.Context, township: str | None, start: date | None, days: int) -> None:
    """Who is on duty per day: the secretary (with their village) and the cadre."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        first = start or _today(svc, session)
        codes = [find_township(session, township).code] if township else []
        entries = entries_between(session, first, first + timedelta(days=days - 1), codes)
        villages = _villages(session, entries)
        rows = [_row(entry, villages) for entry in entries]
    lines = [f"{r['day']} 周{r['weekday']}  {r['township']}  坐班村支书 {r['secretary_name']}（{r['secretary']}，"
             f"{r['village']}）  乡镇信访干部 {r['cadre_name']}（{r['cadre']}）" for r in rows]
    emit(ctx, rows, "\n".join(lines) or "这段时间没有排班（`doorstep rota generate` 可生成）")


@rota.command("swap")
@click.argument("township")
@click.argument("day1", type=DAY)
@click.argument("day2", type=DAY)
@AS_ACTOR
@_handled
def rota_swap(ctx: click.Context, township: str, day1: date, day2: date, actor: str) -> None:
    """Swap the secretaries on duty on two days (换班); the cadres stay."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        first, second = swap_duties(session, township, day1, day2,
                                    editor=_editor(svc, session, actor))
        rows = [_row(entry, {}) for entry in (first, second)]
    lines = [f"已换班：{r['day']} 由 {r['secretary_name']}（{r['secretary']}）坐班" for r in rows]
    emit(ctx, rows, "\n".join(lines))


@rota.command("reassign")
@click.argument("township")
@click.argument("day", type=DAY)
@click.option("--secretary", default=None, help="Username of the village secretary to sit instead.")
@click.option("--cadre", default=None, help="Username of the township petition cadre to sit instead.")
@AS_ACTOR
@_handled
def rota_reassign(ctx: click.Context, township: str, day: date, secretary: str | None, cadre: str | None,
                  actor: str) -> None:
    """Put another secretary and/or cadre on duty on one day (sickness, leave)."""
    if secretary is None and cadre is None:
        raise UserError("--secretary / --cadre: 请至少指定一位改派的人员")
    svc = services(ctx)
    with svc.unit_of_work() as session:
        entry = reassign_duty(session, township, day, secretary=secretary, cadre=cadre,
                              editor=_editor(svc, session, actor))
        row = _row(entry, {})
    emit(ctx, row, f"已改派：{row['day']} {row['township']} 坐班村支书 {row['secretary_name']}（{row['secretary']}），"
                   f"乡镇信访干部 {row['cadre_name']}（{row['cadre']}）")


@rota.command("changes")
@click.option("--township", default=None, help="One township (code or name); all townships when left out.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True, help="The latest N.")
@_handled
def rota_changes(ctx: click.Context, township: str | None, limit: int) -> None:
    """Who generated, swapped or reassigned the rota, when and how (oldest first)."""
    svc = services(ctx)
    with svc.unit_of_work() as session:
        town = find_township(session, township) if township else None
        changes = rota_changes_of(session, town, limit)
        rows = [{"at": c.at, "actor": c.actor, "township": _town(c.township), "action": c.action, "detail": c.detail}
                for c in changes]
    lines = [f"{local(c.at)}  {c.actor}  {_town(c.township)}  {c.detail}" for c in changes]
    emit(ctx, rows, "\n".join(lines) or "还没有人改过接访排班")


def _editor(svc: Services, session: Session, actor: str) -> RotaEditor:
    return RotaEditor(actor, svc.now(session), packaged_config().calendar)


def _today(svc: Services, session: Session) -> date:
    return svc.now(session).astimezone(SHANGHAI).date()


def _villages(session: Session, entries: list[RotaEntry]) -> dict[int, OrgUnit]:
    towns = {entry.township_id: entry.township for entry in entries}
    return {person.id: village for town in towns.values()
            for person, village in secretary_villages(session, town).items()}


def _town(town: OrgUnit) -> str:
    return f"{town.name}（{town.code}）"


def _row(entry: RotaEntry, villages: dict[int, OrgUnit]) -> dict[str, str]:
    village = villages.get(entry.secretary_id)
    return {"day": entry.day.isoformat(), "weekday": WEEKDAYS[entry.day.weekday()], "township": _town(entry.township),
            "secretary": entry.secretary.username, "secretary_name": entry.secretary.display_name,
            "village": village.name if village else "-", "cadre": entry.cadre.username,
            "cadre_name": entry.cadre.display_name}

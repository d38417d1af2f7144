"""The township's reception rota (坐班接访排班): a month per page; the township's petition cadres and the county
bureau swap two days or put somebody else on a day; everyone else with a seat in the township (its offices' staff
included) and the county-wide readers read it, and they alone get the nav link (`reads_rota`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from workflows.cases.access import COUNTY_DEPTH, COUNTY_WIDE_READERS, Viewer
from workflows.cases.script_helpers import packaged_config
from workflows.cases.task_work import AccessDenied
from workflows.org.models import OrgUnit
from workflows.org.rota import (
    CADRE_ROLE,
    RotaEditor,
    RotaError,
    entries_between,
    reassign_duty,
    secretary_villages,
    swap_duties,
    township_cadres,
)

from .extensions import request_session, services
from .security import current_access, login_required

bp = Blueprint("rota", __name__)

EDITORS = frozenset({"county_bureau"})  # besides the township's own petition cadres
WEEKDAYS = "一二三四五六日"
FIELDS = {"swap": ("first", "second"), "reassign": ("day", "secretary", "cadre")}  # each change's form fields
DAY_FIELDS = ("first", "second", "day")
TOWNSHIP_DEPTH = COUNTY_DEPTH + 1  # "/xupu/t01/": split on "/", the township path is its first three parts


@dataclass(frozen=True)
class Township:
    """A township the viewer may read the rota of, and whether they may change it."""

    unit: OrgUnit
    may_change: bool


@bp.get("/rota")
@login_required
def month() -> tuple[str, int]:
    """The month's rota of one of the viewer's townships."""
    return _page({}, {})


@bp.post("/rota")
@login_required
def change() -> Response | tuple[str, int]:
    """Swap two days (action=swap: first, second) or reassign a day (action=reassign: day, secretary, cadre)."""
    session, form = request_session(), request.form
    town, _ = _chosen(form.get("township", ""))
    if not town.may_change:
        raise AccessDenied("只有本乡镇的乡镇信访干部和县信访局可以调整接访排班")
    action = form.get("action", "")
    if action not in FIELDS:
        abort(400, description="action 应为 swap（换班）或 reassign（改派）")
    errors: dict[str, str] = {}
    days = {name: _day(form.get(name, ""), name, errors) for name in FIELDS[action] if name in DAY_FIELDS}
    if not errors:
        editor = RotaEditor(current_access().viewer.username, services().now(session), packaged_config().calendar)
        try:
            done = _apply(town.unit.code, action, days, editor)
        except RotaError as refused:
            errors[refused.field if refused.field in FIELDS[action] else FIELDS[action][0]] = str(refused)
    if errors:
        session.rollback()
        typed = {k: v for k, v in form.items() if k != "csrf_token"}
        page, _ = _page(typed, {f"{action}-{k}": v for k, v in errors.items()})
        return page, 422
    session.commit()
    flash(done, "success")
    return redirect(url_for("rota.month", township=town.unit.code, month=form.get("month") or None))


def _apply(township: str, action: str, days: dict[str, date | None], editor: RotaEditor) -> str:
    """Make the change; return what was done, in words for the flash message."""
    session, form = request_session(), request.form
    if action == "swap":
        first, second = days["first"], days["second"]
        assert first is not None and second is not None
        swap_duties(session, township, first, second, editor=editor)
        return f"已换班：{first} 与 {second} 的坐班村支书互换"
    day = days["day"]
    assert day is not None
    secretary, cadre = form.get("secretary") or None, form.get("cadre") or None
    if secretary is None and cadre is None:
        raise RotaError("请选择改派的坐班村支书或乡镇信访干部", "secretary")
    reassign_duty(session, township, day, secretary=secretary, cadre=cadre, editor=editor)
    return f"已改派 {day} 的坐班人员"


def _page(typed: dict[str, str], errors: dict[str, str]) -> tuple[str, int]:
    """The month page with the typed values and field errors of a refused change; 400 for a bad month."""
    session = request_session()
    source = typed or request.args
    town, towns = _chosen(source.get("township", ""))
    viewer = current_access().viewer
    first = _month(source.get("month", ""), viewer.day)
    status = 200
    if first is None:
        errors, first, status = {**errors, "month": "月份应写成 YYYY-MM（如 2026-12）"}, viewer.day.replace(day=1), 400
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    entries = entries_between(session, first, last, [town.unit.code])
    villages = secretary_villages(session, town.unit)
    page = render_template(
        "rota.html", town=town, towns=towns, entries=entries, weekdays=WEEKDAYS,
        villages={person.id: village for person, village in villages.items()}, secretaries=list(villages),
        cadres=township_cadres(session, town.unit) if town.may_change else [], month=first.strftime("%Y-%m"),
        previous=(first - timedelta(days=1)).strftime("%Y-%m"), next=(last + timedelta(days=1)).strftime("%Y-%m"),
        typed=typed, errors=errors)
    return page, status


def reads_rota(viewer: Viewer) -> bool:
    """Whether the viewer reads some township's rota (the nav link): the rule of `_townships`, without a query."""
    return viewer.has_role(*COUNTY_WIDE_READERS) or bool(_seat_townships(viewer))


def _seat_townships(viewer: Viewer) -> set[str]:
    """The paths of the townships the viewer holds a seat in: at the township, a village or grid of it, or one of
    its offices (an office's area is the township above it; a county office's is the county)."""
    return {"/".join(seat.area_path.split("/")[:TOWNSHIP_DEPTH]) + "/" for seat in viewer.seats
            if seat.area_path.count("/") > COUNTY_DEPTH}


def _townships(viewer: Viewer) -> list[Township]:
    """The townships whose rota the viewer reads: those they hold a seat in, or all for the county-wide readers."""
    towns = request_session().scalars(select(OrgUnit).where(OrgUnit.level == "township").order_by(OrgUnit.code))
    county_wide, editor, seated = viewer.has_role(*COUNTY_WIDE_READERS), viewer.has_role(*EDITORS), \
        _seat_townships(viewer)
    found = []
    for town in towns:
        cadre = any(s.role == CADRE_ROLE and s.unit_code == town.code for s in viewer.seats)
        if county_wide or town.path in seated:
            found.append(Township(town, editor or cadre))
    return found


def _chosen(code: str) -> tuple[Township, list[Township]]:
    """The township asked for (the viewer's first when none is), and all the viewer reads; 403 for another."""
    towns = _townships(current_access().viewer)
    if not towns:
        raise AccessDenied("您在任何乡镇都没有职务，没有可查看的接访排班")
    chosen = next((t for t in towns if t.unit.code == code), None) if code else towns[0]
    if chosen is None:
        raise AccessDenied("您无权查看该乡镇的接访排班")
    return chosen, towns


def _month(text: str, today: date) -> date | None:
    if not text:
        return today.replace(day=1)
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        return None
    return first if 2000 <= first.year <= 2100 else None


def _day(text: str, field: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = "请填写日期（YYYY-MM-DD）"
        return None

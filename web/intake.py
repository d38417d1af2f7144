"""登记入口: every door a person may open (workflows/data/start_permissions.yaml), its form, and the org search."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workflows.cases.access import Access
from workflows.cases.forms import Form
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import AccessDenied, SubmissionInvalid
from workflows.intake.registration import PLACE_KEYS, SOURCE_CASE, fixed_values, open_case, opening
from workflows.intake.start_permissions import Door, start_permissions
from workflows.org.models import OrgUnit
from workflows.org.search import PICKS, choices, count
from workflows.org.tree import units_by_code
from workflows.views.case_list import case_page

from .extensions import request_session, services, workflow_engine
from .security import current_access, login_required

bp = Blueprint("intake", __name__)
SELECT_AT_MOST = 80  # more choices than this: a text box with suggestions (a datalist), searched as one types
SUGGEST_AT_MOST = 500


@bp.get("/intake")
@login_required
def index() -> str:
    """The doors the person may open, with what each registers."""
    doors = start_permissions().open_to(current_access().viewer.roles)
    return render_template("intake/index.html", doors=doors)


@bp.get("/intake/<door_code>")
@login_required
def form(door_code: str) -> str | Response:
    """A door's form (the values the door fixes shown, not asked)."""
    door = _door(door_code)
    if door.page == "reception":
        return redirect(url_for("reception.desk"))
    typed = {k: v for k, v in request.args.items() if k != "csrf_token"}
    return _form_page(door, typed, {})


@bp.post("/intake/<door_code>")
@login_required
def submit(door_code: str) -> str | Response | tuple[str, int]:
    """Open a case through the door; the form again with messages on the fields when anything is wrong."""
    door = _door(door_code)
    session, engine, access = request_session(), workflow_engine(), current_access()
    try:
        result = open_case(session, engine, access, door, request.form, services().now(session))
    except SubmissionInvalid as invalid:
        session.rollback()
        return _form_page(door, request.form.to_dict(), invalid.errors), 422
    following = [t.name or t.element_id for t in engine.open_tasks(result.instance.id)]
    record = session.get(CaseRecord, result.instance.id)
    session.commit()
    number = record.case_number if record else f"#{result.instance.id}"
    code = f"，查询码 {record.query_code}（请告知信访人）" if record else ""
    flash(f"已登记（{door.title}）：案件 {number}{code}。下一步：{'、'.join(following) or '无'}", "success")
    return redirect(url_for("cases.show", case_id=result.instance.id))


@bp.get("/org/search")
@login_required
def org_search() -> dict[str, Any]:
    """Units or people a form field may name, matching `q` by name or code (for the page's suggestions)."""
    pick = PICKS.get(request.args.get("field", ""))
    if pick is None:
        abort(404)
    text = request.args.get("q", "")[:50]
    found = choices(request_session(), pick, territory(current_access()), text, limit=20)
    return {"items": [{"value": c.value, "label": c.label} for c in found]}


def org_pickers(access: Access, form: Form, skip: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """For each field of `form` that names someone of the org: a select's choices, or the first suggestions."""
    pickers = {}
    where = territory(access)
    for f in form.fields:
        pick = PICKS.get(f.name)
        if pick is None or f.name in set(skip):
            continue
        many = count(access.session, pick, where)
        listed = choices(access.session, pick, where, limit=SELECT_AT_MOST if many <= SELECT_AT_MOST
                         else SUGGEST_AT_MOST)
        pickers[f.name] = {"select": many <= SELECT_AT_MOST, "choices": listed}
    return pickers


def territory(access: Access) -> list[str] | None:
    """The area paths a person may pick places in: None (the county) for county-level positions."""
    paths = [seat.area_path for seat in access.viewer.seats]
    if not paths or any(path.count("/") <= 2 for path in paths):
        return None
    return paths


def _door(code: str) -> Door:
    door = start_permissions().door(code)
    if door is None:
        abort(404)
    if not door.open_to(current_access().viewer.roles):
        raise AccessDenied(f"您的角色不能使用「{door.title}」（可使用者：{door.role_names}）")
    return door


def _form_page(door: Door, typed: dict[str, Any], errors: dict[str, str]) -> str:
    session, access = request_session(), current_access()
    start = opening(session, workflow_engine(), door.process)
    fixed = fixed_values(access, door)
    places = units_by_code(session, [str(v) for k, v in fixed.items() if k in PLACE_KEYS])
    values = {**start.form.defaults(), **typed}
    pickers = org_pickers(access, start.form, skip=set(fixed))
    source, candidates = None, []
    if door.from_case and str(typed.get(SOURCE_CASE, "")).isdigit():
        found = session.get(CaseRecord, int(typed[SOURCE_CASE]))
        source = found if found is not None and access.may_see_case(found) else None
    if door.from_case and source is None:
        candidates = case_page(access, str(typed.get("q", "")), per_page=30).cases
    return render_template("intake/form.html", door=door, form=start.form, values=values, errors=errors,
                           fixed={k: _fixed_label(start.form, k, v, places) for k, v in fixed.items()
                                  if start.form.field(k) is not None},
                           pickers=pickers, source=source, candidates=candidates, source_key=SOURCE_CASE)


def _fixed_label(form: Any, name: str, value: Any, places: dict[str, OrgUnit]) -> str:
    """A fixed value as its label: the option's Chinese name, the place's name, else the value."""
    if name in PLACE_KEYS and str(value) in places:
        return places[str(value)].name
    field = form.field(name)
    for option in field.options if field is not None else ():
        if option.value == value:
            return str(option.label)
    return str(value)

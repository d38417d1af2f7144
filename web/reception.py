"""The reception desk (接访台): the duty secretary registers a visit; the duty cadre disposes of it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import packaged_config
from workflows.cases.task_work import SubmissionInvalid
from workflows.intake.reception_desk import (
    MAX_ROWS,
    desk_seat,
    on_duty,
    on_duty_near,
    register_form,
    register_visit,
    todays_visits,
    villages_of,
)

from .extensions import request_session, services, workflow_engine
from .intake import org_pickers
from .security import current_access, login_required

bp = Blueprint("reception", __name__)


@bp.get("/reception")
@login_required
def desk() -> str:
    """Today's desk: the registration form (for the duty secretary) and today's visits with their next steps."""
    rows = request.args.get("rows", "2")
    count = min(max(int(rows), 1), MAX_ROWS) if rows.isdigit() else 2
    return _desk_page({}, {}, count)


@bp.post("/reception")
@login_required
def register() -> str | Response | tuple[str, int]:
    """Register a visit: start a reception case and complete 登记来访 in one transaction."""
    session, engine = request_session(), workflow_engine()
    try:
        result = register_visit(session, engine, current_access(), request.form, services().now(session))
    except SubmissionInvalid as invalid:
        session.rollback()
        typed = request.form.to_dict()
        rows = sum(1 for i in range(MAX_ROWS) if any(typed.get(f"p-{i}-{k}") for k in ("petitioner_name",
                                                                                       "id_number", "phone")))
        return _desk_page(typed, invalid.errors, max(rows, 1)), 422
    following = [t.name or t.element_id for t in engine.open_tasks(result.instance.id)]
    record = session.get(CaseRecord, result.instance.id)
    session.commit()
    number = record.case_number if record else f"#{result.instance.id}"
    code = record.query_code if record else ""
    flash(f"已登记来访：案件 {number}，查询码 {code}（请告知信访人）。"
          f"下一步：{'、'.join(following) or '无'}", "success")
    return redirect(url_for("reception.desk") + f"#case-{result.instance.id}")


def _desk_page(typed: dict[str, Any], errors: dict[str, str], rows: int) -> str:
    session, engine, access = request_session(), workflow_engine(), current_access()
    now = services().now(session)
    seat = desk_seat(access)
    if seat is None:
        return render_template("reception.html", seat=None, on_duty=on_duty_near(session, access))
    entry = on_duty(session, seat.township_code, access.viewer.day)
    form = register_form(session, engine)
    return render_template(
        "reception.html", seat=seat, entry=entry, form=form, villages=villages_of(session, seat.township_code),
        visits=todays_visits(session, access, seat, now), typed=typed, errors=errors, rows=rows,
        pickers=org_pickers(access, form, skip={"township", "village", "grid"}),
        categories={c.code: c.name for c in packaged_config().routing.categories.values()},
        group_threshold=packaged_config().deadlines.group_visit_threshold)

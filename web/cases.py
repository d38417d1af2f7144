"""Cases: the list a person may see, a case's page (details, holders, deadlines, history, diagram), unmasking."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from engine.models import Incident
from workflows.cases.record import RATING_SOURCE_NAMES, CaseRecord
from workflows.cases.script_helpers import packaged_config
from workflows.cases.stand_in import stepped_aside
from workflows.cases.task_work import AccessDenied
from workflows.intake.petitioner_query import SATISFACTION, QueryError, is_rateable, record_told_rating
from workflows.intake.receipt import receipt
from workflows.views.case_diagram import diagram_xml, diagrams
from workflows.views.case_list import case_page
from workflows.views.case_view import deadline_rows, holders_now, record_reveal, summarize, timeline
from workflows.views.inbox import process_names

from .extensions import db, request_session, services, workflow_engine
from .headers import xml_download
from .security import current_access, login_required, visible_case

bp = Blueprint("cases", __name__)


@bp.get("/cases")
@login_required
def index() -> str:
    """The cases this person may see, newest first, a page at a time; searched by number, query code or claim."""
    search = request.args.get("q", "")
    page = request.args.get("page", "1")
    found = case_page(current_access(), search, int(page) if page.isdigit() else 1)
    return render_template("cases.html", found=found, cases=found.cases, search=search,
                           processes=process_names(request_session()),
                           categories={c.code: c.name for c in packaged_config().routing.categories.values()})


@bp.get("/cases/<int:case_id>")
@login_required
def show(case_id: int) -> str:
    """A case's page, personal data masked."""
    return _case_page(visible_case(case_id), revealed=False)


@bp.post("/cases/<int:case_id>/reveal")
@login_required
def reveal(case_id: int) -> Response:
    """Show the case's personal data unmasked, and record who viewed it."""
    case = visible_case(case_id)
    if not current_access().may_reveal(case):
        raise AccessDenied("您的岗位无权查看完整的身份证号和电话")
    record_reveal(workflow_engine(), case, current_access().viewer.username)
    db.session.commit()
    response = Response(_case_page(case, revealed=True), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/cases/<int:case_id>/rating")
@login_required
def record_rating(case_id: int) -> BaseResponse | tuple[str, int]:
    """Record the rating the petitioner gave on a return call (电话回访，工作人员代录), once per case."""
    case = visible_case(case_id)
    session = request_session()
    try:
        record_told_rating(session, workflow_engine(), current_access(), case, request.form.get("satisfaction", ""),
                           request.form.get("comment", ""))
    except QueryError as refused:
        session.rollback()
        case = visible_case(case_id)
        return _case_page(case, revealed=False, rating_error=str(refused)), 422
    session.commit()
    flash("已代录信访人的评价（电话回访，工作人员代录）", "success")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.get("/cases/<int:case_id>/receipt")
@login_required
def receipt_page(case_id: int) -> str:
    """The printable receipt (回执) for the petitioner: case number, query code, query address, time limits."""
    case = visible_case(case_id)
    return render_template("receipt.html", receipt=receipt(request_session(), case), case=case,
                           query_url=url_for("query.form", _external=True))


@bp.get("/cases/<int:case_id>/diagram/<process_id>.bpmn")
@login_required
def diagram(case_id: int, process_id: str) -> BaseResponse:
    """The BPMN XML of the case's process (or of a process it called), as deployed with its version."""
    case = visible_case(case_id)
    engine = workflow_engine()
    content = diagram_xml(request_session(), engine, engine.instance(case.instance_id), process_id)
    if content is None:
        abort(404)
    return xml_download(content, f"{process_id}.bpmn")


def _case_page(case: CaseRecord, revealed: bool, rating_error: str = "") -> str:
    session, engine, access = request_session(), workflow_engine(), current_access()
    now = services().now(session)
    instance = engine.instance(case.instance_id)
    tasks = engine.open_tasks(case.instance_id)
    incidents = session.scalars(select(Incident).where(Incident.instance_id == case.instance_id,
                                                       Incident.status == "open")).all()
    return render_template(
        "case.html", case=case, instance=instance,
        summary=summarize(session, case, revealed, visible=access.may_see_case),
        holders=holders_now(session, case, tasks, now), deadlines=deadline_rows(case, tasks, now),
        events=timeline(session, engine, instance, case, revealed, full=True),
        diagrams=diagrams(session, engine, instance, now),
        incidents=incidents, may_reveal=access.may_reveal(case), read_only=access.is_read_only(case),
        actionable={t.id for t in tasks if access.may_act_on_task(t, case)},
        stand_ins={t.id: found for t in tasks if (found := access.stand_in_for(t, case)) is not None},
        asides=stepped_aside(session, case.instance_id) if access.anyone_stepped_aside(case.instance_id) else [],
        rating_form=access.may_record_rating(case) and is_rateable(session, case), rating_error=rating_error,
        satisfaction=SATISFACTION, rating_sources=RATING_SOURCE_NAMES)

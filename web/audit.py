"""Audit pages (审计督查): find a case, read its history, step through it on its diagram, verify it, export it.

Auditors and the county bureau only. The pages change nothing but the record of who looked: every page that shows
a case's data (masked) is recorded on the case, and every export on each case it holds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from engine.audit import chain_status, history_from_db, verify
from engine.export import EXPORTERS, MEDIA_TYPES, cases_of_month, export_cases
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import script_helpers
from workflows.cases.task_work import AccessDenied
from workflows.intake.petitioner_query import OUTCOMES
from workflows.views.audit_view import (
    AUDIT_ROLES,
    OVERDUE_CHOICES,
    STATUS_NAMES,
    CaseSearch,
    divergence_text,
    export_presentation,
    read_history,
    reads_page,
    record_audit_view,
    search_cases,
    step_page,
    townships,
    verification,
)
from workflows.views.case_diagram import diagram_xml
from workflows.views.case_view import deadline_rows, summarize
from workflows.views.inbox import process_names

from .extensions import db, request_session, services, workflow_engine
from .headers import xml_download
from .security import LOCAL, current_access, login_required, visible_case

bp = Blueprint("audit", __name__, url_prefix="/audit")
F = TypeVar("F", bound=Callable[..., Any])
FORMAT_NAMES = {"json": "JSON（完整，可校验）", "csv": "CSV（每个事件一行）", "xes": "XES（过程挖掘）"}


def auditors_only(view: F) -> F:
    """Let in people who are logged in and audit: auditors and the county bureau."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_access().viewer.has_role(*AUDIT_ROLES):
            raise AccessDenied("审计页面只对审计督查和县信访局开放")
        return view(*args, **kwargs)

    return cast(F, login_required(wrapped))


@bp.get("", endpoint="search")
@auditors_only
def search_page() -> str:
    """Search every case by number, place, month, process, status, overdue and outcome."""
    search, session = CaseSearch.from_args(request.args), request_session()
    return render_template(
        "audit/search.html", search=search, problems=search.problems(LOCAL),
        found=search_cases(current_access(), search, LOCAL), processes=process_names(session),
        townships=townships(session), statuses=STATUS_NAMES, outcomes=OUTCOMES, overdue_choices=OVERDUE_CHOICES,
        formats=FORMAT_NAMES)


@bp.get("/cases/<int:case_id>")
@auditors_only
def case_page(case_id: int) -> str:
    """A case's whole history, its verification and its chain digest; the view is recorded on the case."""
    case = _audited_case(case_id)
    _record_view(case, "history")
    session, engine = request_session(), workflow_engine()
    history = history_from_db(session, case.instance_id)
    return render_template(
        "audit/case.html", case=case, summary=summarize(session, case, False, visible=current_access().may_see_case),
        holders=[], instance=None,
        deadlines=deadline_rows(case, engine.open_tasks(case.instance_id), services().now(session)),
        reading=read_history(session, engine, case, history), verdict=verify(history, _helper_names()),
        chain=chain_status(session, case.instance_id), describe=divergence_text, formats=FORMAT_NAMES)


@bp.get("/cases/<int:case_id>/steps")
@auditors_only
def jump(case_id: int) -> BaseResponse:
    """Go to the step typed in the jump box (a plain GET form: no script needed)."""
    case = _audited_case(case_id)
    last = workflow_engine().instance(case.instance_id).event_count or 1
    given = request.args.get("n", "1").strip()
    number = min(max(int(given), 1), last) if given.isdigit() else 1
    return redirect(url_for("audit.step", case_id=case_id, number=number))


@bp.get("/cases/<int:case_id>/steps/<int:number>")
@auditors_only
def step(case_id: int, number: int) -> str:
    """The case at step `number`: its diagram marked as it stood, its data then, and what the step changed."""
    case = _audited_case(case_id)
    engine = workflow_engine()
    if not 1 <= number <= (engine.instance(case.instance_id).event_count or 0):
        abort(404)
    _record_view(case, "step", number)
    session = request_session()
    history = history_from_db(session, case.instance_id)
    reading = read_history(session, engine, case, history)
    page = step_page(session, engine, case, history, reading, number, _helper_names())
    xml_urls = {view.process_id: url_for("audit.diagram", case_id=case_id, version_id=page.step.version,
                                         process_id=view.process_id) for view in page.diagrams}
    return render_template("audit/step.html", case=case, page=page, reading=reading, xml_urls=xml_urls,
                           describe=divergence_text, formats=FORMAT_NAMES)


@bp.get("/cases/<int:case_id>/verification")
@auditors_only
def verification_page(case_id: int) -> str:
    """The verification of a case, event by event: recorded and re-executed state digests, and the chain digest."""
    case = _audited_case(case_id)
    session = request_session()
    history = history_from_db(session, case.instance_id)
    return render_template("audit/verification.html", case=case, check=verification(session, history,
                                                                                     _helper_names()),
                           describe=divergence_text, formats=FORMAT_NAMES)


@bp.get("/cases/<int:case_id>/diagram/<int:version_id>/<process_id>.bpmn")
@auditors_only
def diagram(case_id: int, version_id: int, process_id: str) -> BaseResponse:
    """The BPMN XML of a version of the case's process (the one it ran on at a step), or of a process it called."""
    case = _audited_case(case_id)
    engine = workflow_engine()
    content = diagram_xml(request_session(), engine, engine.instance(case.instance_id), process_id, version_id)
    if content is None:
        abort(404)
    return xml_download(content, f"{process_id}-v{version_id}.bpmn")


@bp.post("/export")
@auditors_only
def export() -> BaseResponse:
    """Download one case or a month's cases as JSON, CSV or XES; the export is recorded on each case."""
    fmt = request.form.get("format", "")
    if fmt not in EXPORTERS:
        abort(400, description=f"请选择导出格式：{'、'.join(sorted(EXPORTERS))}")
    case_id, period = request.form.get("case", "").strip(), request.form.get("period", "").strip()
    if case_id.isdigit():
        case = _audited_case(int(case_id))
        ids, name = [case.instance_id], f"{case.case_number}.{fmt}"
    elif period:
        try:
            ids = [i for i in cases_of_month(request_session(), period, LOCAL) if _may_audit(i)]
        except ValueError:
            abort(400, description=f"月份请写成 2026-03 的形式（收到“{period}”）")
        name = f"cases-{period}.{fmt}"
        if not ids:
            flash(f"{period} 没有登记的案件，未导出", "info")
            return redirect(url_for("audit.search", period=period))
    else:
        abort(400, description="请选择要导出的案件或月份")
    reason = _unmask_reason(ids)
    engine = workflow_engine()
    content = export_cases(engine, ids, fmt, current_access().viewer.username, name,
                           export_presentation(request_session(), engine, ids, LOCAL), reason)
    db.session.commit()
    response = Response(content, mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _unmask_reason(ids: list[int]) -> str | None:
    """The reason given to export personal data unmasked, once the viewer's right to on every case is checked."""
    if request.form.get("unmask") != "yes":
        return None
    reason = request.form.get("reason", "").strip()
    if not reason:
        abort(400, description="导出完整个人信息须填写理由（reason）")
    if len(reason) > 500:
        abort(400, description="理由（reason）最多 500 字")
    access = current_access()
    refused = [i for i in ids if (case := db.session.get(CaseRecord, i)) is None or not access.may_reveal(case)]
    if refused:
        raise AccessDenied(f"您的岗位不能查看其中 {len(refused)} 件案件的完整个人信息，请导出脱敏版本")
    return reason


@bp.get("/cases/<int:case_id>/reads")
@auditors_only
def reads(case_id: int) -> str:
    """Who read the case: audit page views, exports and unmaskings, kept apart from its step history."""
    case = _audited_case(case_id)
    return render_template("audit/reads.html", case=case, page=reads_page(request_session(), case, LOCAL),
                           formats=FORMAT_NAMES)


def _audited_case(case_id: int) -> CaseRecord:
    return visible_case(case_id, "此案件按回避规定不向您显示")


def _may_audit(instance_id: int) -> bool:
    case = db.session.get(CaseRecord, instance_id)
    return case is None or current_access().may_see_case(case)


def _record_view(case: CaseRecord, page: str, step: int | None = None) -> None:
    record_audit_view(workflow_engine(), case, current_access().viewer.username, page, step)
    db.session.commit()


def _helper_names() -> set[str]:
    return set(script_helpers(request_session()))

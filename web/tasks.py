"""My tasks: the inbox, a task's page with its form, claiming, releasing and completing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from engine import Conflict, TaskNotReady, TaskTaken
from engine.models import HumanTask
from workflows.cases.forms import parse_form
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import (
    SubmissionInvalid,
    TaskContext,
    check_submission,
    claim,
    complete,
    ensure_may_act,
    load_task,
    release,
    step_aside,
    suggested_values,
)
from workflows.org.search import Choice
from workflows.views.case_diagram import DiagramView, diagrams
from workflows.views.case_view import deadline_rows, display_names, holders_now, summarize
from workflows.views.inbox import CLAIM_CHOICES, DUE_CHOICES, SORTS, InboxFilter
from workflows.views.inbox import inbox as build_inbox
from workflows.views.task_context import task_background

from .errors import taken_message
from .extensions import db, once_more_after_conflict, request_session, services, workflow_engine
from .intake import org_pickers
from .security import current_access, login_required, redirect_next

bp = Blueprint("tasks", __name__)
REPEAT_CANDIDATES, REPEAT_FIELD = "repeat_candidates", "repeat_of"  # the registration's earlier cases, and the link


@bp.get("/tasks", endpoint="inbox")
@login_required
def inbox_page() -> str:
    """The open tasks this person may act on, filtered and sorted as asked."""
    wanted = InboxFilter.from_args(request.args)
    box = build_inbox(current_access(), services().now(request_session()), wanted)
    return render_template("inbox.html", box=box, wanted=wanted, due_choices=DUE_CHOICES,
                           claim_choices=CLAIM_CHOICES, sorts=SORTS, link=_filter_link(wanted))


def _filter_link(wanted: InboxFilter) -> Any:
    """A function that gives the inbox URL with some filter values changed (empty means "all")."""

    def link(**changes: str) -> str:
        args = {name: getattr(wanted, name) for name in ("due", "category", "place", "process", "claim", "sort")}
        args.update(changes)
        return url_for("tasks.inbox", **{k: v for k, v in args.items() if v and not (k == "sort" and v == "due")})

    return link


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str) -> str | Response:
    """A task's page: its form beside the case summary, deadlines and diagram."""
    session = request_session()
    context = load_task(session, workflow_engine(), current_access(), task_id)
    if context.task.status != "open":
        flash(f"任务「{context.task.name}」已经办结或撤销", "info")
        return redirect(url_for("cases.show", case_id=context.task.instance_id))
    suggestion = suggested_values(session, context)
    return _task_page(context, suggestion.values, {}, suggestion.notes)


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id: str) -> str | Response | tuple[str, int]:
    """Check the submitted form; complete the task or show the form again with the messages on the fields."""
    session, engine, access = request_session(), workflow_engine(), current_access()
    now = services().now(session)
    context = load_task(session, engine, access, task_id)
    if context.task.status != "open":
        flash(_already_done(context.task), "info")
        return redirect(url_for("cases.show", case_id=context.task.instance_id))
    case_page = url_for("cases.show", case_id=context.task.instance_id)
    values, parse_errors, typed = parse_form(context.form, request.form)
    try:
        ensure_may_act(context, access)  # held by a colleague: told who, as the claim button is (403 for the rest)
        errors = {**check_submission(session, context, dict(values), now), **parse_errors}
        if errors:
            raise SubmissionInvalid(errors)
        result = once_more_after_conflict(lambda: complete(session, engine, access, task_id, values, now, context))
    except SubmissionInvalid as invalid:
        session.rollback()
        return _task_page(context, typed, invalid.errors), 422
    except TaskTaken as taken:
        session.rollback()
        flash(taken_message(taken), "error")
        return redirect(case_page)
    except (TaskNotReady, Conflict) as refused:
        session.rollback()
        flash(f"任务「{context.task.name}」已经办结或撤销，未重复提交" if isinstance(refused, TaskNotReady)
              else "该任务刚被他人处理，请查看最新状态", "info")
        return redirect(case_page)
    if result.already_applied:  # the same submission raced itself (a double click): the first one went through
        flash(_already_done(context.task), "info")
        return redirect(case_page)
    following = [t.name or t.element_id for t in engine.open_tasks(result.instance.id)]
    record = session.get(CaseRecord, context.task.instance_id)
    registered = record is not None and _completed_tasks(context.task.instance_id) == 1
    session.commit()
    number = record.case_number if record else f"#{context.task.instance_id}"
    if registered and record is not None:  # the case was registered by this task: the petitioner needs the code
        flash(f"已登记：案件 {number}，查询码 {record.query_code}（请告知信访人，可在案件页打印回执）", "success")
    flash(f"已提交「{context.task.name}」（案件 {number}）。" +
          (f"下一步：{'、'.join(following)}" if following else
           "案件已办结" if result.instance.status == "completed" else "案件等待下一步"), "success")
    return redirect_next(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim_task(task_id: str) -> Response:
    """Take a task, so that nobody else works on it at the same time."""
    try:
        task = once_more_after_conflict(lambda: claim(request_session(), workflow_engine(), current_access(), task_id))
    except TaskNotReady as refused:
        db.session.rollback()
        flash(taken_message(refused) if isinstance(refused, TaskTaken) else "该任务已经办结或撤销", "error")
        return redirect_next(url_for("tasks.inbox"))
    db.session.commit()
    flash(f"已认领「{task.name}」", "success")
    return redirect_next(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/release")
@login_required
def release_task(task_id: str) -> Response:
    """Give a claimed task back to everyone who may act on it."""
    try:
        task = release(request_session(), workflow_engine(), current_access(), task_id)
    except TaskNotReady:
        db.session.rollback()
        flash("您没有认领该任务", "error")
        return redirect_next(url_for("tasks.inbox"))
    db.session.commit()
    flash(f"已释放「{task.name}」", "success")
    return redirect_next(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/step-aside")
@login_required
def step_aside_task(task_id: str) -> Response | tuple[str, int]:
    """Step aside (回避) from the task's case: recorded, and the task goes back to the colleagues."""
    session, engine = request_session(), workflow_engine()
    try:
        task = step_aside(session, engine, current_access(), task_id, request.form.get("reason", ""))
    except SubmissionInvalid as invalid:
        session.rollback()
        flash(invalid.errors["reason"], "error")
        return redirect(url_for("tasks.show", task_id=task_id))
    session.commit()
    flash(f"已回避「{task.name}」：您不再查看和办理此案件，任务由同岗位的其他同事办理（已记录）。", "success")
    return redirect(url_for("tasks.inbox"))


def _task_page(context: TaskContext, values: dict[str, Any], errors: dict[str, str],
               notes: dict[str, str] | None = None) -> str:
    """The task page; `notes` are said beside their fields (why no value is suggested)."""
    session, engine, access = request_session(), workflow_engine(), current_access()
    now = services().now(session)
    instance = engine.instance(context.task.instance_id)
    open_tasks = engine.open_tasks(instance.id)
    pickers = org_pickers(access, context.form)
    earlier = earlier_cases_of(context.data)
    if earlier and context.form.field(REPEAT_FIELD) is not None:
        listed = [Choice(str(e["instance_id"]), e["label"]) for e in earlier]
        pickers[REPEAT_FIELD] = {"select": True, "choices": listed}
    return render_template(
        "task.html", context=context, task=context.task, form=context.form, values=values, errors=errors,
        notes=notes or {},
        may_act=access.may_act_on_task(context.task, context.case),
        summary=summarize(session, context.case, revealed=False, visible=access.may_see_case)
        if context.case else None,
        deadlines=deadline_rows(context.case, open_tasks, now) if context.case else [],
        holders=holders_now(session, context.case, open_tasks, now) if context.case else [],
        diagrams=_task_first(diagrams(session, engine, instance, now), context.task), pickers=pickers, earlier=earlier,
        instance=instance, background=task_background(session, engine, instance, context.case, now))


def _already_done(task: HumanTask) -> str:
    """What a second submit of a done task is told: the first one went through (by whom, when), or it was withdrawn."""
    if task.status == "completed" and task.completed_at is not None:
        done_by = task.completed_by or ""
        who = display_names(request_session(), [done_by]).get(done_by, task.completed_by)
        when = current_app.jinja_env.filters["local"](task.completed_at)
        return f"「{task.name}」已于 {when} 由{who}提交成功，本次重复提交未再处理；以下是案件的最新情况"
    return f"「{task.name}」已经撤销（流程已走到其他环节），本次提交未处理；以下是案件的最新情况"


def _completed_tasks(instance_id: int) -> int:
    return db.session.scalar(select(func.count(HumanTask.id)).where(HumanTask.instance_id == instance_id,
                                                                    HumanTask.status == "completed")) or 0


def earlier_cases_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The petitioner's earlier cases the registration found (case data `repeat_candidates`), labelled for a page."""
    found = data.get(REPEAT_CANDIDATES)
    if not isinstance(found, list):
        return []
    matches = {"id_number": "身份证号相同", "claim": "诉求相似"}
    earlier = []
    for item in found:
        if isinstance(item, dict) and isinstance(item.get("instance_id"), int):
            match = matches.get(str(item.get("match")), "")
            final = "，已终结（复核后不再受理）" if item.get("final") else ""
            earlier.append({**item, "label": f"{item.get('case_number', item['instance_id'])}（{match}{final}）"})
    return earlier


def _task_first(views: list[DiagramView], task: HumanTask) -> list[DiagramView]:
    """The diagrams with the one the task is drawn in first (a called process's task: that process)."""
    process = task.ref.split("#")[0].rpartition("/")[0] or None
    return sorted(views, key=lambda view: view.process_id != process) if process else views

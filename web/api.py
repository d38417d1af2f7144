"""The JSON API (`/api/v1`): my tasks, claim, release, complete, start a case, read a case, record a return-call
rating; an OpenAPI document.

Authentication is by API token only (`Authorization: Bearer <token>`, from `POST /api/v1/tokens` or
`doorstep token issue USERNAME`). The browser's session cookie never authenticates an API call, so a page of
another site cannot make a logged-in browser act here; that is why this blueprint needs no CSRF token.

Every view goes through the same domain functions as the pages (`workflows.cases.task_work`,
`workflows.views.inbox`, `workflows.intake.reception_desk`, `workflows.intake.petitioner_query`,
`workflows.views.case_view`) and so through the same access rules: what a page refuses with 403 the API refuses
with 403. Errors come in the one shape of `web/errors.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, request, url_for
from flask.blueprints import BlueprintSetupState
from marshmallow import ValidationError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from engine import Conflict, Engine, StepResult, TaskNotReady, TaskTaken
from engine.models import HumanTask
from workflows.cases.access import Access, load_viewer
from workflows.cases.forms import FORM_ERROR
from workflows.cases.record import CaseRecord
from workflows.cases.task_work import (
    SubmissionInvalid,
    check_submission,
    claim,
    complete,
    ensure_may_act,
    load_task,
    release,
    step_aside,
    suggested_values,
)
from workflows.intake.petitioner_query import AlreadyRated, NotRateable, record_told_rating
from workflows.intake.reception_desk import PETITIONER_FIELDS, register_visit
from workflows.intake.registration import open_case
from workflows.intake.start_permissions import start_permissions
from workflows.org.accounts import (
    AccountDisabled,
    PasswordChangeNeeded,
    authenticate_token,
    issue_api_token,
    log_in_checked,
)
from workflows.views.case_view import deadline_rows, holders_now, summarize, timeline
from workflows.views.inbox import InboxFilter, InboxItem, describe, inbox

from .errors import error_response
from .extensions import once_more_after_conflict, request_session, services, workflow_engine
from .idempotency import commit_answer, idempotent
from .openapi import document, operation
from .schemas import (
    CaseRatingSchema,
    CaseSchema,
    CaseStartRequestSchema,
    CompletionRequestSchema,
    CompletionSchema,
    InboxQuerySchema,
    InboxSchema,
    RatingRequestSchema,
    StartedCaseSchema,
    StepAsideRequestSchema,
    TaskDetailSchema,
    TaskSchema,
    TokenRequestSchema,
    TokenSchema,
    VisitRequestSchema,
    shared,
)
from .security import current_access, remembered_viewers, visible_case
from .viewer_cache import TOKEN

bp = Blueprint("api", __name__, url_prefix="/api/v1")
LOCAL = ZoneInfo("Asia/Shanghai")
PUBLIC_ENDPOINTS = frozenset({"api.issue_token", "api.openapi"})
TOKEN_NEEDED = "需要有效的 API 令牌：请在请求头中提供 Authorization: Bearer <令牌>（POST /api/v1/tokens 获取）"


@bp.record_once
def _exempt_from_csrf(state: BlueprintSetupState) -> None:
    """Token-authenticated calls carry no ambient credential, so the CSRF check does not apply to them."""
    state.app.config["CSRF_EXEMPT_BLUEPRINTS"] = {*state.app.config.get("CSRF_EXEMPT_BLUEPRINTS", ()), bp.name}


@bp.before_request
def _authenticate() -> Response | None:
    """Find the person by the bearer token; never by the session cookie. 401 for protected routes otherwise."""
    g.viewer = None  # set before anything asks `current_viewer()`, so the session is never consulted
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        session = request_session()
        today = services().now(session).astimezone(LOCAL).date()
        g.viewer = remembered_viewers().get(TOKEN, token.strip(), today)
        if g.viewer is None:
            person = authenticate_token(session, token.strip())
            if person is not None:
                g.viewer = load_viewer(session, person.username, today)
                if g.viewer is not None:
                    remembered_viewers().put(TOKEN, token.strip(), today, g.viewer)
    if g.viewer is None and request.endpoint not in PUBLIC_ENDPOINTS:
        response = error_response(401, TOKEN_NEEDED)
        response.headers["WWW-Authenticate"] = 'Bearer realm="doorstep"' + (
            ', error="invalid_token"' if token.strip() else "")
        return response
    return None


@bp.errorhandler(ValidationError)
def _invalid_request(error: ValidationError) -> Response:
    """A request that does not have the wire shape: 422 with a message per field (dotted paths)."""
    messages = error.messages if isinstance(error.messages, dict) else {FORM_ERROR: error.messages}
    return error_response(422, None, field_messages(messages))


def field_messages(messages: Mapping[Any, Any], prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as one message per dotted field path (`petitioners.0.phone`)."""
    found: dict[str, str] = {}
    for key, value in messages.items():
        path = prefix + (FORM_ERROR if key == "_schema" else str(key))
        if isinstance(value, Mapping):
            found.update(field_messages(value, path + "."))
        elif isinstance(value, list):
            found[path] = "；".join(str(v) for v in value)
        else:
            found[path] = str(value)
    return found


# -- tokens and the document ------------------------------------------------------------------------------------
@bp.post("/tokens")
@operation("用用户名和密码换取 API 令牌", body=TokenRequestSchema, response=TokenSchema, status=201,
           errors=(401, 403, 422, 429), public=True,
           description="每个账号只有一个有效令牌：换取新令牌后旧令牌失效。账号已停用，或仍在使用管理员发放的初始密码"
                       "（须先在网页上修改）时答 403。")
def issue_token() -> tuple[dict[str, Any], int]:
    """Exchange a username and password for a new API token (the previous one stops working)."""
    given = shared(TokenRequestSchema).load(_body())
    session = request_session()
    try:
        account = log_in_checked(session, given["username"].strip(), given["password"],
                                 request.remote_addr or "unknown", services().now(session))  # TooManyAttempts: 429
    except AccountDisabled as disabled:
        abort(error_response(403, str(disabled)))
    if account is None:
        session.commit()  # the failed attempt is kept
        abort(error_response(401, "用户名或密码不正确"))
    if account.must_change_password:
        session.commit()  # the right password forgot the account's failed attempts
        abort(error_response(403, str(PasswordChangeNeeded())))
    person = account.person
    token = issue_api_token(session, person.username)
    session.commit()
    remembered_viewers().forget(person.username)  # the old token stops working in this worker at once
    return shared(TokenSchema).dump({"token": token, "username": person.username,
                               "display_name": person.display_name}), 201


@bp.get("/openapi.json")
@operation("本接口的 OpenAPI 文档", public=True)
def openapi() -> dict[str, Any]:
    """The OpenAPI document of these endpoints."""
    return document(current_app)


# -- my tasks ---------------------------------------------------------------------------------------------------
@bp.get("/tasks")
@operation("我的待办（可按期限、类别、地点、流程、认领筛选）", query=InboxQuerySchema, response=InboxSchema,
           errors=(422,))
def list_tasks() -> dict[str, Any]:
    """The open tasks the caller may act on, filtered and sorted as asked, with counts per filter value."""
    given = shared(InboxQuerySchema).load(request.args)
    cleaned: dict[str, Any] = {k: v.strip() if isinstance(v, str) else v for k, v in given.items()}
    wanted = InboxFilter(**cleaned)
    return shared(InboxSchema).dump(inbox(current_access(), services().now(request_session()), wanted))


@dataclass
class TaskDetail(InboxItem):
    """An inbox item with the task's form and whether the caller may act on it now."""

    may_act: bool
    form: dict[str, Any]
    suggested: dict[str, Any]


@bp.get("/tasks/<task_id>")
@operation("一个任务及其表单（JSON Schema）", response=TaskDetailSchema, errors=(403, 404))
def show_task(task_id: str) -> dict[str, Any]:
    """A task the caller may see, with its form and the values the page would start with."""
    session, access = request_session(), current_access()
    context = load_task(session, workflow_engine(), access, task_id)
    item = _item(session, context.task, context.case, access)
    open_ = context.task.status == "open"
    return shared(TaskDetailSchema).dump(TaskDetail(
        **vars(item), may_act=access.may_act_on_task(context.task, context.case), form=context.form.schema,
        suggested=suggested_values(session, context).values if open_ else {}))


@bp.post("/tasks/<task_id>/claim")
@operation("认领任务", response=TaskSchema, errors=(403, 404, 409))
def claim_task(task_id: str) -> dict[str, Any]:
    """Claim a task the caller may act on, so nobody else works on it at the same time."""
    return _change_claim(claim, task_id, "该任务已被他人认领")


@bp.post("/tasks/<task_id>/release")
@operation("释放已认领的任务", response=TaskSchema, errors=(403, 404, 409))
def release_task(task_id: str) -> dict[str, Any]:
    """Give a task the caller claimed back to everyone who may act on it."""
    return _change_claim(release, task_id, "您没有认领该任务")


@bp.post("/tasks/<task_id>/step-aside")
@operation("申请回避：不再查看和办理此案件，任务交由同岗位的同事", body=StepAsideRequestSchema, response=TaskSchema,
           errors=(403, 404, 422), description="回避记录在案件历史中（事件 stepped_aside，含理由）。")
def step_aside_task(task_id: str) -> dict[str, Any]:
    """Step aside from the task's case; the task goes back to everyone else who may act on it."""
    given = shared(StepAsideRequestSchema).load(_body())
    session, access = request_session(), current_access()
    task = step_aside(session, workflow_engine(), access, task_id, given["reason"])
    session.commit()
    return shared(TaskSchema).dump(_item(session, task, session.get(CaseRecord, task.instance_id), access))


def _change_claim(change: Callable[..., HumanTask], task_id: str, refusal: str) -> dict[str, Any]:
    """Claim or release through the domain function; 409 with `refusal` when the task's claim forbids it."""
    session, access = request_session(), current_access()
    try:
        task = once_more_after_conflict(lambda: change(session, workflow_engine(), access, task_id))
    except TaskTaken:
        raise  # 409 naming who holds it (web/errors.py)
    except TaskNotReady:
        abort(error_response(409, refusal))
    session.commit()
    return shared(TaskSchema).dump(_item(session, task, session.get(CaseRecord, task.instance_id), access))


@bp.post("/tasks/<task_id>/complete")
@operation("提交任务表单，办结任务", body=CompletionRequestSchema, response=CompletionSchema,
           errors=(403, 404, 409, 422), idempotent=True,
           description="表单各项按任务表单的 JSON Schema 填写；不符合表单或业务规则时返回 422，error.fields "
                       "给出各字段的提示，任务保持未办。已由他人办理时返回 409，error.message 说明由谁何时办理；"
                       "同一人以相同内容重复提交（如网络重试）返回 200，already_applied 为 true，不重复办理。")
@idempotent
def complete_task(task_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Check the submission as the task page does, then complete the task in one transaction."""
    given = shared(CompletionRequestSchema).load(_body())
    session, engine, access = request_session(), workflow_engine(), current_access()
    context = load_task(session, engine, access, task_id)
    open_ = context.task.status == "open"  # a closed task still goes to the engine: a re-submission is answered
    if open_:
        ensure_may_act(context, access)  # 409 naming who holds it when a colleague claimed it, else 403
    now = services().now(session)
    known = {f.name for f in context.form.fields}
    unknown = {name: "表单中没有此项" for name in given["data"] if name not in known}
    if open_ and unknown:  # the page never sends fields its form lacks; say what else is wrong too, as the page does
        values = {k: v for k, v in given["data"].items() if k in known}
        raise SubmissionInvalid({**check_submission(session, context, values, now), **unknown})
    try:
        result = once_more_after_conflict(
            lambda: complete(session, engine, access, task_id, given["data"], now, context))
    except TaskTaken:
        raise  # 409 naming who completed it first (web/errors.py)
    except (TaskNotReady, Conflict):
        abort(error_response(409, "该任务刚被他人处理，请查看最新状态"))
    answer = _step(engine, access, result, session.get(CaseRecord, result.instance.id))
    return commit_answer(shared(CompletionSchema).dump({**answer, "task_id": task_id,
                                                  "already_applied": result.already_applied}), 200)


# -- cases ------------------------------------------------------------------------------------------------------
def _start_reception(session: Session, engine: Engine, access: Access, visit: dict[str, Any],
                     now: datetime) -> StepResult:
    """The reception desk's registration (duty secretary on duty today), fed from a JSON visit."""
    posted = {k: "" if visit.get(k) is None else str(visit[k]) for k in ("headcount", "village", "category",
                                                                          "claim")}
    for index, person in enumerate(visit["petitioners"]):
        posted.update({f"p-{index}-{k}": person.get(k, "") for k in PETITIONER_FIELDS})
    try:
        return register_visit(session, engine, access, posted, now)
    except SubmissionInvalid as invalid:
        raise SubmissionInvalid({_visit_field(k): v for k, v in invalid.errors.items()}) from invalid


_ROW_FIELD = re.compile(r"^p-(\d+)-(\w+)$")


def _visit_field(name: str) -> str:
    """A form's field name as a path in the request body (`p-1-phone` → `data.petitioners.1.phone`)."""
    row = _ROW_FIELD.match(name)
    return f"data.petitioners.{row[1]}.{row[2]}" if row else f"data.{name}"


def _start(session: Session, engine: Engine, access: Access, process_id: str, data: dict[str, Any],
           now: datetime) -> StepResult:
    """Start through the door of `process_id` open to the caller (start_permissions.yaml): 403 when none is."""
    try:
        door = start_permissions().choose(access.viewer.roles, process_id, data)
        if door.page != "reception":
            return open_case(session, engine, access, door, data, now, strict=True)
    except SubmissionInvalid as invalid:
        raise SubmissionInvalid({_visit_field(k): v for k, v in invalid.errors.items()}) from invalid
    try:
        visit = shared(VisitRequestSchema).load(data)
    except ValidationError as invalid:
        raise ValidationError({"data": invalid.messages}) from invalid
    return _start_reception(session, engine, access, visit, now)


def _start_description() -> str:
    rows = "\n".join(f"| {process} | {title} | {roles} | {fixed} |"
                     for process, title, roles, fixed in start_permissions().table())
    return ("谁可以发起什么由 workflows/data/start_permissions.yaml 规定（角色 × 流程），页面与接口相同；"
            "其他角色或其他流程返回 403。reception 的 data 形如 VisitRequest（今天在乡镇接访室坐班的村支书"
            "登记来访）；其他流程的 data 为该流程登记表单（JSON Schema，见流程的第一个表单）各项，"
            "领导包案另给 source_case（案件 id）。入口固定的值（如来信的 channel、网上留言的 message_channel）"
            "可以不给，给了就须与入口相同（422）；表单没有的字段返回 422。网上留言（online_message）的渠道字段是 "
            "message_channel（wechat_group 一村一群 / message_board 网民留言），不是 source 或 channel。"
            "\n\n| process_id | 入口 | 可发起的角色 | 入口固定或必填的字段 |\n|---|---|---|---|\n" + rows)


@bp.post("/cases")
@operation("发起案件（按角色可发起的流程，见说明中的表）", body=CaseStartRequestSchema,
           response=StartedCaseSchema, status=201, errors=(403, 404, 422), schemas=(VisitRequestSchema,),
           idempotent=True, description=_start_description())
@idempotent
def start_case() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Start a case of a process the start permissions let the caller start; 403 for the others."""
    given = shared(CaseStartRequestSchema).load(_body())
    session, engine, access = request_session(), workflow_engine(), current_access()
    process_id = given["process_id"].strip()
    if engine.specs.current(session, process_id) is None:
        abort(error_response(404, f"没有名为 {process_id} 的流程"))
    result = _start(session, engine, access, process_id, given["data"], services().now(session))
    record = session.get(CaseRecord, result.instance.id)
    answer = _step(engine, access, result, record)
    return commit_answer(shared(StartedCaseSchema).dump({**answer, "case": record}), 201,
                         {"Location": url_for("api.show_case", case_id=result.instance.id)})


@bp.get("/cases/<int:case_id>")
@operation("读取案件（个人信息已遮盖）", response=CaseSchema, errors=(403, 404))
def show_case(case_id: int) -> dict[str, Any]:
    """A case the caller may see, as its page shows it: ID numbers and phones masked."""
    session, engine, access = request_session(), workflow_engine(), current_access()
    case = visible_case(case_id)
    now = services().now(session)
    instance = engine.instance(case.instance_id)
    tasks = engine.open_tasks(case.instance_id)
    return shared(CaseSchema).dump({
        "summary": summarize(session, case, revealed=False, visible=access.may_see_case),
        "holders": holders_now(session, case, tasks, now),
        "deadlines": deadline_rows(case, tasks, now),
        "history": timeline(session, engine, instance, case, revealed=False)})


@bp.post("/cases/<int:case_id>/rating")
@operation("代录信访人在电话回访中给出的评价（电话回访，工作人员代录）", body=RatingRequestSchema,
           response=CaseRatingSchema, status=201, errors=(403, 404, 409, 422), idempotent=True,
           description="与案件页面的“电话回访评价”相同：县信访局或本案承办单位的工作人员代录，评价来源记为 "
                       "recorded（电话回访，工作人员代录），计入满意率；办理该案的评价任务，或案件已办结未评价时记入"
                       "案件。不能代录者返回 403（看不到此案件者同样 403，与读取案件相同）；案件尚不能评价或已经评价过"
                       "返回 409（每案只评价一次）。")
@idempotent
def record_rating(case_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Record the petitioner's rating told on a return call, as the case page does; once per case."""
    given = shared(RatingRequestSchema).load(_body())
    session, access = request_session(), current_access()
    case = visible_case(case_id)
    try:
        record_told_rating(session, workflow_engine(), access, case, given["satisfaction"], given["comment"])
    except (AlreadyRated, NotRateable) as refused:
        abort(error_response(409, str(refused)))
    summary = summarize(session, case, revealed=False, visible=access.may_see_case)
    return commit_answer(shared(CaseRatingSchema).dump({"summary": summary}), 201,
                         {"Location": url_for("api.show_case", case_id=case_id)})


# -- helpers ----------------------------------------------------------------------------------------------------
def _body() -> Any:
    """The JSON body (None when there is none or it is not sent as JSON, which the schemas refuse as "应为 JSON
    对象"); a body sent as JSON that does not parse is a 400 saying where (`GatedRequest`)."""
    if request.is_json and request.get_data(cache=True):
        return request.get_json()
    return request.get_json(silent=True)


def _item(session: Session, task: HumanTask, case: CaseRecord | None, access: Access) -> InboxItem:
    return describe(access, [(task, case)], services().now(session))[0]


def _step(engine: Engine, access: Access, result: StepResult, record: CaseRecord | None) -> dict[str, Any]:
    """What a step led to: the case, its status and the tasks now open (with ids, links, whether the caller may
    act on each), so a client goes on without listing its inbox."""
    tasks = result.open_tasks if result.open_tasks is not None else engine.open_tasks(result.instance.id)
    return {"case_id": result.instance.id, "case_number": record.case_number if record else None,
            "case_status": result.instance.status,
            "next_steps": [t.name or t.element_id for t in tasks],
            "next_tasks": [{"task": t, "may_act": access.may_act_on_task(t, record),
                            "stand_in_reason": access.stand_in_reason(t, record),
                            "links": {"self": url_for("api.show_task", task_id=t.id),
                                      "complete": url_for("api.complete_task", task_id=t.id)}} for t in tasks]}

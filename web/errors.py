"""The one place where exceptions become HTTP answers: an HTML page for people, one JSON shape for the API.

JSON shape (every error of `/api/`): `{"error": {"status": 404, "message": "...", "fields": {"name": "..."}}}`.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from engine import Conflict, EngineError, TaskNotFound, TaskNotReady, TaskTaken, UnknownInstance, UnknownProcess
from workflows import DomainError
from workflows.cases.task_work import AccessDenied, SubmissionInvalid
from workflows.org.throttle import TooManyAttempts
from workflows.views.case_view import display_names

from .extensions import request_session
from .input_gate import InputRefused, too_large_message

LOCAL = ZoneInfo("Asia/Shanghai")
TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "没有找到", 405: "不支持的操作", 409: "办理冲突",
          413: "内容过大", 422: "填写有误", 429: "尝试次数过多", 500: "系统出错"}
MESSAGES = {401: "请先登录。", 403: "您无权查看或办理此事项。", 404: "您要找的页面或事项不存在。",
            405: "此页面不支持这种操作。", 413: "提交的内容过大。", 409: "该事项刚被他人处理，请刷新后查看最新状态。",
            429: "尝试次数过多，请稍后再试。", 500: "系统出现错误，请稍后再试；问题持续时请联系管理员。"}
# Errors of the layers below, by the status they answer with (most specific first).
STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (SubmissionInvalid, 422), (AccessDenied, 403), (TooManyAttempts, 429),
    (TaskNotFound, 404), (UnknownInstance, 404), (UnknownProcess, 404),
    (TaskTaken, 409), (TaskNotReady, 409), (Conflict, 409), (EngineError, 400), (DomainError, 400),
)


def register_errorhandlers(app: Flask) -> None:
    """Answer HTTP errors and the engine's and domain's errors in one shape."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InputRefused, _refused_input)
    for kind, status in STATUS_OF:
        app.register_error_handler(kind, _layer_error(status))


def error_response(status: int, message: str | None = None, fields: dict[str, str] | None = None) -> Response:
    """An error answer: JSON under /api/, else the error page."""
    text = message or MESSAGES.get(status, TITLES.get(status, "出错了"))
    if request.path.startswith("/api/"):
        response = jsonify({"error": {"status": status, "message": text, "fields": fields or {}}})
        response.status_code = status
        return response
    html = render_template("error.html", status=status, title=TITLES.get(status, "出错了"), message=text)
    return Response(html, status=status, mimetype="text/html")


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 413:
        return error_response(413, too_large_message())  # werkzeug's own description is English
    described = error.description if error.description and status in (400, 429) else None
    return error_response(status, described)


def _refused_input(error: InputRefused) -> Response:
    return error_response(error.status, f"{error.field}：{error.message}", {error.field: error.message})


def _layer_error(status: int) -> Any:
    def handle(error: Exception) -> Response:
        fields = error.errors if isinstance(error, SubmissionInvalid) else None
        message = str(error) if isinstance(error, (AccessDenied, TooManyAttempts)) else None
        if isinstance(error, TaskTaken):
            message = taken_message(error)
        response = error_response(status, message, fields)
        if isinstance(error, TooManyAttempts):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    return handle


def taken_message(error: TaskTaken) -> str:
    """Who took the task first, and when, in words for the person who lost the race."""
    name = display_names(request_session(), [error.by or ""]).get(error.by or "", error.by or "他人")
    who = f"{name}（{error.by}）" if error.by and name != error.by else name
    when = f"于 {error.at.astimezone(LOCAL):%Y-%m-%d %H:%M} " if error.at else ""
    return f"该任务已由 {who} {when}{'办理' if error.action == 'completed' else '认领'}，请刷新后查看最新状态。"

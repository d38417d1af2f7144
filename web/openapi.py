"""The OpenAPI document of the JSON API, built from the routes the app registered and the marshmallow schemas.

Each API view says what it takes and gives with `@operation(...)`; `document(app)` walks the app's URL map, so
a route without its description fails loudly and the document lists exactly the routes that exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema

from .schemas import ErrorSchema

F = TypeVar("F", bound=Callable[..., Any])
BLUEPRINT = "api"
SECURITY_SCHEME = "bearerAuth"
# werkzeug converter → OpenAPI type of a path parameter
PATH_TYPES = {"int": "integer", "string": "string", "default": "string"}
# What each error status means for an API caller (the body is always the Error shape).
ERRORS = {401: "没有令牌，或令牌无效（Authorization: Bearer <令牌>）", 403: "访问规则不允许调用者查看或办理",
          404: "没有这个任务、案件或流程", 409: "任务已被他人认领、已经办结，或刚被他人改动",
          422: "请求或表单填写有误：error.fields 给出各字段的提示",
          429: "同一地址或同一账号登录失败次数过多：按响应头 Retry-After 给出的秒数等待后再试"}
IDEMPOTENCY_PARAMETER = {
    "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "每个请求一个新的键（如 UUID）。答复丢失后用同一个键重发同一请求，得到第一次的答复"
                   "（不会重复立案或返回 409）；同一个键用于不同的请求返回 422。"}
_ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")


@dataclass(frozen=True)
class Operation:
    """What one API view takes and gives, for the document."""

    summary: str
    description: str = ""
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False  # answers without a token
    schemas: tuple[type[Schema], ...] = ()  # further shapes the description refers to by name
    idempotent: bool = False  # takes an Idempotency-Key header (web/idempotency.py)


def operation(summary: str, **details: Any) -> Callable[[F], F]:
    """Describe an API view for the OpenAPI document (see `Operation` for the details)."""

    def describe(view: F) -> F:
        view.openapi = Operation(summary, **details)  # type: ignore[attr-defined]  # a function's own attribute
        return view

    return describe


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3 document of every route of the API blueprint."""
    spec = APISpec(title="Doorstep API（溆浦县信访工作平台）", version="1", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "坐班接访、督办等待办任务的 JSON 接口。令牌：POST /api/v1/tokens 或 "
                                        "`doorstep token issue USERNAME`；请求头 Authorization: Bearer <令牌>。"
                                        "错误一律为 Error 形状，字段提示在 error.fields。"})
    spec.components.security_scheme(SECURITY_SCHEME, {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.split(".")[0] != BLUEPRINT:
            continue
        described = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if not isinstance(described, Operation):
            raise LookupError(f"{rule.endpoint} ({rule.rule}) is not described: add @operation(...) to its view")
        for shape in described.schemas:
            name = shape.__name__.removesuffix("Schema")
            if name not in spec.components.schemas:
                spec.components.schema(name, schema=shape)
        path, parameters = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, described, parameters)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """A werkzeug rule as an OpenAPI path (`<int:case_id>` → `{case_id}`) and its path parameters."""
    parameters = [{"in": "path", "name": m["name"], "required": True,
                   "schema": {"type": PATH_TYPES.get(m["converter"] or "default", "string")}}
                  for m in _ARGUMENT.finditer(rule)]
    return _ARGUMENT.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def _operation(endpoint: str, described: Operation, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    answers: dict[str | int, Any] = {}
    success = "已创建" if described.status == 201 else "成功"
    answers[described.status] = ({"description": success, "content": {"application/json": {
        "schema": described.response}}} if described.response else {"description": success})
    errors = set(described.errors) | ({401} if not described.public else set())
    for status in sorted(errors):
        answers[status] = {"description": ERRORS[status],
                           "content": {"application/json": {"schema": ErrorSchema}}}
    found: dict[str, Any] = {"operationId": endpoint.split(".", 1)[1], "summary": described.summary,
                             "tags": [BLUEPRINT], "responses": answers}
    if described.description:
        found["description"] = described.description
    if described.idempotent:
        parameters = [*parameters, IDEMPOTENCY_PARAMETER]
    if parameters or described.query:
        found["parameters"] = [*parameters, *([{"in": "query", "schema": described.query}]
                                              if described.query else [])]
    if described.body:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": described.body}}}
    found["security"] = [] if described.public else [{SECURITY_SCHEME: []}]
    return found

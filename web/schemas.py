"""Every wire shape of the JSON API (`/api/v1`), one marshmallow schema class per shape.

Requests are loaded through the `*RequestSchema` / `*QuerySchema` classes, answers dumped through the others.
The schemas shape the wire only: what a form field must hold, who may do what and which values the domain
accepts are checked by `workflows/` (task forms, access rules, the reception desk), never here.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from marshmallow import EXCLUDE, Schema, fields, pre_dump, validate

from workflows.cases.forms import INT_MAX, INT_MIN
from workflows.cases.record import RATING_SOURCE_NAMES
from workflows.intake.petitioner_query import SATISFACTION
from workflows.views.inbox import CLAIM_CHOICES, DUE_CHOICES, SORTS

AnySchema = TypeVar("AnySchema", bound=Schema)


@functools.cache
def shared(schema: type[AnySchema]) -> AnySchema:
    """The one instance of a schema class in this process (as marshmallow's own examples keep them): a schema keeps
    nothing between loads and dumps, and building one (its fields, its nested schemas') costs more than using it."""
    return schema()


REQUIRED: dict[str, Any] = {"required": "请填写此项", "null": "不能为空"}
TEXT: dict[str, Any] = {**REQUIRED, "invalid": "应为文字"}


def one_of(choices: dict[str, str], empty: bool = True) -> validate.OneOf:
    """A choice among the keys of `choices` (or empty, meaning "all"), refused with the choices listed."""
    hint = "、".join(f"{k}（{v}）" for k, v in choices.items()) + ("；留空为全部" if empty else "")
    return validate.OneOf([*([""] if empty else []), *choices], error=f"可选值：{hint}")


def at_most(characters: int) -> validate.Length:
    """A text no longer than its column (or form field) holds."""
    return validate.Length(max=characters, error=f"最多填写{characters}个字")


def column_integer() -> validate.Range:
    """A whole number an integer column can store."""
    return validate.Range(min=INT_MIN, max=INT_MAX, error=f"数值超出范围：应在 {INT_MIN} 到 {INT_MAX} 之间")


class ApiSchema(Schema):
    """Base of the request schemas: Chinese messages for the wire-level mistakes."""

    error_messages = {"unknown": "不认识的字段", "type": "应为 JSON 对象"}


# -- requests ---------------------------------------------------------------------------------------------------
class TokenRequestSchema(ApiSchema):
    """Username and password, exchanged for an API token."""

    username = fields.String(required=True, validate=[validate.Length(min=1, error="请填写此项"), at_most(64)],
                             error_messages=TEXT)
    password = fields.String(required=True, load_only=True, error_messages=TEXT,
                             validate=[validate.Length(min=1, error="请填写此项"), at_most(200)])


CASE_ID = "应为案件编号（正整数）"


class InboxQuerySchema(ApiSchema):
    """The inbox filters of `GET /api/v1/tasks` (query parameters; empty or absent means "all")."""

    class Meta:
        unknown = EXCLUDE  # query strings often carry extra parameters (cache busters, tracking)

    due = fields.String(load_default="", validate=one_of(DUE_CHOICES),
                        metadata={"description": "期限: " + ", ".join(f"{k}={v}" for k, v in DUE_CHOICES.items())})
    category = fields.String(load_default="", validate=at_most(32),
                             metadata={"description": "诉求类别代码，如 social_security"})
    place = fields.String(load_default="", validate=at_most(64), metadata={"description": "乡镇代码"})
    process = fields.String(load_default="", validate=at_most(255), metadata={"description": "流程 id，如 reception"})
    claim = fields.String(load_default="", validate=one_of(CLAIM_CHOICES),
                          metadata={"description": "认领: " + ", ".join(f"{k}={v}" for k, v in CLAIM_CHOICES.items())})
    sort = fields.String(load_default="due", validate=one_of(SORTS, empty=False),
                         metadata={"description": "排序: " + ", ".join(f"{k}={v}" for k, v in SORTS.items())})
    case = fields.Integer(load_default=None, validate=validate.Range(min=1, error=CASE_ID),
                          error_messages={"invalid": CASE_ID},
                          metadata={"description": "只看这个案件（案件 id）的待办"})


class CompletionRequestSchema(ApiSchema):
    """The values of a task's form, typed as its JSON Schema says (see `form` of `GET /api/v1/tasks/{id}`)."""

    data = fields.Dict(keys=fields.String(), required=True, error_messages={**REQUIRED, "invalid": "应为 JSON 对象"},
                       metadata={"description": "表单各项的值，按任务表单的 JSON Schema 填写"})


class StepAsideRequestSchema(ApiSchema):
    """Why the caller steps aside from a task's case (回避): their relation to the accused or the petitioner."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500, error="请填写回避理由（至多500字）"),
                           error_messages=TEXT, metadata={"description": "回避理由"})


class RatingRequestSchema(ApiSchema):
    """The rating the petitioner told on a return call (电话回访), recorded by staff, with their words if any."""

    satisfaction = fields.String(required=True, validate=one_of(SATISFACTION, empty=False), error_messages=TEXT,
                                 metadata={"description": "满意度: " + ", ".join(f"{k}={v}"
                                                                               for k, v in SATISFACTION.items())})
    comment = fields.String(load_default="", validate=at_most(500), error_messages=TEXT,
                            metadata={"description": "信访人意见（可不填）"})


class CaseStartRequestSchema(ApiSchema):
    """Which process to start, and its starting data (for `reception`: a `Visit`; else the opening form's fields)."""

    process_id = fields.String(required=True, validate=[validate.Length(min=1, error="请填写此项"), at_most(255)],
                               error_messages=TEXT, metadata={"description": "流程 id（按角色可发起，见说明）"})
    data = fields.Dict(keys=fields.String(), load_default=dict, error_messages={"invalid": "应为 JSON 对象"},
                       metadata={"description": "发起数据；reception 为 Visit（来访登记），其他流程为其登记表单各项"})


class PetitionerSchema(ApiSchema):
    """One petitioner of a visit (masked when a case is read back)."""

    petitioner_name = fields.String(load_default="", error_messages=TEXT, validate=at_most(50),
                                    metadata={"description": "姓名"})
    id_number = fields.String(load_default="", error_messages=TEXT, validate=at_most(32),
                              metadata={"description": "身份证号"})
    phone = fields.String(load_default="", error_messages=TEXT, validate=at_most(32),
                          metadata={"description": "手机号码"})


class VisitRequestSchema(ApiSchema):
    """A visit registered at the reception room of the township where the caller sits on duty today."""

    headcount = fields.Integer(strict=True, allow_none=True, load_default=None, validate=column_integer(),
                               error_messages={"invalid": "请输入整数"}, metadata={"description": "来访人数"})
    village = fields.String(load_default="", error_messages=TEXT, validate=at_most(64),
                            metadata={"description": "村（社区）代码"})
    category = fields.String(load_default="", error_messages=TEXT, validate=at_most(32),
                             metadata={"description": "诉求类别代码"})
    claim = fields.String(load_default="", error_messages=TEXT, validate=at_most(5000),
                          metadata={"description": "诉求内容"})
    petitioners = fields.List(fields.Nested(PetitionerSchema), load_default=list,
                              error_messages={"invalid": "应为列表"}, metadata={"description": "信访人（至少一位）"})


# -- answers ----------------------------------------------------------------------------------------------------
class TokenSchema(Schema):
    """A newly issued API token (it replaces the account's previous one; only its digest is stored)."""

    token = fields.String(metadata={"description": "放在请求头 Authorization: Bearer <token>"})
    username = fields.String()
    display_name = fields.String()


STAND_IN_REASON = "本泳道无人可办、由调用者所在单位代为办理的缘由（空：按本泳道办理）"


class TaskSchema(Schema):
    """An open (or just claimed/released) task as the inbox lists it."""

    id = fields.String(attribute="task.id")
    name = fields.String(attribute="task.name")
    element_id = fields.String(attribute="task.element_id")
    process_id = fields.String(attribute="task.process_id")
    process_name = fields.String()
    lane = fields.String(attribute="task.lane", metadata={"description": "角色（BPMN 泳道）"})
    status = fields.String(attribute="task.status")
    case_id = fields.Integer(attribute="task.instance_id")
    case_number = fields.String(attribute="case.case_number", allow_none=True)
    category = fields.String(attribute="case.category", allow_none=True)
    category_name = fields.String()
    place = fields.String(attribute="township_code", metadata={"description": "乡镇代码"})
    place_name = fields.String()
    due_at = fields.AwareDateTime(attribute="task.due_at", allow_none=True)
    created_at = fields.AwareDateTime(attribute="task.created_at")
    due = fields.String(attribute="due_key", metadata={"description": "overdue, today, week, later, none"})
    overdue = fields.Boolean()
    due_today = fields.Boolean()
    claimed_by = fields.String(attribute="task.claimed_by", allow_none=True)
    claimed_by_me = fields.Boolean()
    stand_in_reason = fields.String(metadata={"description": STAND_IN_REASON})


class TaskDetailSchema(TaskSchema):
    """A task with its form: the JSON Schema to fill and the values the page would start with."""

    may_act = fields.Boolean(metadata={"description": "调用者现在能否认领、办理此任务"})
    form = fields.Dict(metadata={"description": "任务表单（JSON Schema，draft 2020-12）"})
    suggested = fields.Dict(metadata={"description": "建议值（表单默认值，承办单位按分流规则建议）"})


class FacetValueSchema(Schema):
    """One value of an inbox filter, with how many tasks it would show."""

    value = fields.String()
    label = fields.String()
    count = fields.Integer()

    @pre_dump
    def _from_row(self, row: Any, **_: Any) -> dict[str, Any]:
        value, label, count = row
        return {"value": value, "label": label, "count": count}


class InboxSchema(Schema):
    """My tasks: the filtered items, the total before filtering, and counts per filter value."""

    items = fields.List(fields.Nested(TaskSchema))
    total = fields.Integer()
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)),
                         metadata={"description": "due, category, place, process, claim → 各取值及数量"})


class HolderSchema(Schema):
    """An open task of a case and who holds it."""

    task_id = fields.String(attribute="task.id")
    task = fields.String(attribute="task.name")
    lane = fields.String(attribute="task.lane")
    who = fields.String()
    due_at = fields.AwareDateTime(attribute="task.due_at", allow_none=True)
    overdue = fields.Boolean()


class DeadlineSchema(Schema):
    """A deadline of a case and whether it was met."""

    name = fields.String()
    due = fields.AwareDateTime()
    state = fields.String(metadata={"description": "met, missed, overdue, pending"})
    label = fields.String()


class DetailSchema(Schema):
    """One value shown with an event of the history, personal data masked."""

    label = fields.String()
    value = fields.String()

    @pre_dump
    def _from_pair(self, pair: Any, **_: Any) -> dict[str, Any]:
        label, value = pair
        return {"label": label, "value": value}


class EventSchema(Schema):
    """One event of a case's history, as a person reads it."""

    seq = fields.Integer()
    at = fields.AwareDateTime()
    kind = fields.String()
    label = fields.String()
    actor = fields.String()
    task = fields.String()
    details = fields.List(fields.Nested(DetailSchema))


class CaseLinkSchema(Schema):
    """Another case this one is linked to: its id and number."""

    id = fields.Integer(attribute="instance_id")
    case_number = fields.String()


class CaseRatingSchema(Schema):
    """A case's satisfaction rating as its page shows it: the rating, who gave it (source) and when."""

    id = fields.Integer(attribute="summary.case.instance_id")
    case_number = fields.String(attribute="summary.case.case_number")
    satisfaction = fields.String(attribute="summary.satisfaction", metadata={"description": "满意度（空：尚未评价）"})
    rating_source = fields.String(attribute="summary.case.rating_source", allow_none=True, metadata={
        "description": "评价来源: " + ", ".join(f"{k}={v}" for k, v in RATING_SOURCE_NAMES.items())})
    rating_source_name = fields.String(attribute="summary.rating_source")
    rated_at = fields.AwareDateTime(attribute="summary.case.rated_at", allow_none=True)


class CaseSchema(CaseRatingSchema):
    """A case as its page shows it: details (personal data masked), holders, deadlines and history."""

    process_id = fields.String(attribute="summary.case.process_id")
    process_name = fields.String(attribute="summary.process_name")
    status = fields.String(attribute="summary.case.status", metadata={"description": "open, closed"})
    channel = fields.String(attribute="summary.channel")
    category = fields.String(attribute="summary.case.category", allow_none=True)
    category_name = fields.String(attribute="summary.category")
    places = fields.List(fields.String(), attribute="summary.places")
    township = fields.String(attribute="summary.case.township", allow_none=True)
    village = fields.String(attribute="summary.case.village", allow_none=True)
    headcount = fields.Integer(attribute="summary.case.headcount")
    petitioners = fields.List(fields.Nested(PetitionerSchema), attribute="summary.petitioners",
                              metadata={"description": "身份证号、电话已遮盖"})
    claim = fields.String(attribute="summary.case.claim", allow_none=True)
    confidential = fields.Boolean(attribute="summary.case.confidential")
    handling_unit = fields.String(attribute="summary.case.handling_unit", allow_none=True)
    handling_unit_name = fields.String(attribute="summary.handling_unit")
    leader = fields.String(attribute="summary.case.leader", allow_none=True)
    leader_name = fields.String(attribute="summary.leader")
    registered_at = fields.AwareDateTime(attribute="summary.case.registered_at")
    closed_at = fields.AwareDateTime(attribute="summary.case.closed_at", allow_none=True)
    overdue = fields.Boolean(attribute="summary.case.overdue")
    outcome = fields.String(attribute="summary.outcome")
    source_case = fields.Nested(CaseLinkSchema, attribute="summary.packaged_from", allow_none=True,
                                metadata={"description": "领导包案：所包的案件（调用者可见时）"})
    packaged_in = fields.List(fields.Nested(CaseLinkSchema), attribute="summary.packaged_in",
                              metadata={"description": "本案已列入的领导包案（调用者可见的）"})
    holders = fields.List(fields.Nested(HolderSchema))
    deadlines = fields.List(fields.Nested(DeadlineSchema))
    history = fields.List(fields.Nested(EventSchema))


class TaskLinksSchema(Schema):
    """Where to read a task and where to complete it."""

    self_ = fields.String(data_key="self", attribute="self", metadata={"description": "GET：任务及其表单"})
    complete = fields.String(metadata={"description": "POST：提交表单"})


class NextTaskSchema(Schema):
    """A task open on the case after a step, with its links."""

    id = fields.String(attribute="task.id")
    name = fields.String(attribute="task.name")
    element_id = fields.String(attribute="task.element_id")
    lane = fields.String(attribute="task.lane", metadata={"description": "角色（BPMN 泳道）"})
    due_at = fields.AwareDateTime(attribute="task.due_at", allow_none=True)
    claimed_by = fields.String(attribute="task.claimed_by", allow_none=True)
    may_act = fields.Boolean(metadata={"description": "调用者现在能否办理"})
    stand_in_reason = fields.String(metadata={"description": STAND_IN_REASON})
    links = fields.Nested(TaskLinksSchema)


class CompletionSchema(Schema):
    """What completing a task led to: the case, its process status and the tasks open now."""

    task_id = fields.String()
    case_id = fields.Integer()
    case_number = fields.String(allow_none=True)
    case_status = fields.String(metadata={"description": "流程状态：running, completed, incident"})
    next_steps = fields.List(fields.String(), metadata={"description": "现在待办的任务名称"})
    next_tasks = fields.List(fields.Nested(NextTaskSchema), metadata={"description": "现在待办的任务（含 id 与链接）"})
    already_applied = fields.Boolean(metadata={"description": "同一人以相同内容重复提交：此前已经办理，这次未重复办理"})


class StartedCaseSchema(Schema):
    """A case just started: its number, the query code to give the petitioner, and what comes next."""

    id = fields.Integer(attribute="case_id")
    case_number = fields.String(allow_none=True)
    query_code = fields.String(attribute="case.query_code", metadata={"description": "信访人查询码（请告知信访人）"})
    case_status = fields.String(metadata={"description": "流程状态：running, completed, incident"})
    next_steps = fields.List(fields.String(), metadata={"description": "现在待办的任务名称"})
    next_tasks = fields.List(fields.Nested(NextTaskSchema), metadata={"description": "现在待办的任务（含 id 与链接）"})


class ErrorBodySchema(Schema):
    """What went wrong: the HTTP status, a message in Chinese, and messages per field."""

    status = fields.Integer()
    message = fields.String()
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.String(),
                          metadata={"description": "字段 → 提示；嵌套字段用点号，如 petitioners.0.phone"})


class ErrorSchema(Schema):
    """The one error shape of the API (and of every /api/ answer of web/errors.py)."""

    error = fields.Nested(ErrorBodySchema)

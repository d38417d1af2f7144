"""The petitioner's side (信访工作条例 Art. 21): follow a case by its query code and rate the outcome once.

Nothing here shows personal data: a query answers with the case's number, category, stage, deadlines and
outcome only. Guessing codes does not work: codes are 12 characters keyed by the deployment's secret
(`workflows.cases.record.query_code`), and each client address may fail only `MAX_FAILURES` times per `WINDOW`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import Engine, TaskNotReady
from engine.db import Base
from engine.models import HumanTask
from workflows import DomainError
from workflows.cases.access import Access
from workflows.cases.record import CLOSED, RECORDED, CaseRecord, deadline_states
from workflows.cases.script_helpers import packaged_config
from workflows.cases.task_work import AccessDenied
from workflows.org.throttle import TooManyAttempts, check_allowed, record_failure, throttle_key
from workflows.views.inbox import process_names

__all__ = ["TooManyAttempts"]  # re-exported: the query page refuses with it

PETITIONER = "petitioner"  # the actor of what a petitioner does through the query page
PETITIONER_LANE = "信访人"
RATED_EVENT = "satisfaction_rated"
SATISFACTION = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
                "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
OUTCOMES = {"support": "支持", "explain": "解释说明", "reject": "不予支持"}
PUBLIC_STATES = {"met": "已按期办结", "missed": "未按期办结", "overdue": "已超期", "pending": "未到期"}
REVIEW_REQUEST, REEXAM_REQUEST = "request_review", "request_reexam"  # the petitioner's task elements (statutory)
MAX_REASON = 2000
_CODE = re.compile(r"[^A-Z2-7]")
# Wrong codes allowed before the back-off starts (workflows.org.throttle): per address, per code typed. A code has
# 60 random bits, so it cannot be guessed in any number of tries; the back-off keeps the page from being hammered.
ADDRESS_FREE_TRIES, CODE_FREE_TRIES = 10, 5


class QueryError(DomainError):
    """A query or rating cannot be done as asked; the message is for the petitioner (Chinese)."""


class AlreadyRated(QueryError):
    """The case has been rated already."""


class NotRateable(QueryError):
    """The case cannot be rated yet."""


class Rating(Base):
    """The petitioner's one rating of a case: its primary key makes a second rating impossible, also when several
    are posted at the same moment."""

    __tablename__ = "case_rating"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    satisfaction: Mapped[str] = mapped_column(String(32))
    rated_at: Mapped[datetime]


class NotRequestable(QueryError):
    """No review or re-examination can be requested now (none is due, or the 30 days have passed)."""


@dataclass
class PublicDeadline:
    """A deadline as the petitioner sees it."""

    name: str
    due: datetime
    state: str  # 已按期办结 / 未按期办结 / 已超期 / 未到期


@dataclass
class PublicCase:
    """What a query code shows: no names, ID numbers, phones or places below the township."""

    case_number: str
    query_code: str
    process_name: str
    category: str
    registered_at: datetime
    status: str
    stage: str
    deadlines: list[PublicDeadline] = field(default_factory=list)
    outcome: str = ""
    satisfaction: str = ""
    closed_at: datetime | None = None
    rateable: bool = False
    overdue: bool = False
    can_request_review: bool = False
    can_request_reexam: bool = False


def normalize_code(text: str) -> str:
    """A query code as typed (spaces, dashes, lower case) in its stored form."""
    return _CODE.sub("", text.upper())


def find_case(session: Session, client: str, code: str, now: datetime) -> CaseRecord:
    """The case with this query code; a wrong code counts as a failure of `client` (QueryError)."""
    normalized = normalize_code(code)
    keys = {throttle_key("query-addr", client): ADDRESS_FREE_TRIES,
            throttle_key("query-code", normalized): CODE_FREE_TRIES}
    check_allowed(session, keys, now, "查询")
    case = session.scalar(select(CaseRecord).where(CaseRecord.query_code == normalized)) if normalized else None
    if case is None:
        record_failure(session, keys, now)
        raise QueryError("查询码不正确，请核对后重新输入")
    return case


def public_view(session: Session, case: CaseRecord, now: datetime) -> PublicCase:
    """What the petitioner may see of a case."""
    categories = packaged_config().routing.categories
    open_tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                              HumanTask.status == "open")
                                      .order_by(HumanTask.created_at)))
    closed = case.status == CLOSED
    stage = "已办结" if closed else ("、".join(t.name or t.element_id for t in open_tasks) or "办理中")
    deadlines = [PublicDeadline(name, due, PUBLIC_STATES[state]) for name, due, state in deadline_states(case, now)]
    return PublicCase(
        case_number=case.case_number, query_code=case.query_code,
        process_name=process_names(session).get(case.process_id, case.process_id),
        category=categories[case.category].name if case.category and case.category in categories else "",
        registered_at=case.registered_at, status="已办结" if closed else "办理中", stage=stage,
        deadlines=deadlines, outcome=OUTCOMES.get(case.outcome or "", ""),
        satisfaction=SATISFACTION.get(case.satisfaction or "", ""), closed_at=case.closed_at,
        rateable=_rateable(case, open_tasks),
        overdue=case.overdue,
        can_request_review=_petitioner_task(open_tasks, REVIEW_REQUEST) is not None,
        can_request_reexam=_petitioner_task(open_tasks, REEXAM_REQUEST) is not None)


def rate(session: Session, engine: Engine, case: CaseRecord, satisfaction: str, comment: str = "",
         recorded_by: str | None = None) -> None:
    """Record the petitioner's rating once: through the case's open rating task if it has one, else as an event.

    With `recorded_by` (a staff username) the rating is what the petitioner told that staff member on a return
    call, marked so (`rating_source: recorded`, 电话回访，工作人员代录, the step's actor the staff member); otherwise
    the petitioner rated on the query page (`rating_source: petitioner`). Both are the petitioner's own rating.
    """
    if satisfaction not in SATISFACTION:
        raise QueryError("请选择满意度")
    if case.satisfaction:
        raise AlreadyRated("该事项已经评价过，不能重复评价")
    # Taken first, so that of several ratings posted together the others wait here and are then refused.
    session.add(Rating(instance_id=case.instance_id, satisfaction=satisfaction, rated_at=engine.clock.now()))
    try:
        session.flush()
    except IntegrityError as error:
        raise AlreadyRated("该事项已经评价过，不能重复评价") from error
    source = RECORDED if recorded_by else PETITIONER
    data: dict[str, Any] = {"satisfaction": satisfaction, "rating_source": source}
    if comment.strip():
        data["rating_comment"] = comment.strip()[:500]
    task = _rate_task(_open_tasks(session, case))
    if task is not None:
        try:
            engine.complete_task(task.id, data, recorded_by or PETITIONER)
        except TaskNotReady as error:
            raise AlreadyRated("该事项已经评价过，不能重复评价") from error
    elif case.status == CLOSED:
        event = engine.record(case.instance_id, RATED_EVENT, recorded_by or PETITIONER, data)
        case.rating_source, case.rated_at = source, event.business_time  # no step: the projector does not run
    else:
        raise NotRateable("事项办结后才能评价")
    case.satisfaction = satisfaction
    session.flush()


def record_told_rating(session: Session, engine: Engine, access: Access, case: CaseRecord, satisfaction: str,
                       comment: str = "") -> None:
    """Record the rating the petitioner told on a return call (电话回访，工作人员代录), if the viewer may record it."""
    if not access.may_record_rating(case):
        raise AccessDenied("您的岗位不能代录信访人的评价（可代录者：县信访局、本案承办单位）")
    rate(session, engine, case, satisfaction, comment, recorded_by=access.viewer.username)


def request_review(session: Session, engine: Engine, case: CaseRecord, reason: str) -> None:
    """The petitioner asks for a review (复查) of the written reply, within 30 days of it (Art. 35)."""
    _request(session, engine, case, REVIEW_REQUEST, "review_reason", reason, "复查")


def request_reexam(session: Session, engine: Engine, case: CaseRecord, reason: str) -> None:
    """The petitioner asks for a re-examination (复核) of the review, within 30 days of it (Art. 36)."""
    _request(session, engine, case, REEXAM_REQUEST, "reexam_reason", reason, "复核")


def _request(session: Session, engine: Engine, case: CaseRecord, element: str, key: str, reason: str,
             what: str) -> None:
    text = reason.strip()
    if not text:
        raise QueryError(f"请写明请求{what}的理由")
    if len(text) > MAX_REASON:
        raise QueryError(f"{what}理由不能超过 {MAX_REASON} 字")
    task = _petitioner_task(_open_tasks(session, case), element)
    if task is None:
        raise NotRequestable(f"该事项现在不能申请{what}（须在收到答复或复查意见之日起30日内申请）")
    engine.complete_task(task.id, {key: text}, PETITIONER)


def is_rateable(session: Session, case: CaseRecord) -> bool:
    """Whether the case takes the petitioner's rating now: its rating task is open, or it closed unrated."""
    return _rateable(case, _open_tasks(session, case))


def _rateable(case: CaseRecord, open_tasks: list[HumanTask]) -> bool:
    return not case.satisfaction and (_rate_task(open_tasks) is not None or case.status == CLOSED)


def _open_tasks(session: Session, case: CaseRecord) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == case.instance_id,
                                                        HumanTask.status == "open")))


def _petitioner_task(tasks: list[HumanTask], element: str) -> HumanTask | None:
    return next((t for t in tasks if t.lane == PETITIONER_LANE and t.element_id == element), None)


def _rate_task(tasks: list[HumanTask]) -> HumanTask | None:
    return _petitioner_task(tasks, "rate")

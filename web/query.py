"""The petitioner's query page (public): follow a case by its query code, rate it once, ask for review or
re-examination; no personal data."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, render_template, request

from workflows.cases.record import CaseRecord
from workflows.intake.petitioner_query import (
    SATISFACTION,
    QueryError,
    TooManyAttempts,
    find_case,
    public_view,
    rate,
    request_reexam,
    request_review,
)

from .extensions import request_session, services, workflow_engine

bp = Blueprint("query", __name__)
Answer = tuple[str, int] | tuple[str, int, dict[str, str]]  # a page, its status (and headers, e.g. Retry-After)


@bp.get("/query")
def form() -> str:
    """The query form."""
    return render_template("query.html", view=None, code="", error=None, satisfaction=SATISFACTION)


@bp.post("/query")
def lookup() -> Answer:
    """Look the code up; a wrong code counts against this address (10 per 15 minutes)."""
    found = _find()
    if isinstance(found, tuple):
        return found
    session = request_session()
    view = public_view(session, found, services().now(session))
    session.commit()
    return _page(view, request.form.get("code", ""), None), 200


@bp.post("/query/rate")
def rate_case() -> Answer:
    """Give the satisfaction rating, once per case."""
    found = _find()
    if isinstance(found, tuple):
        return found
    session, code = request_session(), request.form.get("code", "")
    now = services().now(session)
    try:
        rate(session, workflow_engine(), found, request.form.get("satisfaction", ""), request.form.get("comment", ""))
    except QueryError as refused:
        session.rollback()
        return _page(public_view(session, found, now), code, str(refused)), 409
    session.commit()
    return _page(public_view(session, found, now), code, None, "感谢您的评价！"), 200


@bp.post("/query/review")
def review_case() -> Answer:
    """Ask for a review (复查) of the written reply, within 30 days of it."""
    return _petitioner_act(request_review, "已提交复查申请，复查机关将在30日内作出复查意见。")


@bp.post("/query/reexam")
def reexam_case() -> Answer:
    """Ask for a re-examination (复核) of the review, within 30 days of it."""
    return _petitioner_act(request_reexam, "已提交复核申请，复核机关将在30日内作出复核意见。")


def _petitioner_act(act: Callable[..., None], done: str) -> Answer:
    """Deliver a request of the petitioner to the waiting case; the page again with the result or the refusal."""
    found = _find()
    if isinstance(found, tuple):
        return found
    session, code = request_session(), request.form.get("code", "")
    now = services().now(session)
    try:
        act(session, workflow_engine(), found, request.form.get("reason", ""))
    except QueryError as refused:
        session.rollback()
        return _page(public_view(session, found, now), code, str(refused)), 409
    session.commit()
    return _page(public_view(session, found, now), code, None, done), 200


def _find() -> CaseRecord | Answer:
    """The case of the submitted code, or the page refusing it (a wrong code is kept as a failed attempt)."""
    session, code = request_session(), request.form.get("code", "")
    try:
        return find_case(session, _client(), code, services().now(session))
    except TooManyAttempts as refused:
        session.rollback()
        return _page(None, code, str(refused)), 429, {"Retry-After": str(refused.retry_after)}
    except QueryError as wrong:
        session.commit()  # the failed attempt is kept
        return _page(None, code, str(wrong)), 404


def _client() -> str:
    return request.remote_addr or "unknown"


def _page(view: object, code: str, error: str | None, notice: str | None = None) -> str:
    return render_template("query.html", view=view, code=code, error=error, notice=notice,
                           satisfaction=SATISFACTION)

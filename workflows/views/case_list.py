"""The 案件 list: every case the viewer may see, newest first, a page at a time, with the total.

`Access.may_see_case` is the rule; this module writes it as SQL so that counting and paging happen in the
database. Two parts of the rule cannot be written as SQL cheaply and are checked case by case on small sets:
cases reachable only through an open task of the viewer's lanes (few: open tasks), and cases that name an
accused or that the viewer stepped aside from (few: accusations). Both end up as id lists inside the one paged query.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true

from engine.models import Event, HumanTask, Instance
from workflows.cases.access import COUNTY_WIDE_READERS, PLACE_ROLES, STEPPED_ASIDE, Access
from workflows.cases.record import CaseRecord
from workflows.org.models import OrgUnit

PER_PAGE = 50


@dataclass
class CasePage:
    """One page of the cases a viewer may see."""

    cases: list[CaseRecord]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE

    @property
    def first(self) -> int:
        """The position of the first case of the page in the whole list (1-based; 0 when empty)."""
        return (self.page - 1) * self.per_page + 1 if self.cases else 0


def case_page(access: Access, search: str = "", page: int = 1, per_page: int = PER_PAGE) -> CasePage:
    """The viewer's cases matching `search` (case number, query code or claim text), page `page`."""
    query = _matching(select(CaseRecord), search)
    query = query.where(_visible(access, query))
    total = access.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    cases = list(access.session.scalars(
        query.order_by(CaseRecord.registered_at.desc(), CaseRecord.instance_id.desc())
        .offset((page - 1) * per_page).limit(per_page)))
    return CasePage(cases, total, page, pages, per_page)


def _matching(query: Select[CaseRecord], search: str) -> Select[CaseRecord]:
    text = search.strip()
    if not text:
        return query
    return query.where(or_(CaseRecord.case_number.contains(text, autoescape=True),
                           CaseRecord.query_code == text.upper(),
                           CaseRecord.claim.contains(text, autoescape=True)))


def _visible(access: Access, query: Select[CaseRecord]) -> ColumnElement[bool]:
    """A condition on CaseRecord that holds exactly for the cases `access.may_see_case` allows."""
    viewer, me, session = access.viewer, access.viewer.username, access.session
    if viewer.has_role(*COUNTY_WIDE_READERS):
        certain: ColumnElement[bool] = true()
    else:
        place = func.coalesce(CaseRecord.grid, CaseRecord.village, CaseRecord.township)
        place_path = select(OrgUnit.path).where(OrgUnit.code == place).scalar_subquery()
        worked = select(HumanTask.instance_id).where(or_(HumanTask.claimed_by == me, HumanTask.completed_by == me))
        started = select(Instance.id).where(Instance.started_by == me)
        conditions: list[ColumnElement[bool]] = [CaseRecord.leader == me, CaseRecord.instance_id.in_(worked),
                                                 CaseRecord.instance_id.in_(started)]
        for seat in viewer.seats:
            if seat.role in PLACE_ROLES:
                covered = place_path.startswith(seat.area_path, autoescape=True)
                conditions.append(or_(covered, place.is_(None)) if seat.area_path.count("/") == 2 else covered)
        offices = access.office_keys()
        if offices:
            conditions.append(CaseRecord.handling_unit.in_(sorted(offices)))
        for column, role in ((CaseRecord.review_unit, "review_body"), (CaseRecord.reexam_unit, "reexam_body")):
            units = access.unit_keys(role)
            if units:
                conditions.append(column.in_(sorted(units)))
        certain = or_(*conditions)
        # Reachable only through an open task of one of the viewer's lanes: checked one by one (open tasks).
        reachable = select(HumanTask.instance_id).where(HumanTask.status == "open",
                                                        HumanTask.lane.in_(sorted(viewer.lanes)))
        maybe = session.scalars(query.where(not_(certain), CaseRecord.instance_id.in_(reachable))).all()
        extra = [case.instance_id for case in maybe if access.may_see_case(case)]
        certain = or_(certain, CaseRecord.instance_id.in_(extra)) if extra else certain
    # Cases about the viewer (their unit or themselves accused) and cases they stepped aside from are never listed.
    aside = select(Event.instance_id).where(Event.type == STEPPED_ASIDE, Event.actor == me)
    suspects = session.scalars(query.where(certain, or_(CaseRecord.accused_unit.is_not(None),
                                                        CaseRecord.accused_person.is_not(None),
                                                        CaseRecord.instance_id.in_(aside)))).all()
    hidden = [case.instance_id for case in suspects if not access.may_see_case(case)]
    return and_(certain, CaseRecord.instance_id.not_in(hidden)) if hidden else certain

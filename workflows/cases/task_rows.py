"""Task rows read together with what the access rules ask about them, so that a request answers "may this person
see this task?" without a query of its own per task: whether the person stepped aside from the case (回避), and
the places (org units) the task and its case name, for the rules' paths and the lists' place names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, exists
from sqlalchemy.orm import aliased

from engine.models import Event, HumanTask
from workflows.cases.access import STEPPED_ASIDE, Access
from workflows.cases.record import CaseRecord
from workflows.org.models import OrgUnit
from workflows.org.tree import remember_units

FACT_COLUMNS = 5  # the columns `with_access_facts` adds at the end of each row


def with_access_facts(query: Select[Any], username: str) -> Select[Any]:
    """`query` (over HumanTask, outer-joined to CaseRecord) with five more columns: whether `username` stepped
    aside from the task's case, and the org units of the task's scope and the case's township, village and grid."""
    scope, township, village, grid = (aliased(OrgUnit) for _ in range(4))
    aside = exists().where(Event.instance_id == HumanTask.instance_id, Event.type == STEPPED_ASIDE,
                           Event.actor == username)
    return (query.add_columns(aside.label("stepped_aside"), scope, township, village, grid)
            .outerjoin(scope, scope.code == HumanTask.scope)
            .outerjoin(township, township.code == CaseRecord.township)
            .outerjoin(village, village.code == CaseRecord.village)
            .outerjoin(grid, grid.code == CaseRecord.grid))


def take_access_facts(access: Access, row: Sequence[Any]) -> tuple[Any, ...]:
    """Give `access` (and the request's memory of places) what a row of `with_access_facts` carries; return the
    row without those columns."""
    head, (aside, *units) = tuple(row[:-FACT_COLUMNS]), row[-FACT_COLUMNS:]
    task: HumanTask = head[0]
    case: CaseRecord | None = head[1]
    access.know_stepped_aside(task.instance_id, bool(aside))
    codes = [task.scope, *((case.township, case.village, case.grid) if case is not None else ())]
    named = {code: unit for code, unit in zip(codes, units, strict=False) if code}
    remember_units(access.session, named)
    access.know_places(named, {code: unit for code, unit in named.items() if unit is not None})
    return head

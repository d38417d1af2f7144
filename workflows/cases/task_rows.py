"""Task rows read together with what the access rules ask about them, so that a request answers "may this person
see this task?" without a query of its own per task: whether the person stepped aside from the case (回避), and
the places (org units) the task and its case name, for the rules' paths and the lists' place names.

The statements are built once per process (aliases and statement building are costly next to running them);
the person comes in as the bound parameter `viewer` (`access_params`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, String, bindparam, exists
from sqlalchemy.orm import aliased

from engine.models import Event, HumanTask
from workflows.cases.access import STEPPED_ASIDE, Access
from workflows.cases.record import CaseRecord
from workflows.org.models import OrgUnit
from workflows.org.tree import remember_units

VIEWER = bindparam("viewer", type_=String)
FACT_COLUMNS = 5  # the columns `with_access_facts` adds at the end of each row
_SCOPE, _TOWNSHIP, _VILLAGE, _GRID = (aliased(OrgUnit, name=f"{place}_unit")
                                      for place in ("scope", "township", "village", "grid"))
_ASIDE = exists().where(Event.instance_id == HumanTask.instance_id, Event.type == STEPPED_ASIDE,
                        Event.actor == VIEWER).label("stepped_aside")


def with_access_facts(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """`query` (over HumanTask, outer-joined to CaseRecord) with five more columns: whether the viewer stepped
    aside from the task's case, and the org units of the task's scope and the case's township, village and grid."""
    return (query.add_columns(_ASIDE, _SCOPE, _TOWNSHIP, _VILLAGE, _GRID)
            .outerjoin(_SCOPE, _SCOPE.code == HumanTask.scope)
            .outerjoin(_TOWNSHIP, _TOWNSHIP.code == CaseRecord.township)
            .outerjoin(_VILLAGE, _VILLAGE.code == CaseRecord.village)
            .outerjoin(_GRID, _GRID.code == CaseRecord.grid))


def access_params(access: Access) -> dict[str, Any]:
    """The parameters a statement of `with_access_facts` needs."""
    return {"viewer": access.viewer.username}


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

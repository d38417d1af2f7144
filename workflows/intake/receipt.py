"""The receipt (回执) a petitioner takes home: the case number, the query code, and the statutory time limits.

Every channel gets one: the desk prints it for a visit, the bureau for a letter, call or fax, staff for an online
message or a grid report. It carries no ID number or phone; for a confidential case the names are masked too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from workflows.cases.calendar import Deadlines
from workflows.cases.record import CaseRecord
from workflows.cases.script_helpers import packaged_config
from workflows.org.tree import units_by_code
from workflows.views.case_view import CHANNELS, mask_name


@dataclass
class Receipt:
    """What the receipt shows."""

    case_number: str
    query_code: str
    registered_at: datetime
    channel: str
    category: str
    place: str
    petitioners: list[str]
    limits: list[str]


def statutory_limits(deadlines: Deadlines) -> list[str]:
    """The time limits of 信访工作条例 a petitioner is told of, in the numbers the county configured."""
    return [
        f"自收到信访事项之日起{deadlines.acceptance_days}日内书面告知是否受理（第二十三条）；",
        f"自受理之日起{deadlines.handling_days}日内办结；情况复杂的，经批准可适当延长，延长期限不超过"
        f"{deadlines.extension_max_days}日，并告知延期理由（第三十四条）；",
        f"对处理意见不服的，可自收到书面答复之日起{deadlines.review_request_days}日内请求复查（第三十五条）；"
        f"对复查意见不服的，可自收到之日起{deadlines.reexam_request_days}日内请求复核（第三十六条）。",
    ]


def receipt(session: Session, case: CaseRecord) -> Receipt:
    """The receipt of a case."""
    config = packaged_config()
    categories = config.routing.categories
    places = units_by_code(session, [c for c in (case.township, case.village) if c])
    names = [str(p.get("petitioner_name", "")) for p in case.petitioners or [] if isinstance(p, dict)]
    if case.confidential:
        names = [mask_name(name) for name in names]
    return Receipt(
        case_number=case.case_number, query_code=case.query_code, registered_at=case.registered_at,
        channel=CHANNELS.get(case.channel or "", "—"),
        category=categories[case.category].name if case.category is not None and case.category in categories else "—",
        place=" / ".join(places[c].name for c in (case.township, case.village) if c and c in places) or "—",
        petitioners=[n for n in names if n], limits=statutory_limits(config.deadlines))

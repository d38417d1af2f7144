"""Who reviews and who re-examines a reply: the body one level above the handler, then one above that.

The two governments above the townships are named in `data/review_bodies.yaml`; a township reviews what its
villages answered. Access rules give 复查机关 / 复核机关 tasks to the staff of exactly these units.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from workflows import DATA_DIR, DomainError, LineDict, ProblemLog, read_data_file
from workflows.org.tree import UnknownUnit, enclosing, get_unit


class NoReviewBody(DomainError):
    """The handler of a reply is not in the org, so nobody can be named to review it."""


@dataclass(frozen=True)
class ReviewBodies:
    """The county and city governments by org code."""

    county_government: str = "county-government"
    city_government: str = "city-government"

    def for_handler(self, session: Session, handled_by: str) -> tuple[str, str]:
        """(review unit, re-examination unit) of a reply given by the unit `handled_by` (an org code)."""
        try:
            unit = get_unit(session, handled_by.strip())
        except UnknownUnit:
            raise NoReviewBody(f"答复单位 {handled_by!r} 不在组织机构中，无法确定复查机关") from None
        if unit.kind == "area" and unit.level in ("village", "grid"):
            town = enclosing(session, unit, "township")
            if town is not None:
                return town.code, self.county_government
        return self.county_government, self.city_government


def load_review_bodies(path: Path | str | None = None) -> ReviewBodies:
    """Read the governments above the townships (default: workflows/data/review_bodies.yaml)."""
    source = Path(path) if path is not None else DATA_DIR / "review_bodies.yaml"
    log = ProblemLog(str(source))
    doc = log.mapping(read_data_file(source), 1, "", ("version", "county_government", "city_government")) \
        or LineDict()
    values = {}
    for key in ("county_government", "city_government"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            log.add(doc.line_of(key), key, "expected the org code of a government office")
        else:
            values[key] = value.strip()
    log.raise_if_any()
    return ReviewBodies(**values)

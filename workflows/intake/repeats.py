"""Repeat petitions (重复信访): the petitioner's earlier cases, found by ID number and by similar claim text.

ID numbers are never searched in plaintext: each case record keeps a keyed hash of its petitioner's ID number
(HMAC with the deployment secret, `case_record.id_number_key`, indexed), and the same hash of the number being
registered finds the earlier cases. Claim text is compared by character bigrams (Chinese has no spaces) among
the recent cases of the same township, so a petitioner who gave no ID number is still recognised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cases.record import CaseRecord, id_number_key

SIMILAR_CLAIM = 0.5  # share of the shorter claim's bigrams found in the other claim
CLAIM_WINDOW = 200  # recent cases of the township compared by claim text
MAX_FOUND = 10


@dataclass(frozen=True)
class EarlierCase:
    """An earlier case of the same petitioner or claim, as the registration page lists it."""

    instance_id: int
    case_number: str
    registered_at: str
    claim: str
    status: str
    final: bool
    match: str  # "id_number" or "claim"

    def as_data(self) -> dict[str, Any]:
        """The JSON-friendly form kept in the case data (`repeat_candidates`)."""
        return dict(self.__dict__)


def earlier_cases(session: Session, secret: str, id_number: str | None, claim: str | None,
                  township: str | None = None, exclude: int | None = None) -> list[EarlierCase]:
    """The earlier cases of this ID number (keyed hash) and those with a similar claim in the township."""
    found: dict[int, EarlierCase] = {}
    if id_number and id_number.strip():
        key = id_number_key(secret, id_number)
        query = (select(CaseRecord).where(CaseRecord.id_number_key == key)
                 .order_by(CaseRecord.registered_at, CaseRecord.instance_id))
        for case in session.scalars(query.limit(MAX_FOUND)):
            if case.instance_id != exclude:
                found[case.instance_id] = _earlier(case, "id_number")
    if claim and claim.strip() and township:
        query = (select(CaseRecord).where(CaseRecord.township == township, CaseRecord.claim.is_not(None))
                 .order_by(CaseRecord.registered_at.desc(), CaseRecord.instance_id.desc()).limit(CLAIM_WINDOW))
        for case in session.scalars(query):
            if case.instance_id not in found and case.instance_id != exclude \
                    and claim_similarity(claim, case.claim or "") >= SIMILAR_CLAIM:
                found[case.instance_id] = _earlier(case, "claim")
    return sorted(found.values(), key=lambda c: (c.registered_at, c.instance_id))[:MAX_FOUND]  # ties: older case first


def claim_similarity(a: str, b: str) -> float:
    """How much of the shorter claim's wording (character bigrams, blanks and punctuation ignored) the other has."""
    first, second = _bigrams(a), _bigrams(b)
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


def _bigrams(text: str) -> set[str]:
    kept = "".join(ch for ch in text if ch.isalnum())
    return {kept[i:i + 2] for i in range(len(kept) - 1)}


def _earlier(case: CaseRecord, match: str) -> EarlierCase:
    return EarlierCase(case.instance_id, case.case_number, case.registered_at.isoformat(), case.claim or "",
                       case.status, bool(case.final), match)

"""Reads of a case, kept apart from its process history: who opened which page, exported or unmasked it, when.

A read changes nothing in the case, so it does not belong in the step history (its replay would count it as a
step). Reads are still tamper-evident: each case's entries are numbered and chained by hash like its events.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .models import AccessEntry
from .state import canonical_json

ATTEMPTS = 5  # two readers of one case at the same moment: the later one takes the next number


def entry_fields(entry: AccessEntry) -> dict[str, Any]:
    """The fields of an entry that its hash covers, in their canonical form."""
    return {"instance": entry.instance_id, "seq": entry.seq, "kind": entry.kind, "actor": entry.actor,
            "business_time": entry.business_time.astimezone(UTC).isoformat(),
            "wall_time": entry.wall_time.astimezone(UTC).isoformat(), "personal_data": entry.personal_data,
            "data": entry.data, "prev_hash": entry.prev_hash}


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def record_read(session: Session, instance_id: int, kind: str, actor: str, now: datetime,
                data: dict[str, Any] | None = None, personal_data: bool = False) -> AccessEntry:
    """Append one read to the case's access log (the caller's transaction commits it)."""
    for attempt in range(ATTEMPTS):
        last = session.execute(select(AccessEntry.seq, AccessEntry.hash).where(AccessEntry.instance_id == instance_id)
                               .order_by(AccessEntry.seq.desc()).limit(1)).first()
        entry = AccessEntry(instance_id=instance_id, seq=(last[0] if last else 0) + 1, kind=kind, actor=actor,
                            business_time=now, wall_time=datetime.now(UTC), personal_data=personal_data,
                            data=dict(data or {}), prev_hash=last[1] if last else None)
        entry.hash = entry_hash(entry_fields(entry))
        try:
            with session.begin_nested():
                session.add(entry)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return entry
    raise AssertionError("unreachable")


def reads_of(session: Session, instance_id: int) -> list[AccessEntry]:
    """Every read of a case, oldest first."""
    return list(session.scalars(select(AccessEntry).where(AccessEntry.instance_id == instance_id)
                                .order_by(AccessEntry.seq)))


def read_count(session: Session, instance_id: int, personal_data: bool | None = None) -> int:
    """How many reads a case has had (only those that showed personal data unmasked, if asked)."""
    query = select(func.count()).select_from(AccessEntry).where(AccessEntry.instance_id == instance_id)
    if personal_data is not None:
        query = query.where(AccessEntry.personal_data == personal_data)
    return session.scalar(query) or 0


@dataclass
class BrokenRead:
    """The first entry of a case's access log that does not hold."""

    seq: int
    what: str


def check_reads(entries: list[AccessEntry]) -> BrokenRead | None:
    """Numbering, links and hashes of a case's access log, in order."""
    previous: str | None = None
    for number, entry in enumerate(entries, 1):
        if entry.seq != number:
            return BrokenRead(number, f"numbered {entry.seq}: an entry before it is missing")
        if entry.prev_hash != previous:
            return BrokenRead(number, "does not link to the entry before it")
        if entry_hash(entry_fields(entry)) != entry.hash:
            return BrokenRead(number, "its recorded fields do not match its hash")
        previous = entry.hash
    return None

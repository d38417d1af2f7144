"""The append-only, hash-chained event log of an instance."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from .models import Event, Instance
from .state import canonical_json

# Event types the engine writes; the domain may add its own with `record`.
STARTED = "started"
TASK_COMPLETED = "task_completed"
TASK_CLAIMED = "task_claimed"
TASK_RELEASED = "task_released"
TIMER_FIRED = "timer_fired"
MESSAGE_RECEIVED = "message_received"
INCIDENT_RAISED = "incident_raised"
INCIDENT_RESOLVED = "incident_resolved"
COMPLETED = "completed"
MIGRATED = "migrated"


def event_hash(fields: dict[str, Any]) -> str:
    """The hash of an event's recorded fields, which include the previous event's hash."""
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def hashed_fields(event: Event) -> dict[str, Any]:
    """The fields of an event that its hash covers, in their canonical form."""
    return {
        "instance": event.instance_id,
        "seq": event.seq,
        "type": event.type,
        "version": event.process_version_id,
        "business_time": event.business_time.astimezone(UTC).isoformat(),
        "wall_time": event.wall_time.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "task": event.task_ref,
        "data": event.data,
        "state_digest": event.state_digest,
        "prev_hash": event.prev_hash,
    }


def record(session: Session, instance: Instance, type_: str, actor: str, business_time: datetime,
           state_digest: str, data: dict[str, Any] | None = None, task_ref: str | None = None) -> Event:
    """Append one event to the instance's chain (the caller's transaction commits it)."""
    event = Event(
        instance_id=instance.id,
        seq=(instance.event_count or 0) + 1,
        type=type_,
        process_version_id=instance.process_version_id,
        business_time=business_time,
        wall_time=datetime.now(UTC),
        actor=actor,
        task_ref=task_ref,
        data=data or {},
        state_digest=state_digest,
        prev_hash=instance.last_event_hash,
    )
    event.hash = event_hash(hashed_fields(event))
    instance.event_count = event.seq
    instance.last_event_hash = event.hash
    session.add(event)
    return event

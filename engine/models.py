"""Tables of the engine: deployed diagrams, instances, the human-task projection, incidents and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base


class SimulatedTime(Base):
    """The stored business time of a deployment that runs on a simulated clock."""

    __tablename__ = "simulated_time"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    now: Mapped[datetime]


class StoredFile(Base):
    """A diagram or form file, stored once per content hash."""

    __tablename__ = "stored_file"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    created_at: Mapped[datetime]


class Deployment(Base):
    """One `deploy` of a set of files."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(120))
    bundle_hash: Mapped[str] = mapped_column(String(64), index=True)


class DeploymentFile(Base):
    """Which file, under which name, belonged to a deployment."""

    __tablename__ = "deployment_file"

    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("stored_file.content_hash"))


class ProcessVersion(Base):
    """A numbered version of one executable process, with its parsed spec stored once."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(255))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    file_name: Mapped[str] = mapped_column(String(255))
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str] = mapped_column(String(120))


class Instance(Base):
    """A running or finished case of a process version."""

    __tablename__ = "instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(Text)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    next_timer_at: Mapped[datetime | None] = mapped_column(index=True)
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_event_hash: Mapped[str | None] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": row_version}


class HumanTask(Base):
    """Projection of a READY (or once READY) user task, so task lists never load workflow state."""

    __tablename__ = "human_task"
    __table_args__ = (Index("ix_human_task_open_lane", "status", "lane"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(255))
    ref: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(120))
    form: Mapped[str | None] = mapped_column(String(255))
    scope: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(120))
    completed_at: Mapped[datetime | None]
    completion_key: Mapped[str | None] = mapped_column(String(64))


class MessageWait(Base):
    """An instance waiting for a named message (projection, for delivery without loading every case)."""

    __tablename__ = "message_wait"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), primary_key=True)
    message_name: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Incident(Base):
    """A script or gateway failure that stopped a case; retried once its cause is fixed."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(255))
    task_ref: Mapped[str | None] = mapped_column(String(300))
    line: Mapped[int | None]
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    raised_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))


class Event(Base):
    """One entry of an instance's append-only, hash-chained history."""

    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    business_time: Mapped[datetime] = mapped_column(index=True)
    wall_time: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    task_ref: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict[str, Any]]
    state_digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AccessEntry(Base):
    """One read of a case — a page view, an export, an unmasking — kept apart from its process history, chained
    by hash per case so that an edited, removed or reordered entry shows."""

    __tablename__ = "access_log"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("instance.id"), index=True)
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    business_time: Mapped[datetime]
    wall_time: Mapped[datetime]
    personal_data: Mapped[bool] = mapped_column(default=False)  # the read showed personal data unmasked
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
@event.listens_for(AccessEntry, "before_update")
@event.listens_for(AccessEntry, "before_delete")
def _logs_are_append_only(_mapper: Any, _connection: Any, target: Event | AccessEntry) -> None:
    what = "event" if isinstance(target, Event) else "access entry"
    raise RuntimeError(f"{what} {target.instance_id}/{target.seq} is append-only: it cannot be changed or deleted")


class ChainDigest(Base):
    """A digest over every case's chain head, taken daily: removing a whole case shows against it."""

    __tablename__ = "chain_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(index=True)
    cases: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))
    heads: Mapped[list[Any]]

"""Fixtures of the engine tests: deploying the small diagrams of data/, and snapshots of what is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import engine
from engine.models import Event, HumanTask, Incident, Instance

from .diagrams import bundle


@pytest.fixture
def deploy(session: Session, clock: engine.FixedClock, specs: engine.SpecStore) -> Callable[..., Any]:
    """Deploy files of data/ (or given name → content) and commit."""

    def run(*names: str, files: dict[str, bytes] | None = None, lanes: set[str] | None = None,
            actor: str = "designer") -> list[engine.DeployedVersion]:
        versions = specs.deploy(session, files if files is not None else bundle(*names), actor, clock.now(), lanes)
        session.commit()
        return versions

    return run


@pytest.fixture
def snapshot(session: Session) -> Callable[[int], dict[str, Any]]:
    """What the database holds about an instance, read fresh, to prove that a refused step changed nothing."""

    def take(instance_id: int) -> dict[str, Any]:
        session.expire_all()
        instance = session.get(Instance, instance_id)
        assert instance is not None
        tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                .order_by(HumanTask.ref)).all()
        return {
            "events": session.scalar(select(func.count()).select_from(Event)
                                     .where(Event.instance_id == instance_id)),
            "row_version": instance.row_version,
            "status": instance.status,
            "state": instance.state,
            "tasks": [(t.id, t.status, t.claimed_by, t.completed_by) for t in tasks],
            "incidents": session.scalar(select(func.count()).select_from(Incident)
                                        .where(Incident.instance_id == instance_id)),
        }

    return take

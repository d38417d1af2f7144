"""What is deployed: every version of every process with how many cases run on it, and the files it came with."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .errors import UnknownProcess
from .models import DeploymentFile, Instance, ProcessVersion, StoredFile


def version_table(session: Session, process_id: str | None = None) -> list[dict[str, Any]]:
    """Every version (number, when, by whom, content hash) with its running and finished case counts."""
    running = func.sum(case((Instance.status != "completed", 1), else_=0))
    finished = func.sum(case((Instance.status == "completed", 1), else_=0))
    query = (select(ProcessVersion, running, finished)
             .outerjoin(Instance, Instance.process_version_id == ProcessVersion.id)
             .group_by(ProcessVersion.id).order_by(ProcessVersion.process_id, ProcessVersion.version))
    if process_id:
        query = query.where(ProcessVersion.process_id == process_id)
    return [{"process": v.process_id, "version": v.version, "deployed_at": v.deployed_at, "deployed_by": v.deployed_by,
             "spec_hash": v.spec_hash, "running": r or 0, "finished": f or 0}
            for v, r, f in session.execute(query).all()]


def version_row(session: Session, process_id: str, number: int) -> ProcessVersion:
    """A version of a process by its number."""
    row = session.scalar(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                     ProcessVersion.version == number))
    if row is None:
        raise UnknownProcess(f"{process_id} has no version {number}")
    return row


def latest_versions(session: Session) -> list[ProcessVersion]:
    """The newest version of every deployed process, by process id."""
    newest = (select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_id).subquery())
    query = (select(ProcessVersion).join(newest, (newest.c.process_id == ProcessVersion.process_id)
                                         & (newest.c.version == ProcessVersion.version))
             .order_by(ProcessVersion.process_id))
    return list(session.scalars(query))


def human_task_lanes(session: Session) -> set[str]:
    """The lanes of the human tasks of what runs now: each process's newest version, called processes included."""
    lanes: set[str] = set()
    for version in latest_versions(session):
        stored = json.loads(version.spec)
        for spec in (stored["spec"], *stored["subprocess_specs"].values()):
            tasks = spec["task_specs"].values()
            lanes.update(task["lane"] for task in tasks if task.get("manual") and task.get("lane"))
    return lanes


def library_files(session: Session) -> dict[str, bytes]:
    """The files that make up what runs now: each process's newest version's deployment, newer files winning."""
    files: dict[str, bytes] = {}
    deployments = sorted({v.deployment_id for v in latest_versions(session)})
    for deployment_id in deployments:
        rows = session.execute(select(DeploymentFile.name, StoredFile.content)
                               .join(StoredFile, StoredFile.content_hash == DeploymentFile.content_hash)
                               .where(DeploymentFile.deployment_id == deployment_id)).all()
        files.update({name: bytes(content) for name, content in rows})
    return files


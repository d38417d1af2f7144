"""Incidents: a step's failure kept on its case, with the message a designer reads, until it is retried."""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import UnknownIncident
from .models import Incident, Instance
from .snapshot import Snapshot
from .state import Bookkeeping


def new_incident(instance: Instance, snapshot: Snapshot, books: Bookkeeping, failure: SpiffWorkflowException,
                 now: datetime) -> Incident:
    """The open incident for a step's failure, naming the element (and script line) where it happened."""
    task = getattr(failure, "task", None)
    if task is None and snapshot.errored:
        task = snapshot.errored[0]
    line = getattr(failure, "line_number", None)
    element = getattr(task.task_spec, "bpmn_id", None) if task is not None else None
    return Incident(instance_id=instance.id, element_id=element,
                    task_ref=books.ref_of(task) if task is not None else None,
                    line=line if isinstance(line, int) and line > 0 else None,
                    message=plain_message(failure), status="open", raised_at=now)


def plain_message(failure: Exception) -> str:
    """The failure in one line, with its cause and the offending expression when SpiffWorkflow gives them."""
    lines = [str(failure).split("\n")[0]]
    # SpiffWorkflow says only "Error evaluating expression ..." for conditions and timers: add why.
    cause = failure.__cause__ or failure.__context__
    if cause is not None and not isinstance(cause, SpiffWorkflowException) and str(cause) not in lines[0]:
        lines.append(f"{type(cause).__name__}: {cause}")
    error_line = getattr(failure, "error_line", None)
    if error_line:
        lines.append(f"at: {error_line}")
    return " — ".join(line for line in lines if line)


def open_incident(session: Session, instance_id: int) -> Incident:
    """The open incident of a case."""
    incident = session.scalar(select(Incident).where(Incident.instance_id == instance_id,
                                                     Incident.status == "open").order_by(Incident.id))
    if incident is None:
        raise UnknownIncident(f"case {instance_id} has no open incident")
    return incident

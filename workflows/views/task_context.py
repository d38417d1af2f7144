"""What a task page shows above its form: the records of the case's earlier steps, and the case's deadlines.

A leader checking a unit's report reads the report; a leader assigning a case reads the interview notes. Every
task of a case shows the records of the steps completed before it, read-only, with personal data masked as on the
case page, and the case's own deadlines (not only the task's), so nobody decides without the story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine import Engine
from engine.models import Instance
from workflows.cases.record import CaseRecord, deadline_states
from workflows.views.case_view import DeadlineRow, TimelineEntry, deadline_label, timeline


@dataclass
class TaskBackground:
    """The earlier steps' records (oldest first) and the case's deadlines still running or missed."""

    steps: list[TimelineEntry]
    deadlines: list[DeadlineRow]


def task_background(session: Session, engine: Engine, instance: Instance, case: CaseRecord | None,
                    now: datetime) -> TaskBackground:
    """The context a task is decided in: every completed step's submitted record, and the case's deadlines."""
    steps = [entry for entry in timeline(session, engine, instance, case, revealed=False, full=True)
             if entry.kind == "task_completed" and entry.details]
    rows = [DeadlineRow(name, due, state, deadline_label(state))
            for name, due, state in (deadline_states(case, now) if case is not None else [])
            if state in ("pending", "overdue")]
    return TaskBackground(steps, rows)

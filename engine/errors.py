"""Exceptions of the engine layer: each carries what a person needs to fix the cause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram, located by file, line and element."""

    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 0}: {self.element or '-'}: {self.message}"


class ValidationFailed(EngineError):
    """The diagrams have problems; nothing was deployed."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UnknownProcess(EngineError):
    """No deployed version of that process id."""


class UnknownInstance(EngineError):
    """No instance with that id."""


class TaskNotFound(EngineError):
    """No human task with that id."""


class TaskNotReady(EngineError):
    """The task exists but cannot be acted on now (completed, cancelled, claimed by another)."""


class TaskTaken(TaskNotReady):
    """Someone else completed or claimed the task first: `by` and `at` say who and when."""

    def __init__(self, message: str, action: str, by: str | None, at: datetime | None):
        super().__init__(message)
        self.action, self.by, self.at = action, by, at  # action: "completed" or "claimed"


class InvalidTaskData(EngineError):
    """Submitted data is not a JSON object of JSON values."""


class Conflict(EngineError):
    """Someone else changed the case first; reload and try again."""


class NoMessageWaiting(EngineError):
    """No instance waits for that message with those correlation keys."""


class ScriptRefused(EngineError):
    """A script tried something the restricted environment does not allow."""


class UnknownIncident(EngineError):
    """No open incident with that id."""


class ClockError(EngineError):
    """The clock cannot do what was asked (e.g. move a simulated clock backwards)."""


class MigrationRefused(EngineError):
    """A case cannot move to that version: the reasons name what it ran that changed."""

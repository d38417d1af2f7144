"""Doorstep's generic BPM runtime over SpiffWorkflow and SQLAlchemy; knows nothing of petitions or Flask."""

from .clock import Clock, FixedClock, SimulatedClock, SystemClock, business_time
from .errors import (
    ClockError,
    Conflict,
    EngineError,
    InvalidTaskData,
    MigrationRefused,
    NoMessageWaiting,
    Problem,
    ScriptRefused,
    TaskNotFound,
    TaskNotReady,
    TaskTaken,
    UnknownIncident,
    UnknownInstance,
    UnknownProcess,
    ValidationFailed,
)
from .progress import Progress
from .runtime import Engine
from .script_limits import ScriptLimitExceeded, ScriptLimits
from .specs import DeployedVersion, SpecStore, read_bundle
from .step import COMPLETED, INCIDENT, RUNNING, StepResult
from .validation import validate_bundle

__all__ = [
    "COMPLETED", "INCIDENT", "RUNNING", "Clock", "ClockError", "Conflict", "DeployedVersion", "Engine",
    "EngineError", "FixedClock", "InvalidTaskData", "MigrationRefused", "NoMessageWaiting", "Problem",
    "Progress", "ScriptLimitExceeded", "ScriptLimits", "ScriptRefused",
    "SimulatedClock", "SpecStore", "StepResult", "SystemClock", "TaskNotFound", "TaskNotReady", "TaskTaken",
    "UnknownIncident", "UnknownInstance", "UnknownProcess", "ValidationFailed", "business_time",
    "read_bundle", "validate_bundle",
]

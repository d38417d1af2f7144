"""The JSON the engine takes from callers and writes to the log: objects checked, values made plain JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .errors import InvalidTaskData
from .state import canonical_json


def json_object(value: Any, what: str) -> dict[str, Any]:
    """A copy of what a caller gave as `what`, if it is a JSON object with string keys; else InvalidTaskData."""
    if not isinstance(value, Mapping):
        raise InvalidTaskData(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        text = json.dumps(dict(value), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidTaskData(f"{what} must contain only JSON values: {error}") from error
    loaded: dict[str, Any] = json.loads(text)
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise InvalidTaskData(f"{what} keys must be strings: {bad!r}")
    return loaded


def jsonable(value: Any) -> Any:
    """The value as it reads back from JSON (what is not JSON, such as a date, as its text)."""
    return json.loads(json.dumps(value, default=str))


def completion_key(actor: str, data: dict[str, Any]) -> str:
    """What makes a task submission the same one again: who sent it, and what."""
    return hashlib.sha256(canonical_json({"actor": actor, "data": data}).encode()).hexdigest()

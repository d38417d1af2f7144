"""Settings, read from the environment once."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from engine.script_limits import ScriptLimits

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024  # a 5 MB diagram upload with room to spare
DEFAULT_REPLY_HOURS = 24.0  # how long an API answer stays stored for its Idempotency-Key


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set, with the embedded defaults."""

    database_url: str
    bpmn_dir: Path
    secret_key: str
    host: str
    port: int
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    secure_cookies: bool = False  # send the session cookie over HTTPS only (set behind TLS)
    script_limits: ScriptLimits = ScriptLimits()  # how long and how much memory diagram code may take
    reply_lifetime: timedelta = timedelta(hours=DEFAULT_REPLY_HOURS)  # a retry with the same key within it replays

    @classmethod
    def from_environment(cls) -> Settings:
        """Read DOORSTEP_* variables; default to a SQLite file and a generated secret key under ./instance."""
        instance_dir = Path(os.environ.get("DOORSTEP_INSTANCE_DIR", PROJECT_DIR / "instance"))
        return cls(
            database_url=os.environ.get("DOORSTEP_DATABASE_URL", f"sqlite:///{instance_dir / 'doorstep.db'}"),
            bpmn_dir=Path(os.environ.get("DOORSTEP_BPMN_DIR", PROJECT_DIR / "bpmn")),
            secret_key=os.environ.get("DOORSTEP_SECRET_KEY") or instance_secret(instance_dir),
            host=os.environ.get("DOORSTEP_HOST", "127.0.0.1"),
            port=int(os.environ.get("DOORSTEP_PORT", "5000")),
            max_request_bytes=int(os.environ.get("DOORSTEP_MAX_REQUEST_BYTES", str(DEFAULT_MAX_REQUEST_BYTES))),
            secure_cookies=os.environ.get("DOORSTEP_SECURE_COOKIES", "").lower() in ("1", "true", "yes", "on"),
            script_limits=ScriptLimits(
                seconds=float(os.environ.get("DOORSTEP_SCRIPT_SECONDS", "1")),
                memory_bytes=int(os.environ.get("DOORSTEP_SCRIPT_MEMORY_MB", "64")) * 1024 * 1024),
            reply_lifetime=timedelta(hours=float(os.environ.get("DOORSTEP_IDEMPOTENCY_HOURS",
                                                                str(DEFAULT_REPLY_HOURS)))),
        )


def instance_secret(instance_dir: Path) -> str:
    """The deployment's own random secret (sessions, query codes), made once and kept in the instance folder.

    A shared default key would make every deployment's query codes the same and guessable.
    """
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()

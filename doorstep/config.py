"""Settings, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set, with the embedded defaults."""

    database_url: str
    bpmn_dir: Path
    secret_key: str
    host: str
    port: int

    @classmethod
    def from_environment(cls) -> Settings:
        """Read DOORSTEP_* variables; default to a SQLite file under ./instance."""
        default_db = Path(os.environ.get("DOORSTEP_INSTANCE_DIR", PROJECT_DIR / "instance")) / "doorstep.db"
        return cls(
            database_url=os.environ.get("DOORSTEP_DATABASE_URL", f"sqlite:///{default_db}"),
            bpmn_dir=Path(os.environ.get("DOORSTEP_BPMN_DIR", PROJECT_DIR / "bpmn")),
            secret_key=os.environ.get("DOORSTEP_SECRET_KEY", "dev-only-change-me"),
            host=os.environ.get("DOORSTEP_HOST", "127.0.0.1"),
            port=int(os.environ.get("DOORSTEP_PORT", "5000")),
        )

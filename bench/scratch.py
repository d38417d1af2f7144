"""A scratch deployment for the benchmarks that run Doorstep's own processes (web workers, timer workers)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scratch_deployment(url: str, folder: Path, *init_args: str) -> dict[str, str]:
    """An empty database at `url` (a PostgreSQL schema is dropped and recreated) made ready by `doorstep init`;
    the environment that points Doorstep's commands at it."""
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine, text

        db = create_engine(url)
        with db.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.dispose()
    env = {**os.environ, "DOORSTEP_DATABASE_URL": url, "DOORSTEP_INSTANCE_DIR": str(folder),
           "DOORSTEP_SECRET_KEY": "bench-scratch", "DOORSTEP_BPMN_DIR": str(ROOT / "bpmn")}
    doorstep(env, "init", *init_args)
    return env


def doorstep(env: dict[str, str], *args: str) -> str:
    """Run a `doorstep` command; stop the benchmark with its message when it fails."""
    done = subprocess.run([sys.executable, "-m", "doorstep.cli", *args], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"doorstep {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout

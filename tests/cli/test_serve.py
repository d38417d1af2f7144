"""`doorstep serve`: gunicorn workers answer the health check, a timer worker child runs beside them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _doorstep(*args: str) -> list[str]:
    return [sys.executable, "-m", "doorstep.cli", *args]


@pytest.fixture
def deployment(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "DOORSTEP_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
           "DOORSTEP_INSTANCE_DIR": str(tmp_path), "DOORSTEP_BPMN_DIR": str(ROOT / "bpmn")}
    subprocess.run(_doorstep("init"), env=env, check=True, capture_output=True, timeout=120)
    return env


def _get(url: str) -> tuple[int, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, json.loads(answer.read())


def _wait_for_line(process: subprocess.Popen[str], needle: str) -> list[str]:
    seen = []
    assert process.stdout is not None
    for line in process.stdout:  # ends when the process exits: the test then fails on what it printed
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError("".join(seen))


def test_serve_runs_gunicorn_workers_and_a_timer_worker(deployment: dict[str, str]) -> None:
    port = _free_port()
    command = _doorstep("serve", "--port", str(port), "--workers", "2")
    with subprocess.Popen(command, env=deployment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True) as server:
        try:
            seen = _wait_for_line(server, "Booting worker")
            assert any("with 2 web workers and a timer worker" in line for line in seen)
            assert any("gunicorn" in line for line in seen)
            children = subprocess.run(["ps", "-o", "args=", "--ppid", str(server.pid)], capture_output=True,
                                      text=True).stdout
            assert "doorstep.cli worker" in children
            _wait_for_line(server, "Booting worker")  # the second web worker
            assert _get(f"http://127.0.0.1:{port}/healthz") == (200, {"status": "ok"})
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.communicate(timeout=30)

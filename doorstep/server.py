"""Production serving: gunicorn runs the app in N worker processes; one `doorstep worker` child fires timers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from werkzeug.middleware.proxy_fix import ProxyFix


def default_workers() -> int:
    """gunicorn's advice for synchronous workers: two per core plus one (a worker waits on the database too)."""
    return 2 * (os.cpu_count() or 1) + 1


class DoorstepServer(BaseApplication):
    """gunicorn with its settings given here, loading the app once per worker (no shared connections across forks)."""

    def __init__(self, load: Callable[[], Any], options: dict[str, Any]):
        self._load = load
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


def behind_proxies(app: Flask, proxies: int) -> Flask:
    """Trust `proxies` reverse proxies' X-Forwarded-For/-Proto/-Host (client addresses for the login throttle,
    https links); with 0 nothing forwarded is believed."""
    if proxies > 0:
        # Flask's documented way to wrap the WSGI app; its stubs declare wsgi_app a method, not an attribute.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    return app


def trusted_proxies() -> int:
    """DOORSTEP_TRUSTED_PROXIES: how many reverse proxies stand in front of the web workers (default 0)."""
    return int(os.environ.get("DOORSTEP_TRUSTED_PROXIES", "0") or 0)


def gunicorn_options(host: str, port: int, workers: int, timeout: int, threads: int = 1) -> dict[str, Any]:
    """Bind address, worker count, and request and error logs on stdout/stderr (journald or a file collects them).

    Workers are gunicorn's threaded kind ("gthread"): it keeps a client's connection open between requests
    (HTTP/1.1 keep-alive, parked without holding a thread), which the synchronous kind never does; `threads` > 1
    lets one worker serve that many requests at once (for a database far away; on SQLite, 1 avoids lock waits)."""
    return {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
            "keepalive": 5, "timeout": timeout, "graceful_timeout": timeout,
            "accesslog": "-", "errorlog": "-", "proc_name": "doorstep", "control_socket_disable": True,
            "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'}


@contextmanager
def timer_worker(interval: float) -> Iterator[subprocess.Popen[bytes]]:
    """A `doorstep worker` child process for the life of the block (stopped with SIGTERM when it ends)."""
    child = subprocess.Popen([sys.executable, "-m", "doorstep.cli", "worker", "--interval", str(interval)])
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()

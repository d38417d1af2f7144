"""The WSGI entry point for production servers: `gunicorn web.wsgi:app` (settings from DOORSTEP_* variables)."""

from __future__ import annotations

from doorstep.server import behind_proxies, trusted_proxies

from . import create_app

app = behind_proxies(create_app(), trusted_proxies())

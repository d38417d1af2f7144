"""Who a bearer token or a logged-in session's person stands for, remembered for a few seconds per web worker so
that a request does not rebuild the person's positions and duty from the database every time.

Keyed by kind (`TOKEN`, `SESSION`), the SHA-256 digest of the token or username (a token itself is never kept)
and the local day (today's duty); the kinds never meet, so no token can name a session's entry. An entry lives
`TTL` seconds: a change of positions or rota, or a replaced token, reaches other workers within that time; in this
worker a new token for a person forgets the person's entries at once. A session is checked against its stored row
on every request all the same (logging out or a password change ends it at once).
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import date

from workflows.cases.access import Viewer

TTL = 10.0
TOKEN, SESSION = "token", "session"


class ViewerCache:
    """(kind, digest) → (day, viewer, expiry), for one web worker process."""

    def __init__(self, ttl: float = TTL):
        self.ttl = ttl
        self._entries: dict[tuple[str, str], tuple[date, Viewer, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(kind: str, secret: str) -> tuple[str, str]:
        return kind, hashlib.sha256(secret.encode()).hexdigest()

    def get(self, kind: str, secret: str, day: date) -> Viewer | None:
        entry = self._entries.get(self.key(kind, secret))
        if entry is None or entry[0] != day or entry[2] < time.monotonic():
            return None
        return entry[1]

    def put(self, kind: str, secret: str, day: date, viewer: Viewer) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # many tokens in a short time: start over rather than grow
                self._entries.clear()
            self._entries[self.key(kind, secret)] = (day, viewer, time.monotonic() + self.ttl)

    def forget(self, username: str) -> None:
        with self._lock:
            for key in [k for k, (_, viewer, _) in self._entries.items() if viewer.username == username]:
                del self._entries[key]

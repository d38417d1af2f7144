"""Who a bearer token stands for, remembered for a few seconds per web worker so that an API call does not
rebuild the person's positions and duty from the database on every request.

Keyed by the token's SHA-256 digest (the token itself is never kept) and the local day (today's duty). An entry
lives `TTL` seconds: a change of positions or rota, or a replaced token, reaches other workers within that time;
in this worker a new token for a person forgets the person's entries at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import date

from workflows.cases.access import Viewer

TTL = 10.0


class ViewerCache:
    """token digest → (day, viewer, expiry), for one web worker process."""

    def __init__(self, ttl: float = TTL):
        self.ttl = ttl
        self._entries: dict[str, tuple[date, Viewer, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str, day: date) -> Viewer | None:
        entry = self._entries.get(self.key(token))
        if entry is None or entry[0] != day or entry[2] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, day: date, viewer: Viewer) -> None:
        with self._lock:
            if len(self._entries) > 10_000:  # many tokens in a short time: start over rather than grow
                self._entries.clear()
            self._entries[self.key(token)] = (day, viewer, time.monotonic() + self.ttl)

    def forget(self, username: str) -> None:
        with self._lock:
            for digest in [d for d, (_, viewer, _) in self._entries.items() if viewer.username == username]:
                del self._entries[digest]

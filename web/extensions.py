"""Unbound extensions, bound in `create_app`: the Doorstep services and one database session per request.

The web app uses the services' one SQLAlchemy engine (opened by `doorstep.database.connect`, with the SQLite
pragmas of `engine.db.open_database`), so pages, the CLI and the timer worker share the same settings.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from doorstep.services import Services
from engine import Engine


class Database:
    """Hands each request one session from the services; views commit once, teardown rolls back the rest."""

    def init_app(self, app: Flask, services: Services) -> None:
        """Bind the services to `app` and close the request's session when the request ends."""
        app.extensions["doorstep"] = services
        app.teardown_appcontext(self._close)

    @property
    def services(self) -> Services:
        """The services of the current app."""
        services: Services = current_app.extensions["doorstep"]
        return services

    @property
    def session(self) -> Session:
        """The session of the current request, opened on first use."""
        if "db_session" not in g:
            g.db_session = self.services.sessions()
        session: Session = g.db_session
        return session

    def engine(self) -> Engine:
        """The engine bound to the request's session, with the domain's helpers and projections."""
        if "engine" not in g:
            g.engine = self.services.engine(self.session)
        engine: Engine = g.engine
        return engine

    @staticmethod
    def _close(_error: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        g.pop("engine", None)
        if session is not None:
            session.rollback()  # whatever a view did not commit is not kept
            session.close()


db = Database()

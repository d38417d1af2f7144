"""The Flask application of Doorstep."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from doorstep.config import PROJECT_DIR, Settings
from doorstep.database import session_factory
from doorstep.services import Services
from engine.db import configure_connections, engine_options

from . import headers, input_gate, security, session_store
from .errors import register_errorhandlers
from .extensions import db, request_session, services

LOCAL = ZoneInfo("Asia/Shanghai")


def create_app(settings: Settings | None = None, overrides: dict[str, Any] | None = None,
               services: Services | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers, template helpers."""
    settings = settings or Settings.from_environment()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, DOORSTEP_SETTINGS=settings,
                      SQLALCHEMY_DATABASE_URI=settings.database_url,
                      SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
                      NODE_MODULES=Path(PROJECT_DIR) / "node_modules",
                      MAX_CONTENT_LENGTH=settings.max_request_bytes,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.secure_cookies)
    app.config.update(overrides or {})
    input_gate.init_app(app)
    register_extensions(app, settings, services)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask, settings: Settings, given: Services | None) -> None:
    """Bind Flask-SQLAlchemy, then build the Doorstep services on its engine (reusing a given spec cache)."""
    db.init_app(app)
    with app.app_context():
        configure_connections(db.engine)
        built = Services(settings, db.engine, session_factory(db.engine))
    if given is not None:
        built.specs = given.specs
    app.extensions["doorstep"] = built
    session_store.init_app(app)
    security.init_app(app)
    headers.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per resource."""
    from .api import bp as api_bp
    from .assets import bp as assets_bp
    from .audit import bp as audit_bp
    from .auth import bp as auth_bp
    from .cases import bp as cases_bp
    from .designer import bp as designer_bp
    from .health import bp as health_bp
    from .home import bp as home_bp
    from .intake import bp as intake_bp
    from .query import bp as query_bp
    from .reception import bp as reception_bp
    from .reports import bp as reports_bp
    from .rota import bp as rota_bp
    from .tasks import bp as tasks_bp

    for blueprint in (home_bp, auth_bp, tasks_bp, reception_bp, rota_bp, intake_bp, cases_bp, query_bp, audit_bp,
                      assets_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp)  # JSON API: token-authenticated, CSRF-exempt (see web/api.py)
    app.register_blueprint(designer_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(health_bp)  # /healthz: no login, no personal data


def register_template_helpers(app: Flask) -> None:
    """Filters and globals every page uses: local times, the person, the business time."""

    @app.template_filter("local")
    def local(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        return moment.astimezone(LOCAL).strftime(pattern) if moment is not None else ""

    @app.context_processor
    def page_context() -> dict[str, Any]:
        from workflows.intake.reception_desk import desk_seat
        from workflows.intake.start_permissions import start_permissions

        from .rota import reads_rota

        viewer = security.current_viewer()
        seat = desk_seat(security.current_access()) if viewer is not None else None
        doors = [d for d in start_permissions().open_to(viewer.roles) if d.page != "reception"] if viewer else []
        now = services().now(request_session())
        rota = viewer is not None and reads_rota(viewer)
        return {"viewer": viewer, "desk": seat, "rota_link": rota, "intake_doors": doors, "business_now": now}

"""The Flask application of Doorstep."""

from __future__ import annotations

from typing import Any

from flask import Flask

from doorstep.config import Settings
from doorstep.services import Services

from .extensions import db


def create_app(settings: Settings | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, error handlers."""
    settings = settings or Settings.from_environment()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, SQLALCHEMY_DATABASE_URI=settings.database_url,
                      DOORSTEP_SETTINGS=settings)
    app.config.update(overrides or {})
    register_extensions(app, settings)
    register_blueprints(app)
    return app


def register_extensions(app: Flask, settings: Settings) -> None:
    """Bind the unbound extensions and the Doorstep services to this app."""
    db.init_app(app)
    app.extensions["doorstep"] = Services.from_settings(settings)


def register_blueprints(app: Flask) -> None:
    """One blueprint per resource."""
    from .home import bp as home_bp

    app.register_blueprint(home_bp)

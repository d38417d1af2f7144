"""Browser assets installed from npm (package-lock.json): served from node_modules, never from a CDN."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory
from werkzeug.wrappers import Response

bp = Blueprint("assets", __name__)
# Only the built files of the packages the pages use are served.
PACKAGES = {"bpmn-js": "bpmn-js/dist", "chart.js": "chart.js/dist"}  # chart.js: the report page's charts


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """A file of a package's distribution folder (404 when npm ci has not been run)."""
    folder = PACKAGES.get(package)
    if folder is None:
        abort(404)
    root = Path(current_app.config["NODE_MODULES"]) / folder
    if not root.is_dir():
        abort(404)
    return send_from_directory(root, filename, max_age=3600)

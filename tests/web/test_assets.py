"""bpmn-js is served by Flask from node_modules (installed by `npm ci` from the committed lockfile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doorstep.config import PROJECT_DIR

NODE_MODULES = Path(PROJECT_DIR) / "node_modules"


def test_the_lockfile_pins_bpmn_js():
    package = json.loads((Path(PROJECT_DIR) / "package.json").read_text())
    lock = json.loads((Path(PROJECT_DIR) / "package-lock.json").read_text())
    pinned = package["dependencies"]["bpmn-js"]
    assert pinned[0].isdigit()  # an exact version, not a range
    assert lock["packages"]["node_modules/bpmn-js"]["version"] == pinned


@pytest.mark.skipif(not (NODE_MODULES / "bpmn-js").is_dir(), reason="node_modules missing: run `npm ci` (make install)")
def test_the_viewer_and_its_styles_are_served(client):
    with client.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js") as script:
        assert script.status_code == 200 and b"BpmnJS" in script.data
    for name in ("assets/bpmn-js.css", "assets/diagram-js.css"):
        with client.get(f"/vendor/bpmn-js/{name}") as style:
            assert style.status_code == 200 and style.mimetype == "text/css"


def test_only_the_listed_packages_and_their_files_are_served(client):
    assert client.get("/vendor/left-pad/index.js").status_code == 404
    assert client.get("/vendor/bpmn-js/../package.json").status_code == 404
    assert client.get("/vendor/bpmn-js/%2e%2e/package.json").status_code == 404
    assert client.get("/vendor/bpmn-js/no-such-file.js").status_code == 404


def test_the_page_script_draws_with_the_navigated_viewer(client):
    with client.get("/static/diagram.js") as script:
        assert script.status_code == 200
        assert b"window.BpmnJS" in script.data and b"addMarker" in script.data and b"overlays" in script.data

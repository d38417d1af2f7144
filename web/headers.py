"""Security headers on every response, and diagram files served only as downloads.

The Content-Security-Policy lets pages run script from this site only (no inline script, no `on…=` handler, no
`javascript:` URL), so markup that slipped into a page or a diagram cannot run. Styles may be inline because
bpmn-js and the pages set `style` attributes; images and fonts may be `data:` URLs (bpmn-js's logo and icon font).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A downloaded file opened in the browser anyway gets no script, no plugin and a sandbox of its own.
DOWNLOAD_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def init_app(app: Flask) -> None:
    """Add the security headers to every response (a view may set a stricter policy of its own)."""
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Set each security header the response does not already carry."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def xml_download(content: bytes | str, file_name: str) -> Response:
    """A diagram (or other XML) as a file to save, never a document the browser renders in the site's origin."""
    response = Response(content, mimetype="application/xml")
    response.headers["Content-Disposition"] = attachment(file_name)
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    return response


def attachment(file_name: str) -> str:
    """A Content-Disposition value saving the response as `file_name` (any characters, safely quoted)."""
    plain = "".join(ch for ch in file_name if ch.isascii() and ch.isprintable() and ch not in '"\\;') or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(file_name, safe='')}"

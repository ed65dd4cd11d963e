"""Read-your-writes across requests: after a write, the client gets a short-lived cookie (and may send the
`X-Peakshop-Read-Your-Writes` header from non-browser clients) so its reads go to the writer until the
replica has certainly caught up. Forging it only costs writer capacity, so it is not signed."""

from __future__ import annotations

import time

from flask import Response, g, has_request_context, request

COOKIE = "peakshop_rw"
HEADER = "X-Peakshop-Read-Your-Writes"
_HEADER_KEY = "HTTP_" + HEADER.upper().replace("-", "_")  # its WSGI environ key


def mark_wrote() -> None:
    if has_request_context():
        g.peakshop_wrote = True


def wrote_recently() -> bool:
    if not has_request_context():
        return False
    if getattr(g, "peakshop_wrote", False):
        return True
    environ = request.environ  # runs on every cached read: plain environ lookups, not the Headers wrapper
    if environ.get(_HEADER_KEY) == "1":
        return True
    if COOKIE not in environ.get("HTTP_COOKIE", ""):  # skip cookie parsing on the common path
        return False
    until = request.cookies.get(COOKIE, "")
    return until.isdigit() and int(until) > time.time()


def remember_write(response: Response, window_s: float, path: str) -> None:
    """Called after the request: extend the read-your-writes window if this request wrote."""
    if window_s > 0 and getattr(g, "peakshop_wrote", False):
        until = int(time.time() + window_s) + 1
        response.set_cookie(COOKIE, str(until), max_age=int(window_s) + 1, path=path, httponly=True, samesite="Lax")

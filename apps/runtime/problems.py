"""RFC 9457 problem details for every 4xx/5xx, so clients get one machine-readable error shape."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE_BASE = "https://peakshop.example/problems/"
log = logging.getLogger("peakshop.problems")


class Problem(Exception):
    """Raise from a handler to answer with a problem document."""

    def __init__(self, status: int, title: str, detail: str = "", slug: str = "", **extensions: Any) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.extensions = extensions
        self.headers: dict[str, str] = {}


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"{what} does not exist", "not-found")


def problem_response(
    status: int, title: str, detail: str = "", slug: str = "", headers: dict[str, str] | None = None, **ext: Any
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
    }
    rid = getattr(g, "request_id", None)
    if rid:
        body["request_id"] = rid
    body.update(ext)
    resp = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _from_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    title = exc.name
    headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
    return problem_response(status, title, exc.description or title, headers=headers)


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, exc.slug, exc.headers, **exc.extensions)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return _from_http(exc)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(500, "Internal Server Error", "an unexpected error occurred", "internal")

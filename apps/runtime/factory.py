"""The Flask app factory every service uses: configuration, logging, metrics, DB routing, cache, problem
responses, health endpoints, request IDs and the OpenAPI document are wired identically everywhere."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Flask, Request, Response, current_app, g, jsonify, request

from apps.runtime import consistency, health, logs, problems
from apps.runtime.cache import Cache
from apps.runtime.config import COMMON_SETTINGS, Setting, Settings, load_settings
from apps.runtime.db import Database, DatabaseUnavailable
from apps.runtime.metrics import Metrics
from apps.runtime.validation import SchemaValidators

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_QUIET_PATHS = ("/healthz", "/readyz", "/metrics")


@dataclass
class Service:
    name: str
    settings: Settings
    metrics: Metrics
    db: Database
    cache: Cache
    openapi: dict[str, Any]
    validators: SchemaValidators
    access_log: logs.AccessLog
    extras: dict[str, Any] = field(default_factory=dict)

    def validate(self, schema_name: str, data: Any) -> Any:
        return self.validators.validate(schema_name, data)


def current() -> Service:
    return current_app.extensions["peakshop"]  # type: ignore[no-any-return]


def create_service_app(
    name: str,
    extra_settings: Iterable[Setting],
    openapi_path: Path,
    routes: Callable[[Service], Blueprint],
    environ: Mapping[str, str] | None = None,
) -> Flask:
    settings = load_settings(name, (*COMMON_SETTINGS, *extra_settings), environ)
    logs.configure(name, settings.log_level)
    metrics = Metrics(name)
    db = Database(settings, metrics, consistency.wrote_recently, consistency.mark_wrote)
    cache = Cache(
        settings.redis_url,
        name,
        metrics,
        settings.cache_ttl_s,
        settings.redis_timeout_s,
        settings.redis_retry_after_s,
        local_ttl_s=settings.local_cache_ttl_s,
        bypass_local=consistency.wrote_recently,
        iam_group=settings.redis_iam_group,
    )
    doc = yaml.safe_load(openapi_path.read_text())
    service = Service(name, settings, metrics, db, cache, doc, SchemaValidators(doc), logs.AccessLog(name))

    app = Flask(f"peakshop.{name}")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["peakshop"] = service
    problems.register(app)
    _register_observability(app, service)
    _register_platform_routes(app, service)
    app.register_blueprint(routes(service), url_prefix=f"/api/{name}")
    return app


def _new_request_id() -> str:
    """uuid4().hex (32 hex digits, version 4) without building a UUID object: this runs on most requests."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    return raw.hex()


def _register_observability(app: Flask, service: Service) -> None:
    api_path = f"/api/{service.name}"
    window = service.settings.read_your_writes_s
    requests_total, latency = service.metrics.requests, service.metrics.latency
    children: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # labels() is a locked lookup; cache the children
    access = service.access_log

    @app.before_request
    def _start() -> None:
        ctx_g = g._get_current_object()  # type: ignore[attr-defined]  # one proxy lookup, not one per access
        ctx_g.started = time.perf_counter()
        incoming = request.environ.get("HTTP_X_REQUEST_ID", "")
        ctx_g.request_id = incoming if incoming and _REQUEST_ID.fullmatch(incoming) else _new_request_id()

    @app.after_request
    def _finish(response: Response) -> Response:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        ctx_g = g._get_current_object()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - ctx_g.get("started", time.perf_counter())
        rule = req.url_rule
        route = rule.rule if rule is not None else "unmatched"
        method, status = req.method, response.status_code
        key = (route, method, status)
        pair = children.get(key)
        if pair is None:
            pair = children[key] = (
                requests_total.labels(service.name, route, method, str(status)),
                latency.labels(service.name, route, method),
            )
        pair[0].inc()
        pair[1].observe(elapsed)
        request_id = ctx_g.get("request_id", "")
        response.headers["X-Request-ID"] = request_id
        consistency.remember_write(response, window, api_path)
        if (status >= 500 or req.path not in _QUIET_PATHS) and access.enabled:
            access.write(method, route, status, round(elapsed * 1000, 2), request_id)
        return response

    @app.errorhandler(DatabaseUnavailable)
    def _db_down(exc: DatabaseUnavailable) -> Response:
        logging.getLogger("peakshop.db").error("database unavailable", extra={"error": str(exc)})
        return problems.problem_response(
            503,
            "Service Unavailable",
            "the database is unavailable, retry shortly",
            "database-unavailable",
            headers={"Retry-After": "1"},
        )


def _register_platform_routes(app: Flask, service: Service) -> None:
    doc_json = service.openapi

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        status, body = health.readiness(service.db.ping(), service.cache.ping())
        return jsonify(body), status

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(service.metrics.exposition(), mimetype="text/plain; version=0.0.4")

    @app.get(f"/api/{service.name}/openapi.json")
    def openapi() -> Response:
        return jsonify(doc_json)

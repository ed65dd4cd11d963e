"""Test helpers shared by every service's tests: environments pointing at the real local dependencies, a
migrated throwaway database per test module, and a client that checks every response against the
service's OpenAPI document (and that every error is problem+json)."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder, TestResponse
from werkzeug.wrappers import Request

from apps.localdeps import LocalDeps
from apps.runtime.config import env_name, mysql_url
from apps.runtime.migrations import discover, migrate

APPS = Path(__file__).resolve().parent


def fresh_database(deps: LocalDeps, service: str) -> str:
    """Create and migrate `peakshop_<service>_<random>` on the writer; wait until the replica has it."""
    name = f"peakshop_{service}_{secrets.token_hex(4)}"
    url = mysql_url(deps.endpoints.mysql_url(name, admin=True))
    assert url is not None
    migrate(url, discover(APPS / service / "migrations"))
    deps.wait_replica_caught_up()
    return name


def catalog_env(deps: LocalDeps, admin_token: str, database: str | None = None) -> dict[str, str]:
    e = deps.endpoints
    bucket = e.buckets["media"]
    return service_env(
        deps,
        "catalog",
        database or fresh_database(deps, "catalog"),
        ADMIN_TOKEN=admin_token,
        MEDIA_BUCKET=bucket,
        CDN_BASE_URL=f"{e.aws_endpoint_url}/{bucket}",
        AWS_ENDPOINT_URL=e.aws_endpoint_url,
        AWS_REGION=e.aws_region,
        MEDIA_MAX_BYTES="100000",
    )


class ThreadedServer:
    """Serve a Flask app over real HTTP on a free port (for service-to-service calls in tests)."""

    def __init__(self, app: Flask) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(5)


def service_env(deps: LocalDeps, service: str, database: str, **overrides: str) -> dict[str, str]:
    e = deps.endpoints
    values = {
        "DB_WRITER_URL": e.mysql_url(database),
        "DB_READER_URL": e.mysql_url(database, reader=True),
        "REDIS_URL": e.redis_url,
        "LOG_LEVEL": "WARNING",
        "READER_RETRY_AFTER_S": "0.5",
        "REDIS_RETRY_AFTER_S": "0.5",
        "REPLICA_LAG_CHECK_S": "0.1",
        "DB_CONNECT_TIMEOUT_S": "1",
        **overrides,
    }
    return {env_name(service, k): v for k, v in values.items()}


class ContractClient:
    """Flask test client whose every /api response must satisfy the OpenAPI document."""

    def __init__(self, app: Flask, service: str, default_headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.openapi = OpenAPI.from_dict(
            app.extensions["peakshop"].openapi,
            config=Config(extra_media_type_deserializers={"application/problem+json": json.loads}),
        )
        self.service = service
        self.default_headers = dict(default_headers or {})

    def request(self, method: str, path: str, **kw: Any) -> TestResponse:
        headers = {**self.default_headers, **kw.pop("headers", {})}
        resp = self.client.open(path, method=method, headers=headers, **kw)
        # the app consumed the body stream; openapi-core gets an identical, unread copy of the request
        replay = EnvironBuilder(path, method=method, headers=headers, **kw).get_request()
        self.check(resp, replay)
        return resp

    def check(self, resp: TestResponse, request: Request) -> None:
        if resp.status_code >= 400:
            assert resp.mimetype == "application/problem+json", (resp.status_code, resp.data[:300])
            body = resp.get_json()
            assert body["status"] == resp.status_code and body["title"] and body["type"], body
        if not request.path.startswith(f"/api/{self.service}/"):
            return
        try:
            self.openapi.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(resp))
        except (PathNotFound, OperationNotFound):
            assert resp.status_code in (404, 405), f"{request.path} answered {resp.status_code} but is undocumented"

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> TestResponse:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> TestResponse:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> TestResponse:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> TestResponse:
        return self.request("DELETE", path, **kw)


def metric(app: Flask, name: str, **labels: str) -> float:
    return float(app.extensions["peakshop"].metrics.value(name, **labels))

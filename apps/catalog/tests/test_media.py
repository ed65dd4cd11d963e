"""Media upload through a presigned S3 POST (moto server) and delivery by CDN-style URL."""

from __future__ import annotations

import io

import requests
from PIL import Image

from apps.localdeps import LocalDeps
from apps.testing import ContractClient


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_presigned_upload_complete_and_serve(admin: ContractClient, api: ContractClient, deps: LocalDeps):
    pid = admin.post(
        "/api/catalog/products", json={"sku": "MEDIA-1", "name": "Pictured", "price_cents": 1, "currency": "EUR"}
    ).get_json()["id"]
    created = admin.post(
        f"/api/catalog/products/{pid}/media", json={"filename": "front.png", "content_type": "image/png"}
    )
    assert created.status_code == 201
    media, upload = created.get_json()["media"], created.get_json()["upload"]
    assert media["status"] == "pending"

    early = admin.post(f"/api/catalog/products/{pid}/media/{media['id']}/complete")
    assert early.status_code == 409

    image = png_bytes()
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("front.png", image, "image/png")}, timeout=10
    )
    assert posted.status_code in (200, 201, 204), posted.text

    retry = admin.post(
        f"/api/catalog/products/{pid}/media", json={"filename": "front.png", "content_type": "image/png"}
    )
    assert retry.get_json()["media"]["id"] == media["id"]  # same object key: a retried request does not duplicate

    done = admin.post(f"/api/catalog/products/{pid}/media/{media['id']}/complete")
    assert done.status_code == 200 and done.get_json()["status"] == "ready"
    deps.wait_replica_caught_up()
    detail = api.get(f"/api/catalog/products/{pid}").get_json()
    assert [m["id"] for m in detail["media"]] == [media["id"]]
    served = requests.get(detail["media"][0]["url"], timeout=10)
    assert served.status_code == 200 and served.content == image


def test_media_for_unknown_product_or_bad_type_is_rejected(admin: ContractClient):
    assert (
        admin.post(
            "/api/catalog/products/999999/media", json={"filename": "a.png", "content_type": "image/png"}
        ).status_code
        == 404
    )
    pid = admin.post(
        "/api/catalog/products", json={"sku": "MEDIA-2", "name": "Pictured", "price_cents": 1, "currency": "EUR"}
    ).get_json()["id"]
    for body in (
        {"filename": "../../etc/passwd", "content_type": "image/png"},
        {"filename": "a.exe", "content_type": "image/png"},
        {"filename": "a.png", "content_type": "text/html"},
    ):
        assert admin.post(f"/api/catalog/products/{pid}/media", json=body).status_code == 422
    assert admin.post(f"/api/catalog/products/{pid}/media/424242/complete").status_code == 404

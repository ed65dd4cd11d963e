"""A deterministic demo catalog (categories, a few hundred products, one generated JPEG each) loaded through
the catalog's own admin API and presigned S3 uploads, exactly as a back office would. Re-running is cheap:
products are idempotent by SKU and the media keys are deterministic, and nothing is loaded when the catalog
and the bucket already hold everything."""

from __future__ import annotations

import hashlib
import io
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("outdoor", "Outdoor", ("Backpack", "Tent", "Headlamp", "Trail Shoes", "Water Bottle", "Rain Jacket")),
    ("kitchen", "Kitchen", ("Chef Knife", "Skillet", "Kettle", "Cutting Board", "Espresso Cups", "Mixing Bowls")),
    ("audio", "Audio", ("Headphones", "Speaker", "Earbuds", "Turntable", "Microphone", "Soundbar")),
    ("home", "Home", ("Throw Blanket", "Desk Lamp", "Planter", "Wall Clock", "Candle Set", "Cushion")),
    ("fitness", "Fitness", ("Yoga Mat", "Kettlebell", "Jump Rope", "Foam Roller", "Dumbbells", "Gym Bag")),
    ("office", "Office", ("Notebook", "Fountain Pen", "Monitor Stand", "Desk Organiser", "Keyboard", "Mouse")),
    ("kids", "Kids", ("Building Blocks", "Puzzle", "Plush Bear", "Paint Set", "Kite", "Story Book")),
    ("garden", "Garden", ("Watering Can", "Pruning Shears", "Seed Kit", "Garden Gloves", "Hose Reel", "Bird Feeder")),
)
ADJECTIVES = ("Classic", "Compact", "Everyday", "Pro", "Lightweight", "Deluxe", "Eco", "Urban", "Summit", "Nordic")
BRANDS = ("Peak", "Northwind", "Alder & Co", "Lumen", "Kestrel", "Harbor", "Solace", "Brightfield")
STOCK = 5000  # plenty for a load test's checkouts


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    brand: str
    category: str
    price_cents: int
    description: str

    def payload(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "brand": self.brand,
            "description": self.description,
            "category": self.category,
            "price_cents": self.price_cents,
            "currency": "EUR",
            "stock": STOCK,
        }

    @property
    def filename(self) -> str:
        return f"{self.sku.lower()}.jpg"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def products(count: int) -> list[DemoProduct]:
    found: list[DemoProduct] = []
    i = 0
    while len(found) < count:
        slug, cat_name, nouns = CATEGORIES[i % len(CATEGORIES)]
        k = i // len(CATEGORIES)
        noun = nouns[k % len(nouns)]
        adjective = ADJECTIVES[(k // len(nouns)) % len(ADJECTIVES)]
        series = k // (len(nouns) * len(ADJECTIVES))
        name = f"{adjective} {noun}" + (f" {series + 1}" if series else "")
        d = _digest(name + slug)
        brand = BRANDS[d[0] % len(BRANDS)]
        price = 499 + (int.from_bytes(d[1:4], "big") % 30000) // 100 * 100 - 1
        description = f"The {name.lower()} from {brand}: a dependable pick for {cat_name.lower()} lovers."
        found.append(DemoProduct(f"DEMO-{i + 1:04d}", name, brand, slug, price, description))
        i += 1
    return found


def image(product: DemoProduct, size: int = 480) -> bytes:
    """A deterministic JPEG: a two-colour gradient from the SKU's hash, a category shape and the initials."""
    d = _digest(product.sku)
    top, bottom = (d[0], d[1], d[2]), (d[3] // 2, d[4] // 2, d[5] // 2)
    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    for y in range(size):
        t = y / (size - 1)
        draw.line([(0, y), (size, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    shape = [slug for slug, _, _ in CATEGORIES].index(product.category) % 3
    box = (size * 0.22, size * 0.18, size * 0.78, size * 0.74)
    light = (255, 255, 255)
    if shape == 0:
        draw.ellipse(box, outline=light, width=10)
    elif shape == 1:
        draw.rounded_rectangle(box, radius=40, outline=light, width=10)
    else:
        draw.polygon([(size / 2, box[1]), (box[2], box[3]), (box[0], box[3])], outline=light, width=10)
    initials = "".join(word[0] for word in product.name.split()[:2]).upper()
    font = ImageFont.load_default(size=size // 6)
    draw.text((size / 2, size * 0.46), initials, fill=light, font=font, anchor="mm")
    draw.text(
        (size / 2, size * 0.88), product.sku, fill=light, font=ImageFont.load_default(size=size // 16), anchor="mm"
    )
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82, optimize=False)
    return out.getvalue()


class CatalogAdmin:
    def __init__(self, base_url: str, token: str) -> None:
        self.base = base_url
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}/api/catalog{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise RuntimeError(f"catalog {method} {path}: {exc.code} {detail}") from None


def _upload(upload: dict[str, Any], filename: str, payload: bytes) -> None:
    """multipart/form-data POST of a presigned upload (fields first, the file last, as S3 requires)."""
    boundary = "peakshop" + hashlib.sha256(payload).hexdigest()[:24]
    parts = []
    for key, value in upload["fields"].items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: image/jpeg\r\n\r\n".encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(upload["url"], data=b"".join(parts), method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"S3 upload of {filename}: HTTP {resp.status}")


def upload_media(admin: CatalogAdmin, product_id: int, product: DemoProduct) -> None:
    """Register the picture (idempotent per product and filename), upload it with the presigned POST, complete."""
    _status, created = admin.call(
        "POST", f"/products/{product_id}/media", {"filename": product.filename, "content_type": "image/jpeg"}
    )
    _upload(created["upload"], product.filename, image(product))
    admin.call("POST", f"/products/{product_id}/media/{created['media']['id']}/complete")


def existing_products(admin: CatalogAdmin) -> dict[str, int]:
    """SKU -> id of every product for sale."""
    found: dict[str, int] = {}
    page = 1
    while True:
        _status, listing = admin.call("GET", f"/products?page_size=100&page={page}&sort=name")
        found.update({p["sku"]: p["id"] for p in listing["items"]})
        if page * 100 >= listing["total"]:
            return found
        page += 1


def stored_keys(s3: Any, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="products/")
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def load_one(admin: CatalogAdmin, product: DemoProduct, known_id: int | None, keys: set[str]) -> None:
    """Create the product if it is new; (re)upload its picture if it has none or S3 lost it (moto keeps
    objects in memory only). An existing product is not re-created: orders have moved its stock since."""
    if known_id is None:
        _status, detail = admin.call("POST", "/products", product.payload())
    else:
        _status, detail = admin.call("GET", f"/products/{known_id}")
    ready = [m for m in detail["media"] if m["status"] == "ready"]
    if not ready or not any(m["url"].split("/media/", 1)[-1] in keys for m in ready):
        upload_media(admin, detail["id"], product)


def is_loaded(admin: CatalogAdmin, s3: Any, bucket: str, count: int) -> bool:
    _status, page = admin.call("GET", "/products?page_size=1")
    if page["total"] < count:
        return False
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="products/", MaxKeys=count)
    return int(listed.get("KeyCount", 0)) >= count


def ensure(base_url: str, token: str, s3: Any, bucket: str, count: int) -> int:
    """Load whatever is missing; returns how many products were checked, 0 if all was already there."""
    admin = CatalogAdmin(base_url, token)
    if is_loaded(admin, s3, bucket, count):
        return 0
    for slug, name, _ in CATEGORIES:
        admin.call("POST", "/categories", {"slug": slug, "name": name})
    known, keys = existing_products(admin), stored_keys(s3, bucket)
    items = products(count)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda p: load_one(admin, p, known.get(p.sku), keys), items))
    return len(items)

"""Catalog SQL. Reads go through the routed `Database.query`; writes are single transactions keyed by natural
keys (slug, SKU, object key) so a retried request converges instead of duplicating."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.runtime.db import Cursor, Database

SORTS = {
    "price": "p.price_cents ASC, p.id ASC",
    "-price": "p.price_cents DESC, p.id ASC",
    "name": "p.name ASC, p.id ASC",
    "-name": "p.name DESC, p.id ASC",
    "newest": "p.id DESC",
}
PRODUCT_COLUMNS = (
    "p.id, p.sku, p.name, p.brand, c.slug AS category, p.price_cents, p.currency, p.stock, p.active, "
    "p.description, p.updated_at"
)


@dataclass(frozen=True)
class ProductFilter:
    category: str | None = None
    q: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    currency: str | None = None
    in_stock: bool | None = None
    sort: str = "name"
    page: int = 1
    page_size: int = 20

    def cache_part(self) -> str:
        return "|".join(f"{k}={v}" for k, v in sorted(self.__dict__.items()))


def escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_categories(db: Database) -> list[dict[str, Any]]:
    return db.query("SELECT id, slug, name FROM categories ORDER BY name, id")


def category_by_slug(cur: Cursor, slug: str) -> dict[str, Any] | None:
    cur.execute("SELECT id, slug, name FROM categories WHERE slug = %s", (slug,))
    return cur.fetchone()


def upsert_category(db: Database, slug: str, name: str) -> tuple[dict[str, Any], bool]:
    """Returns (category, created). An existing slug with a different name is reported as a conflict by the
    caller comparing names."""

    def work(cur: Cursor) -> tuple[dict[str, Any], bool]:
        created = cur.execute("INSERT IGNORE INTO categories (slug, name) VALUES (%s, %s)", (slug, name)) == 1
        row = category_by_slug(cur, slug)
        assert row is not None
        return row, created

    return db.write(work)


def list_products(db: Database, f: ProductFilter) -> tuple[list[dict[str, Any]], int]:
    where, args = ["p.active = 1"], []
    if f.category is not None:
        where.append("c.slug = %s")
        args.append(f.category)
    if f.q:
        where.append("p.name LIKE %s")
        args.append(f"%{escape_like(f.q)}%")
    if f.min_price is not None:
        where.append("p.price_cents >= %s")
        args.append(f.min_price)
    if f.max_price is not None:
        where.append("p.price_cents <= %s")
        args.append(f.max_price)
    if f.currency is not None:
        where.append("p.currency = %s")
        args.append(f.currency)
    if f.in_stock is not None:
        where.append("p.stock > 0" if f.in_stock else "p.stock = 0")
    clause = " AND ".join(where)
    base = f"FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE {clause}"
    total = db.query(f"SELECT COUNT(*) AS n {base}", args)[0]["n"]
    rows = db.query(
        f"SELECT p.id, p.sku, p.name, p.brand, c.slug AS category, p.price_cents, p.currency, p.stock {base} "
        f"ORDER BY {SORTS[f.sort]} LIMIT %s OFFSET %s",
        [*args, f.page_size, (f.page - 1) * f.page_size],
    )
    return rows, int(total)


def get_product(db: Database, product_id: int, fresh: bool = False) -> dict[str, Any] | None:
    return db.query_one(
        f"SELECT {PRODUCT_COLUMNS} FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.id = %s",
        (product_id,),
        fresh=fresh,
    )


def product_media(db: Database, product_id: int, ready_only: bool = True, fresh: bool = False) -> list[dict[str, Any]]:
    status = "AND status = 'ready'" if ready_only else ""
    return db.query(
        f"SELECT id, object_key, content_type, status FROM product_media WHERE product_id = %s {status} ORDER BY id",
        (product_id,),
        fresh=fresh,
    )


class UnknownCategory(LookupError):
    pass


def create_product(db: Database, data: dict[str, Any]) -> tuple[int, bool]:
    """Insert by SKU; returns (product id, created). A retried identical request finds its own row."""

    def work(cur: Cursor) -> tuple[int, bool]:
        category_id = None
        if data.get("category"):
            cat = category_by_slug(cur, data["category"])
            if cat is None:
                raise UnknownCategory(data["category"])
            category_id = cat["id"]
        created = (
            cur.execute(
                "INSERT IGNORE INTO products (sku, name, brand, description, category_id, price_cents, currency, "
                "stock) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    data["sku"],
                    data["name"],
                    data.get("brand"),
                    data.get("description", ""),
                    category_id,
                    data["price_cents"],
                    data["currency"],
                    data.get("stock", 0),
                ),
            )
            == 1
        )
        cur.execute("SELECT id FROM products WHERE sku = %s", (data["sku"],))
        return int(cur.fetchone()["id"]), created

    return db.write(work)


def update_product(db: Database, product_id: int, changes: dict[str, Any]) -> bool:
    allowed = ("name", "brand", "description", "price_cents", "stock", "active")
    cols = [k for k in allowed if k in changes]
    assignments = ", ".join(f"{c} = %s" for c in cols)
    args = [changes[c] for c in cols] + [product_id]

    def work(cur: Cursor) -> bool:
        cur.execute("SELECT id FROM products WHERE id = %s FOR UPDATE", (product_id,))
        if cur.fetchone() is None:
            return False
        cur.execute(f"UPDATE products SET {assignments} WHERE id = %s", args)
        return True

    return db.write(work)


def upsert_media(db: Database, product_id: int, object_key: str, content_type: str) -> dict[str, Any]:
    def work(cur: Cursor) -> dict[str, Any]:
        cur.execute(
            "INSERT INTO product_media (product_id, object_key, content_type) VALUES (%s, %s, %s) "
            "ON DUPLICATE KEY UPDATE content_type = IF(status = 'pending', VALUES(content_type), content_type)",
            (product_id, object_key, content_type),
        )
        cur.execute(
            "SELECT id, object_key, content_type, status FROM product_media WHERE object_key = %s", (object_key,)
        )
        return dict(cur.fetchone())

    return db.write(work)


def mark_media_ready(db: Database, product_id: int, media_id: int) -> dict[str, Any] | None:
    def work(cur: Cursor) -> dict[str, Any] | None:
        cur.execute(
            "UPDATE product_media SET status = 'ready' WHERE id = %s AND product_id = %s", (media_id, product_id)
        )
        cur.execute(
            "SELECT id, object_key, content_type, status FROM product_media WHERE id = %s AND product_id = %s",
            (media_id, product_id),
        )
        return cur.fetchone()

    return db.write(work)


def get_media(db: Database, product_id: int, media_id: int) -> dict[str, Any] | None:
    return db.query_one(
        "SELECT id, object_key, content_type, status FROM product_media WHERE id = %s AND product_id = %s",
        (media_id, product_id),
        fresh=True,
    )

-- Anonymous carts merged into an account's cart at sign-in (expand-only: a new table). The row makes a retried
-- merge return the same cart instead of 404 once the anonymous cart is gone; it goes with the account cart
-- (erasure, expiry) and is pruned by the expiry job after the cart TTL.
CREATE TABLE IF NOT EXISTS cart_merges (
  anonymous_id CHAR(32) NOT NULL PRIMARY KEY,
  account_cart_id CHAR(32) NOT NULL,
  merged_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY ix_cart_merges_merged (merged_at),
  CONSTRAINT fk_merges_cart FOREIGN KEY (account_cart_id) REFERENCES carts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Carts: the id is a 128-bit random token (the capability for anonymous carts); one cart per signed-in account.
CREATE TABLE IF NOT EXISTS carts (
  id CHAR(32) NOT NULL PRIMARY KEY,
  account_id BIGINT UNSIGNED NULL,
  currency CHAR(3) NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY uq_carts_account (account_id),
  KEY ix_carts_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Lines keep the price and name at the time they were added (the snapshot the shopper saw).
CREATE TABLE IF NOT EXISTS cart_items (
  cart_id CHAR(32) NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  unit_price_cents BIGINT UNSIGNED NOT NULL,
  currency CHAR(3) NOT NULL,
  name VARCHAR(200) NOT NULL,
  added_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (cart_id, product_id),
  CONSTRAINT fk_items_cart FOREIGN KEY (cart_id) REFERENCES carts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Orders schema. Checkout writes the order, its lines (at the cart's price snapshot), the idempotency record
-- and an outbox row in one writer transaction; the stock itself is the catalog's products.stock column.
CREATE TABLE IF NOT EXISTS orders (
  id CHAR(32) NOT NULL PRIMARY KEY,
  user_id VARCHAR(64) NULL,
  email VARCHAR(254) NOT NULL,
  status ENUM('pending', 'paid', 'fulfilled', 'cancelled') NOT NULL,
  reason VARCHAR(64) NOT NULL DEFAULT '',
  stock_held TINYINT(1) NOT NULL DEFAULT 1,
  cart_id VARCHAR(64) NOT NULL,
  currency CHAR(3) NOT NULL,
  total_cents BIGINT UNSIGNED NOT NULL,
  payment_token VARCHAR(128) NOT NULL,
  card_last4 CHAR(4) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  KEY ix_orders_user (user_id, created_at),
  CONSTRAINT ck_orders_stock_held CHECK (status <> 'cancelled' OR stock_held = 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_lines (
  order_id CHAR(32) NOT NULL,
  product_id BIGINT UNSIGNED NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  unit_price_cents BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (order_id, product_id),
  CONSTRAINT fk_lines_order FOREIGN KEY (order_id) REFERENCES orders (id),
  CONSTRAINT ck_lines_quantity CHECK (quantity > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Idempotency: one row per (client scope, Idempotency-Key); the request hash detects a reused key. Claimed
-- first in the checkout transaction (so no foreign key to orders), which serialises retries of one key.
CREATE TABLE IF NOT EXISTS checkouts (
  scope VARCHAR(80) NOT NULL,
  idem_key VARCHAR(64) NOT NULL,
  request_hash CHAR(64) NOT NULL,
  order_id CHAR(32) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (scope, idem_key),
  KEY ix_checkouts_order (order_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Transactional outbox: rows are published to SQS by the outbox relay in id order, then marked sent.
CREATE TABLE IF NOT EXISTS outbox (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  order_id CHAR(32) NOT NULL,
  topic VARCHAR(64) NOT NULL,
  payload TEXT NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  sent_at DATETIME(6) NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  KEY ix_outbox_unsent (sent_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The order state machine, enforced by the database whatever the code does.
CREATE TABLE IF NOT EXISTS order_transitions (
  from_status VARCHAR(16) NOT NULL,
  to_status VARCHAR(16) NOT NULL,
  PRIMARY KEY (from_status, to_status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO order_transitions (from_status, to_status) VALUES
  ('pending', 'paid'), ('pending', 'cancelled'), ('paid', 'fulfilled');

CREATE TRIGGER orders_insert_guard BEFORE INSERT ON orders FOR EACH ROW IF NEW.status NOT IN ('pending', 'cancelled') THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'orders start pending or cancelled'; END IF;

CREATE TRIGGER orders_transition_guard BEFORE UPDATE ON orders FOR EACH ROW IF NEW.status <> OLD.status AND NOT EXISTS (SELECT 1 FROM order_transitions t WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'illegal order status transition'; END IF;

-- Notifications already sent (dedupe for at-least-once delivery).
CREATE TABLE IF NOT EXISTS notifications_sent (
  dedupe_key VARCHAR(128) NOT NULL PRIMARY KEY,
  sent_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

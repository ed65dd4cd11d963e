-- Payments ledger: one row per order (the idempotency key towards the provider). Only provider tokens,
-- references and the last 4 digits are stored, never card numbers (PCI DSS scope reduction).
CREATE TABLE IF NOT EXISTS payments (
  order_id CHAR(32) NOT NULL PRIMARY KEY,
  amount_cents BIGINT UNSIGNED NOT NULL,
  currency CHAR(3) NOT NULL,
  card_last4 CHAR(4) NOT NULL,
  status ENUM('authorizing', 'authorized', 'declined', 'captured', 'voided') NOT NULL DEFAULT 'authorizing',
  provider_reference VARCHAR(64) NOT NULL DEFAULT '',
  decline_code VARCHAR(64) NOT NULL DEFAULT '',
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  CONSTRAINT ck_payments_last4 CHECK (card_last4 REGEXP '^[0-9]{4}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Personal data is stored only encrypted (AES-GCM, key from config); email lookups use an HMAC blind index.
CREATE TABLE IF NOT EXISTS accounts (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  email_index BINARY(32) NULL,
  email_enc VARBINARY(1024) NULL,
  name_enc VARBINARY(1024) NULL,
  password_hash VARCHAR(255) NULL,
  status ENUM('active', 'erased') NOT NULL DEFAULT 'active',
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  erased_at DATETIME(6) NULL,
  UNIQUE KEY uq_accounts_email_index (email_index)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS addresses (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  content_index BINARY(32) NOT NULL,
  data_enc VARBINARY(4096) NOT NULL,
  country CHAR(2) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  UNIQUE KEY uq_addresses_content (account_id, content_index),
  CONSTRAINT fk_addresses_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Append-only consent history (no personal data beyond the pseudonymous account id).
CREATE TABLE IF NOT EXISTS consents (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  purpose VARCHAR(40) NOT NULL,
  granted TINYINT(1) NOT NULL,
  policy_version VARCHAR(20) NOT NULL,
  recorded_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY ix_consents_account (account_id, purpose, id),
  CONSTRAINT fk_consents_account FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Outbox for erasure requests: written in the erasing transaction, sent to SQS after commit.
CREATE TABLE IF NOT EXISTS erasure_requests (
  id CHAR(32) NOT NULL PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  requested_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  sent_at DATETIME(6) NULL,
  UNIQUE KEY uq_erasure_account (account_id),
  KEY ix_erasure_unsent (sent_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

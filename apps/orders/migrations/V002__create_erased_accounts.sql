-- Subjects (session token `sub`) of erased accounts, written by the privacy worker with the erasure itself
-- (apps/runtime/erasure.py). Expand-only: a new table. It holds only the pseudonymous account id, so it is
-- kept: a session token of an erased account must never create data again, however long it was issued for.
CREATE TABLE IF NOT EXISTS erased_accounts (
  subject VARCHAR(64) NOT NULL PRIMARY KEY,
  erased_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

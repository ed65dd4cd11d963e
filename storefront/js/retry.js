// The retry decision and back-off of storefront/retry-policy.json, as pure functions (also run under Node by
// apps/platform/tests/test_retry_policy.py, which checks they decide exactly as the Python client does).

/** Whether attempt number `attempt` (1 = the first try) that ended in `status` (null: network error or
 * timeout) may be followed by another. Only idempotent methods, or requests carrying an Idempotency-Key,
 * are ever retried, and never more than policy.max_attempts times in all. */
export function shouldRetry(policy, method, headers, status, attempt) {
  if (attempt >= policy.max_attempts) return false;
  const keyed = Object.keys(headers || {}).some(
    (name) => name.toLowerCase() === policy.idempotency_key_header.toLowerCase(),
  );
  if (!policy.idempotent_methods.includes(method.toUpperCase()) && !keyed) return false;
  if (status === null) return policy.retry_network_errors;
  return policy.retry_statuses.includes(status);
}

const RETRY_AFTER = /^\s*\d+(\.\d+)?\s*$/; // delay-seconds; an HTTP date or garbage is ignored

/** Milliseconds to wait before the next attempt: the server's Retry-After (seconds, capped) when given,
 * else "full jitter" exponential back-off: uniform in [0, min(max_delay, base * 2^(attempt-1))). */
export function backoffMs(policy, attempt, retryAfter, random = Math.random) {
  const given = retryAfter === null || retryAfter === undefined ? "" : String(retryAfter);
  if (RETRY_AFTER.test(given)) return Math.floor(Math.min(Number(given) * 1000, policy.retry_after_max_ms));
  const ceiling = Math.min(policy.max_delay_ms, policy.base_delay_ms * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

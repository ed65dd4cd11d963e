// HTTP to the Peakshop API (same origin, behind the ALB). Applies the retry policy, turns problem+json
// errors into messages a shopper can read, and keeps the session token and cart id in localStorage.
import policy from "../retry-policy.json" with { type: "json" };
import { backoffMs, shouldRetry } from "./retry.js";

export class ApiError extends Error {
  constructor(message, status, type) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const FRIENDLY = {
  0: "We could not reach Peakshop. Check your connection and try again.",
  401: "Please sign in again.",
  404: "We could not find that.",
  429: "Peakshop is very busy right now. Please try again in a moment.",
  503: "Part of Peakshop is briefly unavailable. Please try again in a moment.",
};

async function problemMessage(response) {
  try {
    const body = await response.json();
    if (body && (body.detail || body.title)) return body.detail || body.title;
  } catch {
    /* not JSON: fall through to the generic message */
  }
  return FRIENDLY[response.status] || `Something went wrong (HTTP ${response.status}). Please try again.`;
}

export function session() {
  try {
    const saved = JSON.parse(localStorage.getItem("peakshop.session") || "null");
    if (saved && saved.expires_at * 1000 > Date.now()) return saved;
  } catch {
    /* corrupt entry: treated as signed out */
  }
  localStorage.removeItem("peakshop.session");
  return null;
}

export function saveSession(value) {
  if (value) localStorage.setItem("peakshop.session", JSON.stringify(value));
  else localStorage.removeItem("peakshop.session");
}

/** One API call: JSON in, JSON out; throws ApiError with a readable message. */
export async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const current = auth ? session() : null;
  if (current) sent.Authorization = `Bearer ${current.token}`;
  for (let attempt = 1; ; attempt += 1) {
    let response = null;
    try {
      response = await fetch(path, {
        method,
        headers: sent,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(policy.timeout_ms),
      });
    } catch {
      if (shouldRetry(policy, method, sent, null, attempt)) {
        await sleep(backoffMs(policy, attempt, null));
        continue;
      }
      throw new ApiError(FRIENDLY[0], 0, "network");
    }
    if (response.ok) {
      const text = await response.text();
      return { status: response.status, data: text ? JSON.parse(text) : null, headers: response.headers };
    }
    if (shouldRetry(policy, method, sent, response.status, attempt)) {
      await sleep(backoffMs(policy, attempt, response.headers.get("Retry-After")));
      continue;
    }
    let type = "about:blank";
    const message = await problemMessage(response.clone());
    try {
      type = (await response.json()).type || type;
    } catch {
      /* keep about:blank */
    }
    if (response.status === 401 && current) saveSession(null);
    throw new ApiError(message, response.status, type);
  }
}

export function money(cents, currency) {
  return new Intl.NumberFormat("en-IE", { style: "currency", currency: currency || "EUR" }).format(cents / 100);
}

export function newIdempotencyKey() {
  return `co-${crypto.randomUUID()}`;
}

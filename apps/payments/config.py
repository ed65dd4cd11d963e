"""Payment-provider settings, shared by the payments service and the orders worker (both call the provider)."""

from __future__ import annotations

from apps.runtime.config import Setting, choice, number, text

PROVIDER_SETTINGS: tuple[Setting, ...] = (
    Setting("PAYMENTS_PROVIDER", choice("fake"), "fake", "Payment provider adapter (a real one plugs in here)"),
    Setting("PAYMENTS_FAKE_LEDGER", text(1), "/tmp/peakshop-fake-provider.sqlite", "Fake provider's state file"),
    Setting("PAYMENTS_FAKE_LATENCY_S", number(0, 30), "0", "Fake provider's answer delay (after its side effect)"),
)

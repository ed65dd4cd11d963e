"""Payments: the provider adapter (card data never touches the platform) and the idempotent payment ledger."""

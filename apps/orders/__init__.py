"""Orders: checkout (stock reservation, order, outbox in one writer transaction) and the order state machine."""

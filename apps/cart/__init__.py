"""Cart service: anonymous and signed-in carts with price snapshots, durable in MySQL, cached in Redis."""

"""Celery workers on SQS (orders, notifications, media, privacy), the outbox relay and the DLQ redrive command."""

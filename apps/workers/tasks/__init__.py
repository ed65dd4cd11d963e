"""Task families; each module's `register(app, ctx)` defines its tasks on one Celery app."""

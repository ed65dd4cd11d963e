"""The whole shop on one machine: supervisord runs the real dependencies, >= 2 gunicorn instances per service,
the workers and haproxy as the ALB; `python -m apps.platform up|down|status` (or `make up|down|status`)."""

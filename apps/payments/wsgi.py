"""WSGI entry point: a configuration error exits with status 4 and a message naming each bad variable."""

from apps.runtime.entry import load

app = load("apps.payments.app")

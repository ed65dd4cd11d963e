"""The ceiling for the catalog benchmark: bare Flask, no middleware, served by the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> str:
    return "hello"

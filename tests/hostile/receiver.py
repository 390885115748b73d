"""The webhook receiver the memory tests run under uvicorn in a process of their own.

`CAUDAL_HOSTILE_DB` is its store (the test issues the callback URL against the same file and
secret); the installed plugins map the bodies.
"""

from __future__ import annotations

import os

from caudal.webhooks import App, Delivery, SQLiteStore

SECRET = "hostile-bodies-test-secret"
PUBLIC_URL = "http://127.0.0.1/hooks"


def handler(delivery: Delivery) -> None:
    """Nothing to do: the test measures the receiving, not the handling."""


def app(path: str) -> App:
    return App(secret=SECRET, public_url=PUBLIC_URL, handler=handler, store=SQLiteStore(path))


def make_app() -> object:
    """The ASGI app (`uvicorn --factory`), built in the receiver process only."""
    return app(os.environ["CAUDAL_HOSTILE_DB"]).asgi

"""Receiving asynchronous results: an ASGI app that delivers each callback exactly once.

from caudal import webhooks
hooks = webhooks.App(secret=SECRET, public_url="https://app.example/hooks", handler=on_result,
                     store=webhooks.SQLiteStore("hooks.sqlite3"))

Several receiver processes or machines share tickets through `webhooks.RedisStore(url)`.
"""

from ._app import App, Delivery
from ._redis import RedisStore
from ._store import PendingStore, SQLiteStore, Ticket, TicketState

__all__ = ["App", "Delivery", "PendingStore", "RedisStore", "SQLiteStore", "Ticket", "TicketState"]

"""The sandbox: every plugin's provider emulator served over real HTTP on 127.0.0.1.

Plugins contribute an `Emulator` (starlette routes plus the settings that point their
connectors at it) through the entry-point group `caudal.sandbox`. `serve()` runs them all with
uvicorn in a background thread on an ephemeral port, for tests and `make demo`;
`caudal sandbox serve --port N` runs the same app in the foreground.

    with caudal.sandbox.serve() as sandbox:
        conn = sandbox.connect("afc.cl")
        print(conn.balance(credential={"Username": "demo", "Password": "demo"}))
"""

from ._emulator import ChallengeCase, Emulator, ErrorCase
from ._server import Sandbox, app, load_emulators, serve
from ._tour import Tour, tour

__all__ = [
    "ChallengeCase",
    "Emulator",
    "ErrorCase",
    "Sandbox",
    "Tour",
    "app",
    "load_emulators",
    "serve",
    "tour",
]

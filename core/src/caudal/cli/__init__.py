"""The `caudal` command. Imported only when the command runs: `import caudal` stays light."""

from ._app import app, main

__all__ = ["app", "main"]

"""The runtime: the only part of caudal that does I/O. Sync and async run the same operations."""

from ._async import AsyncRunner
from ._retry import MAX_RETRY_AFTER, Attempts, parse_retry_after
from ._sync import SyncRunner

__all__ = ["MAX_RETRY_AFTER", "AsyncRunner", "Attempts", "SyncRunner", "parse_retry_after"]

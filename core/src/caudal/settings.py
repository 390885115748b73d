"""Settings every connector has: where the provider is, and how patient and careful to be."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ConnectorSettings", "shown_url"]


def shown_url(url: str) -> str:
    """`url` as it may be shown: no userinfo (`user:password@`), no query, no fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


class ConnectorSettings(BaseSettings):
    """Base of every connector's settings. Subclasses set `env_prefix` (`CAUDAL_<PROVIDER>_`).

    Times are in seconds. The read timeout is generous because scraping providers answer
    synchronous requests slowly; the deadline bounds the whole call, retries included.
    """

    model_config = SettingsConfigDict(env_prefix="CAUDAL_", extra="forbid", frozen=True)

    base_url: str
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(90.0, gt=0)
    deadline: float = Field(180.0, gt=0)
    max_attempts: int = Field(3, ge=1, le=10)
    backoff: float = Field(0.25, ge=0)
    max_backoff: float = Field(8.0, ge=0)
    max_response_bytes: int = Field(32 * 1024 * 1024, gt=0)
    max_connections: int = Field(64, ge=1)
    max_pages: int = Field(1000, ge=1)
    """Pages one call follows (a paged answer); more is an error, never a silent truncation."""

    @field_validator("base_url", check_fields=False)
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        # Checked here, so a typo is a ConfigurationError when the connector is built rather
        # than an HTTP library's exception at the first request. Subclasses' own `base_url`
        # fields keep this check (validators apply by field name).
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            raise ValueError(f"not a valid URL ({exc})") from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The base URL may carry credentials in its userinfo or query: shown without them.
        for name, value in super().__repr_args__():
            yield name, shown_url(value) if name == "base_url" and isinstance(value, str) else value

"""Settings every connector has: where the provider is, and how patient and careful to be."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ConnectorSettings"]


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

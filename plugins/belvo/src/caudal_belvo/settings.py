"""Settings of the `belvo.br` connector: which Belvo environment, and its API secret keys."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from caudal import ConnectorSettings

__all__ = ["PRODUCTION_URL", "SANDBOX_URL", "BelvoSettings"]

PRODUCTION_URL = "https://api.belvo.com"
"""Belvo production: real institutions, real data."""
SANDBOX_URL = "https://sandbox.belvo.com"
"""Belvo's own sandbox: Belvo's test institutions and sandbox secret keys."""

Secret = Annotated[SecretStr, Field(min_length=1)]


class BelvoSettings(ConnectorSettings):
    """`CAUDAL_BELVO_BASE_URL`, `CAUDAL_BELVO_SECRET_ID`, `CAUDAL_BELVO_SECRET_PASSWORD`, ...

    Both halves of the secret key are `SecretStr`: they reach the wire only inside the HTTP
    basic-auth header and never appear in a repr, a log line or an error message. The base URL
    is production unless set: Belvo's sandbox (`SANDBOX_URL`) or caudal's emulator
    (`caudal sandbox serve`) are explicit choices, so test keys never meet production by accident
    and production never meets a test server by accident.
    """

    model_config = SettingsConfigDict(env_prefix="CAUDAL_BELVO_", extra="forbid", frozen=True)

    base_url: str = PRODUCTION_URL
    secret_id: Secret
    secret_password: Secret

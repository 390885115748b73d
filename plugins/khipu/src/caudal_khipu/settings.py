"""Settings shared by every Khipu connector (environment variables `CAUDAL_KHIPU_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from caudal import ConfigurationError, ConnectorSettings

__all__ = ["AuthMode", "KhipuSettings"]

AuthMode = Literal["jwt", "client_credentials", "api_key"]

DEFAULT_TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a URL path, not a secret


class KhipuSettings(ConnectorSettings):
    """Where Khipu is and how to authenticate; one set for afc.cl and bancosecurity.cl.

    Authentication, in order of preference (Khipu accepts one scheme per request, and has
    announced that API keys will be retired, so bearer tokens come first):

    1. `jwt`: a bearer token you already hold (e.g. from Khipu's authorization-code flow);
    2. `client_id` + `client_secret`: OAuth2 client credentials, the token fetched from
       `oauth_url` and cached until shortly before it expires;
    3. `api_key`: sent as `x-api-key`; every call then needs the end user's `credential=`.

    Khipu's documentation does not give the token endpoint's URL: `oauth_url` defaults to
    `<base_url>/oauth2/token`; set `CAUDAL_KHIPU_OAUTH_URL` to the URL Khipu gives you.
    `oauth_scope` is sent with the token request when set.
    """

    model_config = SettingsConfigDict(env_prefix="CAUDAL_KHIPU_", extra="forbid", frozen=True)

    base_url: str = "https://api.khipu.com"
    api_key: SecretStr | None = None
    jwt: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    oauth_url: str | None = None
    """The OAuth2 token endpoint (client-credentials grant); default `<base_url>/oauth2/token`."""
    oauth_scope: str | None = None
    oauth_leeway: float = Field(30.0, ge=0)
    """Seconds before a fetched token's expiry at which a new one is fetched."""

    @model_validator(mode="after")
    def _client_credentials_come_in_pairs(self) -> KhipuSettings:
        if (self.client_id is None) != (self.client_secret is None):
            missing = "client_secret" if self.client_secret is None else "client_id"
            raise ValueError(f"client_id and client_secret go together; {missing} is missing")
        return self

    @property
    def resolved_oauth_url(self) -> str:
        """The OAuth2 token endpoint: `oauth_url`, or `<base_url>/oauth2/token`."""
        return self.oauth_url or self.base_url.rstrip("/") + DEFAULT_TOKEN_PATH

    def auth_mode(self, connector: str | None = None) -> AuthMode:
        """Which scheme the requests use; a ConfigurationError when none is configured."""
        if self.jwt is not None:
            return "jwt"
        if self.client_id is not None and self.client_secret is not None:
            return "client_credentials"
        if self.api_key is not None:
            return "api_key"
        raise ConfigurationError(
            "no Khipu authentication configured: set jwt, client_id + client_secret, or api_key "
            "(CAUDAL_KHIPU_JWT, CAUDAL_KHIPU_CLIENT_ID/_CLIENT_SECRET, CAUDAL_KHIPU_API_KEY)",
            connector=connector,
        )

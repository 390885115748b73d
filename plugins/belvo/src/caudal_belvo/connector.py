"""The `belvo.br` connector: current balances of a Brazilian Open Finance link through Belvo.

    conn = registry.get("belvo.br", secret_id=..., secret_password=...)
    try:
        result = conn.balance(link="c81a1dea-6dd6-4999-8b9f-541ee8197058")
    except ChallengeRequired as e:
        keep(e.challenge.model_dump_json())      # ask the end user for the token
        ...
        result = conn.resume(Challenge.model_validate_json(kept), token=token)

Sans-I/O like every connector: it describes the request and reads the reply; the core runtime
sends it, retries what Belvo says is transient (408, 500) and never what cannot change (400,
401, 403).
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from caudal import (
    Balance,
    Call,
    Challenge,
    ConfigurationError,
    Connector,
    Operation,
    Reply,
    Request,
    Result,
    RetryAdvice,
    TransportError,
    capability,
)

from .errors import error_for
from .mapping import BALANCE_PROVENANCE, read_balances
from .raw import BalancesRequest, RawResumeRequest
from .settings import BelvoSettings

__all__ = ["BALANCES_PATH", "BalanceParams", "BelvoBrConnector"]

BALANCES_PATH = "/api/br/balances/"


class BalanceParams(BaseModel):
    """Parameters of `conn.balance(...)`.

    `link`: the Belvo link id. `account_id`: only that account (Belvo recommends it).
    `save_data`: whether Belvo persists the balances (Belvo's default, true, answers 201;
    false answers 200 and keeps nothing); left out, Belvo's default applies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: str = Field(min_length=1)
    account_id: str | None = Field(default=None, min_length=1)
    save_data: bool | None = None


def balances_request(call: Call[BalanceParams]) -> Request:
    """`POST /api/br/balances/` with only the parameters the caller gave."""
    assert call.params is not None  # the runtime always validates parameters first
    body = BalancesRequest.model_validate(call.params.model_dump(exclude_none=True))
    return Request("POST", BALANCES_PATH, json=body.model_dump(exclude_none=True))


def read_reply(reply: Reply, call: Call[Any]) -> Result[Balance]:
    """200 and 201 carry the balances; an error status is Belvo's (or a proxy's) error."""
    if reply.status in (200, 201):
        return read_balances(reply, call)
    if reply.status < 400:
        # Undocumented (a 204, a redirect we do not follow): reading it as balances could
        # report an empty account list that is not one.
        raise TransportError(
            f"HTTP {reply.status} is not an answer Belvo documents (200 or 201 carry balances)",
            connector=call.connector,
            capability=call.capability,
            status=reply.status,
            retry=RetryAdvice.NEVER,
        )
    raise error_for(reply, call)


class BelvoBrConnector(Connector):
    """Belvo Brazil (Open Finance Brasil): current balances of every account of a link."""

    name = "belvo.br"
    title = "Belvo Brazil"
    settings_class = BelvoSettings
    settings: BelvoSettings
    provenance = (BALANCE_PROVENANCE,)

    @capability("balance")
    def _balance(self) -> Operation[BalanceParams]:
        return Operation(BalanceParams, request=balances_request, read=read_reply)

    def http_auth(self) -> httpx.Auth:
        """HTTP basic auth with the Belvo secret key id and password."""
        return httpx.BasicAuth(
            self.settings.secret_id.get_secret_value(),
            self.settings.secret_password.get_secret_value(),
        )

    def resume_request(self, challenge: Challenge, token: str) -> Request:
        """`PATCH /api/br/balances/ {session, token, link}`: Belvo continues the original request.

        The session remembers what was asked (account, save_data), so only these three travel.
        """
        link = challenge.link or challenge.params.get("link")
        if not isinstance(link, str) or not link:
            raise ConfigurationError(
                "challenge has no link to resume",
                connector=self.name,
                capability=challenge.capability,
            )
        body = RawResumeRequest(session=challenge.session, token=token, link=link)
        return Request("PATCH", BALANCES_PATH, json=body.model_dump())

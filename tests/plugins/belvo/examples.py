"""Belvo's documented examples and helpers shared by the belvo.br tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from caudal import Balance, BalanceKind, Call, Money
from caudal.sandbox import Sandbox
from caudal_belvo.connector import BalanceParams

DOC_LINK = "c81a1dea-6dd6-4999-8b9f-541ee8197058"
DOC_ACCOUNT = "e2cdb621-f44a-4558-89f6-8ab2a57add7a"

DOC_BALANCE = """{
  "id": "0b94bdf9-3719-43a9-81e7-be95d2318595",
  "link": "0b94bdf9-3719-43a9-81e7-be95d2318595",
  "account_id": "c4bfecf9-4eb6-4920-9f9f-e1f1e60ef321",
  "account_internal_identification": "92792126019929279212650822221989319252576",
  "collected_at": "2024-05-21T08:32:00Z",
  "created_at": "2024-05-21T08:32:00Z",
  "last_updated_at": "2021-05-21T08:30:00Z",
  "currency": "USD",
  "available": 1000.02,
  "blocked": 1000.02,
  "automatically_invested": 1000.02
}"""
"""The 200/201 balance object exactly as Belvo's documentation shows it."""

DOC_BODY = f"[{DOC_BALANCE}]"

DOC_REFERENCES = {
    "id": "0b94bdf9-3719-43a9-81e7-be95d2318595",
    "link": "0b94bdf9-3719-43a9-81e7-be95d2318595",
    "account_internal_identification": "92792126019929279212650822221989319252576",
    "collected_at": "2024-05-21T08:32:00+00:00",
    "created_at": "2024-05-21T08:32:00+00:00",
}

DOC_RECORDS = [
    Balance(
        account_id="c4bfecf9-4eb6-4920-9f9f-e1f1e60ef321",
        kind=kind,
        provider_kind=word,
        amount=Money(amount=Decimal("1000.02"), currency="USD"),
        as_of=datetime(2021, 5, 21, 8, 30, tzinfo=UTC),
        references=DOC_REFERENCES,
    )
    for kind, word in (
        (BalanceKind.AVAILABLE, "available"),
        (BalanceKind.BLOCKED, "blocked"),
        (BalanceKind.INVESTED, "automatically_invested"),
    )
]
"""The three records the documented balance object gives, written by hand."""

DOC_ERRORS: dict[int, str] = {
    403: '[{"code": "access_to_resource_denied", "message": "You don\'t have access to this '
    'resource.", "request_id": "9e7b283c6efa449c9c028a16b5c249fb"}]',
    408: '[{"code": "request_timeout", "message": "The request timed out, you can retry asking '
    'for less data by changing your query parameters", "request_id": '
    '"9e7b283c6efa449c9c028a16b5c249fb"}]',
    500: '[{"code": "unexpected_error", "message": "Belvo is unable to process the request due '
    'to an internal system issue or to an unsupported response from an institution", '
    '"request_id": "9e7b283c6efa449c9c028a16b5c249fb"}]',
}
"""Belvo's documented error examples (the 401 and 400 bodies follow the same shape)."""

DOC_TOKEN_REQUIRED = """[{
  "code": "token_required",
  "message": "A MFA token is required by the institution to login",
  "request_id": "9e7b283c6efa449c9c028a16b5c249fb",
  "session": "2675b703b9d4451f8d4861a3eee54449",
  "expiry": 9600,
  "link": "30cb4806-6e00-48a4-91c9-ca55968576c8",
  "token_generation_data": {
    "instructions": "Use this code to generate the token",
    "type": "numeric",
    "value": "12345",
    "expects_user_input": true
  }
}]"""

CREDENTIALS: dict[str, Any] = {"secret_id": "unit-id", "secret_password": "unit-password-Zq9"}
"""Settings for connectors that never talk to a server (parse, unit tests)."""


def call(**params: Any) -> Call[BalanceParams]:
    """The Call the runtime would hand the connector for `conn.balance(**params)`."""
    return Call("belvo.br", "balance", BalanceParams.model_validate(params or {"link": DOC_LINK}))


def unique(case: str) -> str:
    """A link id for `case` that no other test uses, so its request counts are its own."""
    return f"{case}-{uuid.uuid4().hex[:12]}"


def requests_seen(sandbox: Sandbox, link: str) -> dict[str, int]:
    """How many POST and PATCH requests the emulator received for `link`."""
    url = sandbox.base_url("belvo.br") + "/_emulator/requests"
    counts: dict[str, dict[str, int]] = httpx.get(url).json()
    return counts.get(link, {})

"""The Belvo emulator itself: statuses, auth, filters, and seeded data that looks like Belvo's."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

import caudal.sandbox
from caudal import Challenge, ChallengeRequired
from caudal.mapping import load_json
from caudal.sandbox import Sandbox
from caudal_belvo.emulator import (
    CASES,
    MFA_LINK,
    MFA_TOKEN,
    emulator,
    json_text,
    seal,
    seeded_accounts,
    unseal,
)
from caudal_belvo.raw import BalancesRequest

from .examples import unique

PATH = "/api/br/balances/"


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    settings = sandbox.settings("belvo.br")
    auth = (settings["secret_id"], settings["secret_password"])
    with httpx.Client(base_url=settings["base_url"], auth=auth) as client:
        yield client


def test_save_data_decides_201_or_200(http: httpx.Client) -> None:
    link = unique("status")
    assert http.post(PATH, json={"link": link}).status_code == 201
    assert http.post(PATH, json={"link": link, "save_data": True}).status_code == 201
    assert http.post(PATH, json={"link": link, "save_data": False}).status_code == 200


def test_amounts_are_json_numbers_not_strings(http: httpx.Client) -> None:
    body = load_json(http.post(PATH, json={"link": unique("numbers")}).content)
    for account in body:
        for key in ("available", "blocked", "automatically_invested"):
            assert isinstance(account[key], Decimal)
            assert account[key].as_tuple().exponent == -2


def test_basic_auth_is_checked(sandbox: Sandbox) -> None:
    url = sandbox.base_url("belvo.br") + PATH
    answer = httpx.post(url, json={"link": unique("noauth")}, auth=("x", "y"))
    assert answer.status_code == 401
    assert answer.json()[0]["code"] == "authentication_failed"
    assert httpx.post(url, json={"link": "a"}).status_code == 401


def test_bad_request_body_is_a_400(http: httpx.Client) -> None:
    assert http.post(PATH, json={"account_id": "x"}).status_code == 400
    assert http.post(PATH, content=b"{not json").status_code == 400


def test_response_filters(http: httpx.Client) -> None:
    link = unique("filters")
    only = http.post(PATH, params={"fields": "id,available"}, json={"link": link}).json()
    assert all(set(a) == {"id", "available"} for a in only)
    omitted = http.post(PATH, params={"omit": "blocked"}, json={"link": link}).json()
    assert all("blocked" not in a and "available" in a for a in omitted)


def test_patch_with_unknown_session_is_session_expired(http: httpx.Client) -> None:
    answer = http.patch(PATH, json={"session": "nope", "token": MFA_TOKEN, "link": MFA_LINK})
    assert (answer.status_code, answer.json()[0]["code"]) == (400, "session_expired")


def test_session_of_another_link_is_refused(http: httpx.Client) -> None:
    session = http.post(PATH, json={"link": MFA_LINK}).json()[0]["session"]
    answer = http.patch(PATH, json={"session": session, "token": MFA_TOKEN, "link": "other"})
    assert (answer.status_code, answer.json()[0]["code"]) == (400, "session_expired")


def test_seeding_is_deterministic_and_varied() -> None:
    links = [f"link-{n}" for n in range(300)]
    accounts = [a for link in links for a in seeded_accounts(link)]
    assert seeded_accounts("link-7") == seeded_accounts("link-7")
    currencies = [a.currency for a in accounts]
    assert currencies.count("BRL") > 0.7 * len(accounts)
    assert any(a.available < 0 for a in accounts)
    amounts = [d for a in accounts for d in (a.available, a.blocked, a.automatically_invested)]
    assert all(d.as_tuple().exponent == -2 for d in amounts)
    assert any(str(d).endswith(".00") for d in amounts)
    assert any(d % 1 != 0 for d in amounts)
    offsets = {a.last_updated_at.utcoffset() for a in accounts}
    assert len(offsets) == 2


def test_json_text_writes_decimals_digit_for_digit() -> None:
    text = json_text([{"a": Decimal("1.10"), "b": Decimal("-0.00"), "c": "x"}])
    assert text == '[{"a":1.10,"b":-0.00,"c":"x"}]'


def test_emulator_documents_its_cases() -> None:
    built = emulator()
    assert built.cases is CASES
    assert MFA_TOKEN in CASES["428 token_required"]
    for word in ("error-", "html-", "flaky-", "slow-", "expired-mfa", "empty"):
        assert any(word in text for text in CASES.values()), word


@pytest.mark.parametrize("save_data", [None, True, False])
@pytest.mark.parametrize("account", [None, 0, -1, "not-an-account"])
def test_sealed_session_carries_the_original_request(
    save_data: bool | None, account: int | str | None
) -> None:
    link = "seal-link"
    ids = [a.account_id for a in seeded_accounts(link)]
    account_id = ids[account] if isinstance(account, int) else account
    asked = BalancesRequest(link=link, account_id=account_id, save_data=save_data)
    session = seal(asked, 60)
    assert len(session) == 32 and int(session, 16) >= 0
    opened = unseal(session, link)
    assert opened is not None
    assert opened.save_data == save_data
    if account_id in ids or account_id is None:
        assert opened.account_id == account_id
    else:
        assert opened.account_id not in ids


def test_sealed_session_refuses_forgery_other_links_and_expiry() -> None:
    asked = BalancesRequest(link="seal-link")
    session = seal(asked, 60)
    assert unseal(session, "other-link") is None
    assert unseal(session[:-2] + ("00" if session[-2:] != "00" else "11"), "seal-link") is None
    assert unseal("zz" * 16, "seal-link") is None
    assert unseal(seal(asked, 0), "seal-link") is None


def test_a_challenge_outlives_the_emulator_that_issued_it() -> None:
    # `caudal fetch --sandbox` and `caudal resume --sandbox` run in two processes.
    with caudal.sandbox.serve([emulator()]) as first, first.connect("belvo.br") as conn:
        with pytest.raises(ChallengeRequired) as caught:
            conn.balance(link=MFA_LINK, save_data=False)
        kept = caught.value.challenge.model_dump_json()
    with caudal.sandbox.serve([emulator()]) as second, second.connect("belvo.br") as conn:
        result = conn.resume(Challenge.model_validate_json(kept), token=MFA_TOKEN)
    assert len(result) == 3 * len(seeded_accounts(MFA_LINK))


def test_every_documented_code_is_a_conformance_case() -> None:
    built = emulator()
    codes = {case.code for case in built.errors}
    assert codes >= {
        "invalid_link",
        "authentication_failed",
        "access_to_resource_denied",
        "request_timeout",
        "unexpected_error",
    }
    assert any(case.code is None and case.params["link"] == "html-502" for case in built.errors)
    assert sorted(c.capability for c in built.challenges) == ["accounts", "balance", "transactions"]
    for challenge in built.challenges:
        assert (challenge.params["link"], challenge.token) == (MFA_LINK, MFA_TOKEN)

"""The raw models: exact numbers, dates and offsets, forward compatibility, refusals with paths."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr, TypeAdapter, ValidationError

from caudal import Call, Connector, MappingError
from caudal.mapping import validate
from caudal_khipu import raw

from . import examples

CALL: Call[Any] = Call("bancosecurity.cl", "balance")
BANK = TypeAdapter(raw.Envelope[raw.BankBalancesData])
HEAD = TypeAdapter(raw.Head)


def _bank(**entry: str) -> str:
    body = examples.BANK_BALANCES
    for key, value in entry.items():
        old = {
            "DateTime": '"2017-07-21T17:32:28-0400"',
            "Amount": '"Amount": 10000',
            "Currency": '"CLP"',
        }[key]
        body = body.replace(old, value)
    return body


def test_json_numbers_are_read_from_their_text() -> None:
    body = _bank(Amount='"Amount": 10000.10')
    (entry,) = validate(BANK, body, CALL).Data.Balance  # type: ignore[union-attr]
    assert str(entry.Amount.Amount) == "10000.10"


@pytest.mark.parametrize(
    ("written", "offset"),
    [
        ("2017-07-21T17:32:28-0400", timedelta(hours=-4)),
        ("2017-07-21T17:32:28-04:00", timedelta(hours=-4)),
        ("2017-07-21T17:32:28-0300", timedelta(hours=-3)),
        ("2017-07-21T17:32:28Z", timedelta(0)),
        ("2017-07-21T17:32:28.250+0000", timedelta(0)),
    ],
)
def test_date_times_keep_their_offset(written: str, offset: timedelta) -> None:
    (entry,) = validate(BANK, _bank(DateTime=f'"{written}"'), CALL).Data.Balance  # type: ignore[union-attr]
    assert isinstance(entry.DateTime, datetime)
    assert entry.DateTime.utcoffset() == offset


def test_a_bare_date_stays_a_date() -> None:
    (entry,) = validate(BANK, _bank(DateTime='"2017-07-21"'), CALL).Data.Balance  # type: ignore[union-attr]
    assert entry.DateTime == date(2017, 7, 21)
    assert not isinstance(entry.DateTime, datetime)


@pytest.mark.parametrize("written", ['"2017-07-21T17:32:28"', '"21/07/2017"', "1500000000", "{}"])
def test_a_time_without_offset_or_format_is_refused_at_its_path(written: str) -> None:
    with pytest.raises(MappingError) as caught:
        validate(BANK, _bank(DateTime=written), CALL)
    assert caught.value.path == "$.Data.Balance[0].DateTime"


@pytest.mark.parametrize("written", ['"2017-07-22T00:00:00"', '"22-07-2017"', "20170722"])
def test_dates_must_be_written_yyyy_mm_dd(written: str) -> None:
    body = examples.AFC_BALANCE.replace('"2017-07-22"', written)
    adapter = TypeAdapter(raw.Envelope[raw.AfcBalanceData])
    with pytest.raises(MappingError) as caught:
        validate(adapter, body, Call("afc.cl", "balance"))
    assert caught.value.path == "$.Data.ContributionsBalance.CreationDate"


def test_a_bad_currency_fails_with_its_exact_path() -> None:
    with pytest.raises(MappingError) as caught:
        validate(BANK, _bank(Currency='"PESOS"'), CALL)
    assert caught.value.path == "$.Data.Balance[0].Amount.Currency"
    assert "ISO 4217" in caught.value.reason


def test_a_negative_unsigned_amount_is_refused_not_sign_flipped() -> None:
    with pytest.raises(MappingError) as caught:
        validate(BANK, _bank(Amount='"Amount": -5'), CALL)
    assert caught.value.path == "$.Data.Balance[0].Amount.Amount"


def test_an_unknown_credit_debit_indicator_is_refused() -> None:
    body = examples.BANK_BALANCES.replace('"Credit"', '"Neutral"')
    with pytest.raises(MappingError) as caught:
        validate(BANK, body, CALL)
    assert caught.value.path == "$.Data.Balance[0].CreditDebitIndicator"


def test_floats_are_refused_by_the_raw_models() -> None:
    # Someone decoding with plain json.loads would hand floats over: refused, not rounded.
    with pytest.raises(ValidationError, match="float"):
        raw.CurrencyAndAmount.model_validate({"Amount": 0.1, "Currency": "CLP"})


def test_unknown_error_types_and_codes_are_carried() -> None:
    head = validate(HEAD, examples.error("Z999", "RETRY_ON_FULL_MOON"), CALL)
    assert head.Error is not None
    assert (head.Error.Code, head.Error.Type) == ("Z999", "RETRY_ON_FULL_MOON")


def test_unknown_status_is_refused() -> None:
    with pytest.raises(MappingError) as caught:
        validate(HEAD, examples.ok("null").replace('"OK"', '"PENDING"'), CALL)
    assert caught.value.path == "$.Status"


def test_an_ok_body_without_data_is_refused() -> None:
    body = examples.ok("null").replace('"Data": null, ', "")
    with pytest.raises(MappingError) as caught:
        validate(BANK, body, CALL)
    assert caught.value.path == "$.Data"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2017-07-22T00:00:00-0400", datetime(2017, 7, 22, 4, tzinfo=UTC)),
        ("2017-07-22T04:00:00", datetime(2017, 7, 22, 4, tzinfo=UTC)),  # docs: "zona horaria UTC"
    ],
)
def test_life_span(written: str, expected: datetime) -> None:
    head = validate(HEAD, examples.ACCEPTED.replace("2017-07-22T00:00:00-0400", written), CALL)
    assert head.LifeSpan == expected
    assert head.LifeSpan is not None and head.LifeSpan.tzinfo is not None


def test_request_secrets_are_masked_unless_revealed_on_purpose() -> None:
    data = raw.CredentialRequestData.model_validate(
        {"AccountCredential": {"Username": "ana", "Password": "pw-1"}}
    )
    assert "pw-1" not in repr(data)
    assert "pw-1" not in data.model_dump_json()
    assert data.model_dump(mode="json", context=raw.REVEAL_SECRETS) == {
        "AccountCredential": {"Username": "ana", "Password": "pw-1"}
    }
    token = raw.CredentialRequestData(AccountCredential=SecretStr("link-token"))
    assert token.model_dump(mode="json", context=raw.REVEAL_SECRETS) == {
        "AccountCredential": "link-token"
    }


def test_request_models_read_what_connectors_write(security: Connector) -> None:
    _, _, request = security.prepare(
        "balance",
        {"account_number": "007", "currency": "USD", "credential": examples.login("ana")},
        callback_url="https://host.example/cb",
    )
    body = raw.RequestBody[raw.CurrentBalancesRequestData].model_validate(request.json)
    assert body.RequestData.AccountNumber == "007"
    assert body.RequestData.Currency == "USD"
    assert body.CallbackUrl == "https://host.example/cb"
    assert isinstance(body.RequestData.AccountCredential, raw.LoginCredential)
    assert body.RequestData.AccountCredential.Password.get_secret_value() == "s3cr3t-pw"


def test_offsets_chile_winter_and_summer() -> None:
    winter, summer = timezone(timedelta(hours=-4)), timezone(timedelta(hours=-3))
    for tz, text in ((winter, "-0400"), (summer, "-0300")):
        (entry,) = validate(  # type: ignore[union-attr]
            BANK, _bank(DateTime=f'"2024-01-02T03:04:05{text}"'), CALL
        ).Data.Balance
        assert entry.DateTime == datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)


def test_cuotas_keep_trailing_zeros() -> None:
    body = examples.AFC_BALANCE.replace(
        '"TotalBalanceCuota": 223.45', '"TotalBalanceCuota": 223.4500'
    )
    data = validate(TypeAdapter(raw.Envelope[raw.AfcBalanceData]), body, Call("afc.cl", "balance"))
    assert data.Data is not None
    assert str(data.Data.ContributionsBalance.TotalBalanceCuota) == "223.4500"
    assert data.Data.ContributionsBalance.TotalBalanceCuota == Decimal("223.45")

"""The canonical model: exact money, normalized parties, lossless JSON round trips."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from stdnum.br import cnpj, cpf
from stdnum.cl import rut

from caudal import Balance, BalanceKind, Challenge, Money, Party, Result, TaxScheme
from caudal.mapping import load_json
from caudal.model import json_schema, minor_units, normalize_tax_id
from caudal.testing import strategies as cst

MANY = settings(max_examples=500)


@MANY
@given(st.data())
def test_any_json_number_text_round_trips_exactly(data: st.DataObject) -> None:
    currency = data.draw(cst.currencies())
    amount = data.draw(cst.amounts(currency, max_digits=28, extra_places=4))
    text = cst.json_text({"amount": amount, "currency": currency})
    money = Money.model_validate(load_json(text))
    assert money.amount.as_tuple() == amount.as_tuple()  # digits, exponent and sign
    again = Money.model_validate_json(money.model_dump_json())
    assert again == money and again.amount.as_tuple() == amount.as_tuple()


@given(
    # exponents of one digit: within caudal's bound (less than 10**32 in size)
    st.from_regex(r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,8})?([eE][+-]?[0-9])?", fullmatch=True)
)
def test_decimal_of_the_json_text_is_kept(text: str) -> None:
    money = Money.model_validate(load_json(f'{{"amount": {text}, "currency": "BRL"}}'))
    assert money.amount.as_tuple() == Decimal(text).as_tuple()


def test_money_refuses_floats() -> None:
    with pytest.raises(ValidationError, match="never a float"):
        Money(amount=0.1, currency="BRL")  # type: ignore[arg-type]


def test_money_refuses_non_finite_and_unknown_currencies() -> None:
    for amount, currency in [("NaN", "BRL"), ("Infinity", "CLP"), ("1", "XYZ"), ("1", "brl")]:
        with pytest.raises(ValidationError):
            Money(amount=Decimal(amount), currency=currency)


def test_money_keeps_more_decimals_than_the_currency_has() -> None:
    assert minor_units("CLP") == 0 and minor_units("CLF") == 4
    assert Money(amount=Decimal("10.5"), currency="CLP").amount == Decimal("10.5")


def test_money_dumps_amounts_as_strings() -> None:
    assert Money(amount=Decimal("1.10"), currency="BRL").model_dump(mode="json") == {
        "amount": "1.10",
        "currency": "BRL",
    }


@MANY
@given(cst.ruts())
def test_rut_normalization_is_idempotent_and_agrees_with_stdnum(raw: str) -> None:
    party = Party.rut(raw, "ACME SPA")
    assert Party.rut(party.tax_id).tax_id == party.tax_id
    assert party.tax_id_valid == rut.is_valid(raw)
    assert "." not in party.tax_id and party.tax_id[-2] == "-"
    assert Party.model_validate_json(party.model_dump_json()) == party


@MANY
@given(
    st.one_of(
        cst.cpfs().map(lambda n: (TaxScheme.BR_CPF, n)),
        cst.cnpjs().map(lambda n: (TaxScheme.BR_CNPJ, n)),
    )
)
def test_brazilian_ids_normalize_and_agree_with_stdnum(case: tuple[TaxScheme, str]) -> None:
    scheme, raw = case
    party = Party(scheme=scheme, tax_id=raw)
    module = cpf if scheme is TaxScheme.BR_CPF else cnpj
    assert party.tax_id_valid == module.is_valid(raw)
    assert normalize_tax_id(scheme, party.tax_id) == (party.tax_id, party.tax_id_valid)


@given(st.text(max_size=30))
def test_any_tax_id_text_is_kept_never_rejected(raw: str) -> None:
    party = Party.rut(raw)
    assert Party.rut(party.tax_id).tax_id == party.tax_id


@given(st.sampled_from(list(TaxScheme)), st.text(max_size=30))
@example(TaxScheme.CL_RUT, "\u03b0")  # upper-cases to three code points
def test_normalized_tax_id_is_a_fixed_point(scheme: TaxScheme, raw: str) -> None:
    """A Party dumped and read back keeps its id, whatever text the provider sent."""
    party = Party(scheme=scheme, tax_id=raw)
    assert normalize_tax_id(scheme, party.tax_id) == (party.tax_id, party.tax_id_valid)
    assert Party.model_validate_json(party.model_dump_json()) == party


def test_other_scripts_are_kept_as_sent() -> None:
    assert Party.rut(" ΰ ").tax_id == "ΰ"


def test_documentation_rut_with_wrong_check_digit_is_kept_and_flagged() -> None:
    party = Party.rut("11.222.333-4", "KHIPU SPA")
    assert (party.tax_id, party.tax_id_valid) == ("11222333-4", False)
    assert Party.rut("11.222.333-9").tax_id_valid


def test_tax_id_valid_is_derived_not_trusted() -> None:
    forged = Party.model_validate(
        {"scheme": "cl.rut", "tax_id": "11222333-4", "tax_id_valid": True}
    )
    assert not forged.tax_id_valid


def _balance(**changes: object) -> Balance:
    fields: dict[str, object] = {
        "account_id": "00123",
        "kind": BalanceKind.BOOKED,
        "provider_kind": "ClosingBooked",
        "amount": Money(amount=Decimal("-10000"), currency="CLP"),
        "as_of": datetime(2017, 7, 21, 17, 32, 28, tzinfo=UTC) - timedelta(hours=4),
    }
    return Balance.model_validate({**fields, **changes})


def test_balance_keeps_offsets_dates_and_leading_zeros() -> None:
    with_offset = _balance(as_of="2017-07-21T17:32:28-0400")
    assert with_offset.as_of.utcoffset() == timedelta(hours=-4)  # type: ignore[union-attr]
    assert "-04:00" in with_offset.model_dump_json()
    assert _balance(as_of="2017-07-22").as_of == date(2017, 7, 22)
    assert _balance().account_id == "00123"


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError):
        _balance(as_of="2017-07-21T17:32:28")


def test_unknown_provider_kind_stays_visible() -> None:
    other = _balance(kind="other", provider_kind="InterimAvailable")
    assert other.kind is BalanceKind.OTHER and other.provider_kind == "InterimAvailable"


def test_result_round_trips_through_json() -> None:
    result = Result[Balance](
        connector="x.cl",
        capability="balance",
        items=(_balance(), _balance(as_of="2020-01-01")),
        notes=("partial",),
    )
    assert Result[Balance].model_validate_json(result.model_dump_json()) == result
    assert list(result) == list(result.items) and len(result) == 2


def test_challenge_survives_json_and_knows_when_it_expires() -> None:
    challenge = Challenge(
        connector="belvo.br",
        capability="balance",
        params={"link": "abc"},
        session="2675b703b9d4451f8d4861a3eee54449",
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
        method="numeric",
        value="12345",
    )
    again = Challenge.model_validate_json(challenge.model_dump_json())
    assert again == challenge and not again.expired()
    assert again.expired(datetime.now(UTC) + timedelta(minutes=6))


def test_json_schema_exports_every_canonical_type() -> None:
    defs = json_schema()["$defs"]
    assert isinstance(defs, dict)
    for name in ("Balance", "Contribution", "Loan", "Money", "Party", "Pending", "Challenge"):
        assert name in defs
    TypeAdapter(dict).validate_python(defs)

"""Golden examples: Belvo's documented accounts and transactions, every canonical field written
out by hand from the provider documentation (never computed by the mapping under test)."""

from __future__ import annotations

from typing import Any

import pytest

from caudal import Connector, MappingError

from .ofda_examples import DOC_CARD_ACCOUNT, DOC_CHECKING_ACCOUNT, DOC_TRANSACTION

META = {
    "connector": "belvo.br",
    "operation_id": None,
    "notes": [],
    "raw": None,
}

CARD_ACCOUNT = {
    "account_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
    "institution": "erebor_mx_retail",
    "category": "credit_card",
    "provider_category": "CREDIT_CARD",
    "name": "Cartão Ouro",
    "number": "4453",
    "agency": None,
    "check_digit": None,
    "currency": "BRL",
    "holder": None,
    "balances": [
        {
            "account_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
            "kind": "booked",
            "provider_kind": "current",
            "amount": {"amount": "-1520.35", "currency": "BRL"},  # LIABILITY: owed
            "as_of": "2022-02-09T08:45:50.406032Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
        {
            "account_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
            "kind": "available",
            "provider_kind": "available",
            "amount": {"amount": "190480.55", "currency": "BRL"},  # credit still available
            "as_of": "2022-02-09T08:45:50.406032Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
        {
            "account_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
            "kind": "blocked",
            "provider_kind": "blocked",
            "amount": {"amount": "0.00", "currency": "BRL"},
            "as_of": "2022-02-09T08:45:50.406032Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
        {
            "account_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
            "kind": "invested",
            "provider_kind": "automatically_invested",
            "amount": {"amount": "0.00", "currency": "BRL"},
            "as_of": "2022-02-09T08:45:50.406032Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
    ],
    "overdraft": None,
    "credit_limit": {"amount": "192000.9", "currency": "BRL"},
    "references": {
        "link": "30cb4806-6e00-48a4-91c9-ca55968576c8",
        "internal_identification": "92792126019929279212650822221989319252576",
        "institution_type": "bank",
        "balance_type": "LIABILITY",
        "type": "STANDARD_NACIONAL",
        "subtype": "FINANCIAMENTO_HABITACIONAL_SFH",
        "public_identification_name": "CARD_NUMBER",
        "public_identification_value": "8763,9076,5522",
        "collected_at": "2022-02-09T08:45:50.406032+00:00",
        "created_at": "2022-02-09T08:45:50.406032+00:00",
        "last_accessed_at": "2022-02-09T08:45:50.406032+00:00",
        "card_network": "VISA",
        "bill_cutting_date": "2024-03-10",
        "minimum_payment": "152.04",
    },
}

CHECKING_ACCOUNT = {
    "account_id": "e2cdb621-f44a-4558-89f6-8ab2a57add7a",
    "institution": "ofmockbank_br_retail",
    "category": "checking",
    "provider_category": "CHECKING_ACCOUNT",
    "name": "Conta Corrente",
    "number": "0045722",
    "agency": "0444",
    "check_digit": "0",
    "currency": "BRL",
    "holder": None,
    "balances": [
        {
            "account_id": "e2cdb621-f44a-4558-89f6-8ab2a57add7a",
            "kind": "booked",
            "provider_kind": "current",
            "amount": {"amount": "2145.45", "currency": "BRL"},
            "as_of": "2024-02-20T12:29:03.374000Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
        {
            "account_id": "e2cdb621-f44a-4558-89f6-8ab2a57add7a",
            "kind": "available",
            "provider_kind": "available",
            "amount": {"amount": "2000.10", "currency": "BRL"},
            "as_of": "2024-02-20T12:29:03.374000Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
        {
            "account_id": "e2cdb621-f44a-4558-89f6-8ab2a57add7a",
            "kind": "blocked",
            "provider_kind": "blocked",
            "amount": {"amount": "145.35", "currency": "BRL"},
            "as_of": "2024-02-20T12:29:03.374000Z",
            "units": None,
            "breakdown": [],
            "references": {},
        },
    ],
    "overdraft": {
        "limit": {"amount": "1000.00", "currency": "BRL"},
        "used": {"amount": "0.00", "currency": "BRL"},
        "used_beyond_limit": {"amount": "0.00", "currency": "BRL"},
    },
    "credit_limit": None,
    "references": {
        "link": "30cb4806-6e00-48a4-91c9-ca55968576c8",
        "internal_identification": "92792126019929279212650822221989319252576",
        "institution_type": "bank",
        "balance_type": "ASSET",
        "type": "CONTA_DEPOSITO_A_VISTA",
        "subtype": "INDIVIDUAL",
        "public_identification_name": "AGENCY/ACCOUNT",
        "public_identification_value": "0444/45722-0",
        "collected_at": "2024-02-20T12:29:03.374000+00:00",
        "created_at": "2024-02-20T12:29:04.100000+00:00",
    },
}

TRANSACTION = {
    "transaction_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
    "account_id": "0d3ffb69-f83b-456e-ad8e-208d0998d71d",
    "amount": {"amount": "-2145.45", "currency": "BRL"},
    "direction": "outflow",
    "provider_direction": "OUTFLOW",
    "status": "booked",
    "provider_status": "PROCESSED",
    "value_date": "2019-10-23",
    "transacted_at": "2024-02-20T12:29:03.374000Z",
    "accounting_date": "2019-10-24",
    "description": "PGTO FATURA CARTAO",
    "local_amount": {"amount": "-2145.45", "currency": "BRL"},
    "counterparty": {
        "party": {
            "scheme": "br.cnpj",
            "tax_id": "11222333000181",
            "name": None,
            "tax_id_valid": True,
        },
        "provider_type": "COMPANY",
        "account": {
            "bank_code": "001",
            "agency": "0444",
            "number": "00045722",
            "check_digit": "0",
        },
    },
    "payment_type": "INSTALLMENT",
    "operation_type": "TRANSFERENCIA_MESMA_INSTITUICAO",
    "mcc": "5137",
    "category": "Income & Payments",
    "subcategory": "Freelance",
    "merchant": "Mercado Livre",
    "card": {
        "card_number": "4453",
        "bill_id": "7b6a8b4e-1d7a-4f3c-9b1a-2b3c4d5e6f70",
        "bill_name": "apr-2020",
        "bill_due_on": "2020-04-10",
        "bill_amount": {"amount": "300", "currency": "BRL"},
        "instalment": "PARCELA_896",
        "instalments_total": 3,
        "fee_type": None,
        "credit_type": None,
    },
    "references": {
        "internal_identification": "TXpRMU9UQTROMWhZVkZCVFZqQXdPRGs0",
        "collected_at": "2022-02-09T08:45:50.406032+00:00",
        "created_at": "2022-02-09T08:45:50.406032+00:00",
        "inferred_accounting_date": "2019-10-24",
        "bill_internal_identification": "BILL-2020-04",
    },
}


def _dumped(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = result.model_dump(mode="json")
    data.pop("fetched_at")
    return data


def test_documented_accounts_map_field_for_field(offline: Connector) -> None:
    result = offline.parse("accounts", f"[{DOC_CARD_ACCOUNT}, {DOC_CHECKING_ACCOUNT}]")
    assert _dumped(result) == {
        **META,
        "capability": "accounts",
        "items": [CARD_ACCOUNT, CHECKING_ACCOUNT],
        "references": {},
    }


def test_documented_transaction_maps_field_for_field(offline: Connector) -> None:
    result = offline.parse("transactions", f"[{DOC_TRANSACTION}]")
    assert _dumped(result) == {
        **META,
        "capability": "transactions",
        "items": [TRANSACTION],
        "references": {},
    }


def test_a_documented_page_keeps_its_count_and_next_link(offline: Connector) -> None:
    page = (
        '{"count": 2, "next": "https://sandbox.belvo.com/api/transactions/?link=link_id'
        f'&page_size=1000&page=2", "previous": null, "results": [{DOC_TRANSACTION}]}}'
    )
    result = offline.parse("transactions", page)
    assert _dumped(result)["items"] == [TRANSACTION]
    assert result.references == {
        "next": "https://sandbox.belvo.com/api/transactions/?link=link_id&page_size=1000&page=2",
        "count": "2",
    }


def _one(**changes: str) -> str:
    """The documented transaction with some of its own values replaced (JSON text)."""
    text = DOC_TRANSACTION
    for key, value in changes.items():
        start = text.rindex(f'\n  "{key}": ') + 3  # the transaction's, not its account's
        begin = start + len(f'"{key}": ')
        end = begin
        if text[begin] == "{":  # an object: to its matching brace
            depth = 0
            for end in range(begin, len(text)):
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                if depth == 0:
                    break
            end += 1
        else:
            end = min(text.index(",\n", begin), text.index("\n", begin))
        text = f"{text[:begin]}{value}{text[end:]}"
    return f"[{text}]"


@pytest.mark.parametrize(
    ("belvo_type", "direction", "amount"),
    [
        ('"INFLOW"', "inflow", "2145.45"),
        ("null", "unknown", "2145.45"),
        ('"SIDEWAYS"', "unknown", "2145.45"),
    ],
)
def test_direction_is_never_guessed(
    offline: Connector, belvo_type: str, direction: str, amount: str
) -> None:
    (record,) = offline.parse("transactions", _one(type=belvo_type))
    assert (record.direction.value, str(record.amount.amount)) == (direction, amount)
    assert record.provider_direction == (None if belvo_type == "null" else belvo_type.strip('"'))


@pytest.mark.parametrize(
    ("status", "canonical"),
    [('"PENDING"', "pending"), ('"UNCATEGORIZED"', "unknown"), ("null", "unknown")],
)
def test_status_keeps_the_providers_word(offline: Connector, status: str, canonical: str) -> None:
    (record,) = offline.parse("transactions", _one(status=status))
    assert record.status.value == canonical


def test_a_counterparty_with_a_bad_check_digit_is_kept_and_flagged(offline: Connector) -> None:
    body = _one(
        counterparty='{"type": null, "document_number": "11144477736", "clearing_code": null, '
        '"agency": null, "check_digit": null, "number": null}'
    )
    (record,) = offline.parse("transactions", body)
    assert record.counterparty is not None and record.counterparty.party is not None
    party = record.counterparty.party
    assert (party.scheme.value, party.tax_id, party.tax_id_valid) == (
        "br.cpf",
        "11144477736",
        False,
    )
    assert record.counterparty.account is None


def test_mcc_keeps_leading_zeros(offline: Connector) -> None:
    (record,) = offline.parse("transactions", _one(mcc="742"))
    assert record.mcc == "0742"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"amount": "-2145.45"}, "$[0].amount"),
        ({"value_date": "null"}, "$[0].value_date"),
        ({"transacted_at": '"2024-02-20T12:29:03.374"'}, "$[0].transacted_at"),
        ({"currency": '"XYZ"'}, "$[0].currency"),
        ({"mcc": "51370"}, "$[0].mcc"),
    ],
)
def test_bad_input_names_its_json_path(
    offline: Connector, change: dict[str, str], path: str
) -> None:
    with pytest.raises(MappingError) as caught:
        offline.parse("transactions", _one(**change))
    assert caught.value.path == path
    assert (caught.value.connector, caught.value.capability) == ("belvo.br", "transactions")


def test_an_account_number_sent_as_a_number_is_refused(offline: Connector) -> None:
    body = "[" + DOC_CHECKING_ACCOUNT.replace('"number": "0045722"', '"number": 45722') + "]"
    with pytest.raises(MappingError) as caught:
        offline.parse("accounts", body)
    assert caught.value.path == "$[0].number"

"""Belvo's documented accounts and transactions: the whole Result (its connector, capability,
references, notes) beside the golden records (the conformance suite checks the records
themselves, see GOLDEN in test_mapping.py), and what the examples alone do not show."""

from __future__ import annotations

from typing import Any

import pytest

from caudal import Connector, MappingError

from .ofda_examples import (
    CARD_ACCOUNT,
    CHECKING_ACCOUNT,
    DOC_CARD_ACCOUNT,
    DOC_CHECKING_ACCOUNT,
    DOC_TRANSACTION,
    TRANSACTION,
)

META = {
    "connector": "belvo.br",
    "operation_id": None,
    "notes": [],
    "raw": None,
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


def test_equal_instants_at_other_offsets_keep_their_own_offset(offline: Connector) -> None:
    first = _one(created_at='"2000-01-01T00:00:00+02:45"')[1:-1]
    second = _one(created_at='"2000-01-01T01:00:00+03:45"')[1:-1]
    records = offline.parse("transactions", f"[{first}, {second}]").items
    assert [r.references["created_at"] for r in records] == [
        "2000-01-01T00:00:00+02:45",
        "2000-01-01T01:00:00+03:45",
    ]


def test_a_zero_outflow_is_a_plain_zero(offline: Connector) -> None:
    (record,) = offline.parse("transactions", _one(amount="0.00", local_currency_amount="0"))
    assert str(record.amount.amount) == "0.00" and not record.amount.amount.is_signed()
    assert record.local_amount is not None and not record.local_amount.amount.is_signed()


def test_a_zero_owed_is_a_plain_zero(offline: Connector) -> None:
    body = "[" + DOC_CARD_ACCOUNT.replace('"current": 1520.35', '"current": 0.00') + "]"
    (account,) = offline.parse("accounts", body)
    current = account.balances[0].amount.amount
    assert str(current) == "0.00" and not current.is_signed()


def test_an_outflow_is_negated_digit_for_digit(offline: Connector) -> None:
    digits = "123456789012345678901234567.8900"  # more digits than the default context keeps
    (record,) = offline.parse("transactions", _one(amount=digits))
    assert str(record.amount.amount) == "-" + digits

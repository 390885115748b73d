"""Khipu callback bodies written out by hand from Khipu's documented examples (the test oracle)."""

from __future__ import annotations

import json
from typing import Any

GENUINE_OPERATION = "6baf6c19-e485-463b-ae24-a821b025c8a4"


def balance_body(operation_id: Any = GENUINE_OPERATION) -> bytes:
    """afc.cl balance: one detail of 10000 CLP and 223.45 cuotas, as the docs' examples say."""
    return json.dumps(
        {
            "OperationId": operation_id,
            "Status": "OK",
            "Data": {
                "ContributionsBalance": {
                    "CreationDate": "2017-07-22",
                    "Details": [
                        {
                            "Amount": 10000,
                            "AmountCuota": 223.45,
                            "EmployerId": "11.222.333-4",
                            "EmployerName": "KHIPU SPA",
                        }
                    ],
                    "TotalBalance": 10000,
                    "TotalBalanceCuota": 223.45,
                }
            },
            "AdditionalInformation": None,
            "Error": None,
            "LifeSpan": None,
        }
    ).encode()


def error_body(operation_id: Any = GENUINE_OPERATION, code: str = "E201") -> bytes:
    """An ERROR envelope (Khipu sends those in HTTP 200 bodies and in callbacks alike)."""
    return json.dumps(
        {
            "OperationId": operation_id,
            "Status": "ERROR",
            "Data": None,
            "AdditionalInformation": None,
            "Error": {
                "Code": code,
                "Type": "RETRY_IMMEDIATELY",
                "Description": "El servicio destino no se encuentra disponible.",
            },
            "LifeSpan": None,
        }
    ).encode()

"""caudal connectors for Belvo: `belvo.br` (Brazilian Open Finance accounts, balances and
transactions).

Installed with `caudal`, it is found through the `caudal.connectors` entry point; import
nothing from here in host apps, use `caudal.registry.get("belvo.br")`.
"""

from .connector import AccountParams, BalanceParams, BelvoBrConnector, TransactionParams
from .settings import PRODUCTION_URL, SANDBOX_URL, BelvoSettings

__all__ = [
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "AccountParams",
    "BalanceParams",
    "BelvoBrConnector",
    "BelvoSettings",
    "TransactionParams",
]

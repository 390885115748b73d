"""caudal: Latin-American open-finance APIs as one canonical, typed, exact data model.

    from caudal import registry
    result = registry.get("afc.cl").balance(credential={...})
    for balance in result:
        print(balance.kind, balance.amount)

Importing caudal loads no plugin and none of the CLI or server libraries; `Connector`,
`ConnectorSettings` and the capability markers (with pluggy and pydantic-settings, about
100 ms of imports) load on first use, which a host app reaches through `registry.get()`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AuthenticationError,
    CaudalError,
    ChallengeExpired,
    ChallengeRequired,
    ConfigurationError,
    ConnectorBug,
    MappingError,
    PluginError,
    ProviderError,
    RetryAdvice,
    TransportError,
    UnsupportedCapability,
)
from .exchange import Call, NoParams, Operation, Reply, Request
from .model import (
    Account,
    AccountCategory,
    Balance,
    BalanceKind,
    Challenge,
    Contribution,
    FundShare,
    Loan,
    Money,
    Party,
    Pending,
    Result,
    TaxScheme,
    Transaction,
    TransactionDirection,
    TransactionStatus,
)
from .registry import PLUGIN_API, Manifest, PluginStatus, Registry

if TYPE_CHECKING:
    from ._status import status_error
    from .capabilities import CAPABILITIES, capability, hookimpl
    from .connector import Connector
    from .provenance import Provenance
    from .settings import ConnectorSettings

_LAZY = {
    "CAPABILITIES": ".capabilities",
    "capability": ".capabilities",
    "hookimpl": ".capabilities",
    "Connector": ".connector",
    "ConnectorSettings": ".settings",
    "Provenance": ".provenance",
    "status_error": "._status",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.2"

registry = Registry()
"""The process-wide registry of installed connectors."""

__all__ = [
    "CAPABILITIES",
    "PLUGIN_API",
    "Account",
    "AccountCategory",
    "Provenance",
    "AuthenticationError",
    "Balance",
    "BalanceKind",
    "Call",
    "CaudalError",
    "Challenge",
    "ChallengeExpired",
    "ChallengeRequired",
    "ConfigurationError",
    "Connector",
    "ConnectorBug",
    "ConnectorSettings",
    "Contribution",
    "FundShare",
    "Loan",
    "Manifest",
    "MappingError",
    "Money",
    "NoParams",
    "Operation",
    "Party",
    "Pending",
    "PluginError",
    "PluginStatus",
    "ProviderError",
    "Registry",
    "Reply",
    "Request",
    "Result",
    "RetryAdvice",
    "TaxScheme",
    "Transaction",
    "TransactionDirection",
    "TransactionStatus",
    "TransportError",
    "UnsupportedCapability",
    "capability",
    "hookimpl",
    "registry",
    "status_error",
    "__version__",
]

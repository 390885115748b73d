"""caudal: Latin-American open-finance APIs as one canonical, typed, exact data model.

    from caudal import registry
    result = registry.get("afc.cl").balance(credential={...})
    for balance in result:
        print(balance.kind, balance.amount)

Importing caudal loads no plugin and none of the CLI or server libraries.
"""

from .capabilities import CAPABILITIES, capability, hookimpl
from .connector import Connector
from .errors import (
    AuthenticationError,
    CaudalError,
    ChallengeExpired,
    ChallengeRequired,
    ConfigurationError,
    MappingError,
    PluginError,
    ProviderError,
    RetryAdvice,
    TransportError,
    UnsupportedCapability,
)
from .exchange import Call, NoParams, Operation, Reply, Request
from .model import (
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
)
from .registry import PLUGIN_API, Manifest, PluginStatus, Registry
from .settings import ConnectorSettings

__version__ = "0.1.0"

registry = Registry()
"""The process-wide registry of installed connectors."""

__all__ = [
    "CAPABILITIES",
    "PLUGIN_API",
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
    "TransportError",
    "UnsupportedCapability",
    "capability",
    "hookimpl",
    "registry",
    "__version__",
]

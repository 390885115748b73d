"""Party: a company or person identified by a tax id (RUT in Chile, CPF/CNPJ in Brazil).

A record whose check digit fails is kept and flagged: providers' own examples carry such ids,
and dropping a contribution because its employer's RUT is mistyped would lose money records.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from ._build import builder

__all__ = ["Party", "TaxScheme", "normalize_tax_id"]


class TaxScheme(StrEnum):
    """Which national numbering a tax id belongs to."""

    CL_RUT = "cl.rut"
    BR_CPF = "br.cpf"
    BR_CNPJ = "br.cnpj"


# python-stdnum loads on first use: importing it takes longer than the rest of `import caudal`.
_MODULES = {
    TaxScheme.CL_RUT: "stdnum.cl.rut",
    TaxScheme.BR_CPF: "stdnum.br.cpf",
    TaxScheme.BR_CNPJ: "stdnum.br.cnpj",
}


@lru_cache(maxsize=16_384)
def normalize_tax_id(scheme: TaxScheme, raw: str) -> tuple[str, bool]:
    """The canonical spelling of `raw` and whether its check digit holds.

    RUTs are written `11222333-9` (no dots, upper-case K); CPF and CNPJ as their bare characters.
    Input python-stdnum cannot even compact (wrong length, stray characters), or whose compact
    form is not plain ASCII letters and digits, is kept stripped: the spelling must be a fixed
    point (a record dumped and read back keeps its id), and upper-casing other scripts is not
    (`'ΰ'.upper()` is three code points).
    Cached: a pure function of its arguments, and the same employers recur in every body
    (python-stdnum's compaction and check cost about 10 µs per id).
    """
    from importlib import import_module

    from stdnum.exceptions import ValidationError as StdnumError

    module = import_module(_MODULES[scheme])
    try:
        compact: str = module.compact(raw)
    except StdnumError:
        return raw.strip(), False
    if not (compact.isascii() and compact.isalnum()):
        return raw.strip(), False
    valid = bool(module.is_valid(compact))
    if scheme is TaxScheme.CL_RUT and len(compact) >= 2:
        return f"{compact[:-1]}-{compact[-1]}", valid
    return compact, valid


class Party(BaseModel):
    """Who: an employer, an account holder. `tax_id_valid` is derived, never trusted from input."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    scheme: TaxScheme
    tax_id: str
    name: str | None = None
    tax_id_valid: bool = False

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any) -> Any:
        if isinstance(data, dict) and "scheme" in data and isinstance(data.get("tax_id"), str):
            tax_id, valid = normalize_tax_id(TaxScheme(data["scheme"]), data["tax_id"])
            return {**data, "tax_id": tax_id, "tax_id_valid": valid}
        return data

    @classmethod
    def rut(cls, tax_id: str, name: str | None = None) -> Party:
        """A Chilean party from a RUT in any common spelling (`11.222.333-9`, `112223339`)."""
        if cls is Party and isinstance(tax_id, str) and (name is None or type(name) is str):
            # The one check validation would do is the normalization itself (cached): mappers
            # call this once per record, and validated construction costs 4 µs more.
            compact, valid = normalize_tax_id(TaxScheme.CL_RUT, tax_id)
            return _PARTY(TaxScheme.CL_RUT, compact, name, valid)
        return cls(scheme=TaxScheme.CL_RUT, tax_id=tax_id, name=name)

    @classmethod
    def of(cls, scheme: TaxScheme, tax_id: str, name: str | None = None) -> Party:
        """A party of any scheme (`TaxScheme.BR_CPF`, `BR_CNPJ`), its check digit checked."""
        if type(scheme) is not TaxScheme:
            scheme = TaxScheme(scheme)  # an enum call by value costs a microsecond: only if needed
        if cls is Party and type(tax_id) is str and (name is None or type(name) is str):
            compact, valid = normalize_tax_id(scheme, tax_id)
            return _PARTY(scheme, compact, name, valid)
        return cls(scheme=scheme, tax_id=tax_id, name=name)


_PARTY = builder(Party, "scheme", "tax_id", "name", "tax_id_valid")

"""Settings and parameters in plain words: what `caudal about` shows and errors say."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from caudal import ConfigurationError, ConnectorSettings
from caudal._explain import parameter_fields, problems, setting_fields, type_words
from caudal.model import CurrencyCode


def _token(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("a token cannot be empty")
    return value


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Annotated[str, Field(min_length=1)]
    password: SecretStr


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credential: Login | Annotated[SecretStr, AfterValidator(_token)]
    account: str = Field(min_length=1)
    currency: CurrencyCode | None = None
    mode: Literal["fast", "full"] = "fast"
    save: bool | None = None


class Settings(ConnectorSettings):
    model_config = SettingsConfigDict(env_prefix="CAUDAL_ACME_", extra="forbid", frozen=True)

    base_url: str = "https://api.acme.test"
    api_key: SecretStr
    region: str = "mx"
    """Which regional endpoint."""


def test_types_in_words() -> None:
    fields = {f.name: f for f in parameter_fields(Params, {"account": "0012", "mode": "full"})}
    assert (
        fields["credential"].accepts
        == '{"user": non-empty text, "password": secret text} or secret text'
    )
    assert fields["credential"].required and fields["credential"].default is None
    assert fields["account"].accepts == "non-empty text" and fields["account"].example == "0012"
    assert fields["currency"].accepts == "ISO 4217 currency code (e.g. CLP)"
    assert fields["mode"].accepts == "one of 'fast', 'full'" and fields["mode"].default == "fast"
    assert fields["save"].accepts == "true or false" and fields["save"].default == "none"
    assert type_words(list[int]) == "list of integer"


def test_settings_name_their_variables_and_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAUDAL_ACME_API_KEY", "distinctive-acme-key")
    fields = {f.name: f for f in setting_fields(Settings)}
    names = [f.name for f in setting_fields(Settings)]
    assert names[:2] == ["api_key", "base_url"]  # required ones first, then in order
    assert fields["api_key"].env == "CAUDAL_ACME_API_KEY" and fields["api_key"].secret
    assert fields["region"].about == "Which regional endpoint."
    assert fields["base_url"].default == "https://api.acme.test" and not fields["base_url"].secret
    assert "distinctive-acme-key" not in repr(fields)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"account": "1"}, "credential: required"),
        (
            {"account": "1", "credential": {"user": "u"}},
            'credential: expected {"user": non-empty text, "password": secret text} or secret text',
        ),
        ({"account": "", "credential": "t"}, "account: must not be empty"),
        ({"account": "1", "credential": "t", "currency": "XX"}, "currency: 'XX' is not an ISO"),
        ({"account": "1", "credential": "t", "mode": "slow"}, "mode: Input should be 'fast' or"),
        ({"account": "1", "credential": "t", "colour": 1}, "colour: Extra inputs are not"),
    ],
)
def test_problems_in_plain_words(given: dict[str, object], said: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Params.model_validate(given)
    text = problems(caught.value, Params)
    assert said in text
    for internal in ("function-after", "lax-or-strict", "Login", "Value error", "_token"):
        assert internal not in text, text


def test_missing_settings_wait_and_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from caudal import Connector, capability
    from caudal.exchange import NoParams, Operation, Request

    class Acme(Connector):
        name = "acme.mx"
        settings_class = Settings

        @capability("balance")
        def balance_operation(self) -> Operation[NoParams]:
            return Operation(NoParams, request=lambda call: Request("GET", "/"), read=None)  # type: ignore[arg-type]

    monkeypatch.delenv("CAUDAL_ACME_API_KEY", raising=False)
    conn = Acme()
    with pytest.raises(ConfigurationError) as caught:
        conn.balance()
    assert "api_key (CAUDAL_ACME_API_KEY): required" in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"region \(CAUDAL_ACME_REGION\)"):
        Acme(region=5)

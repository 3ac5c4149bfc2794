"""infra/providers/_client.py: settings, host rewrite, retry policy, error translation."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from twilio.base.exceptions import TwilioRestException

from infra.errors import ProviderError
from infra.providers.base import TwilioProvider, read_settings
from infra.stack import Settings
from infra.twilio.client import NotFoundError, Twilio

TOKEN = "tok-SECRET-4f1e9c"
SID = "AC" + "1" * 32


def _settings(**overrides: object) -> Settings:
    values = {"account_sid": SID, "username": SID, "password": TOKEN, "base_url": None}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_settings_from_auth_token() -> None:
    cfg = {"twilio:accountSid": SID, "twilio:authToken": TOKEN}
    settings = read_settings(cfg.get, {})
    assert isinstance(settings, Settings)
    assert (settings.account_sid, settings.username, settings.password) == (SID, SID, TOKEN)
    assert TOKEN not in repr(settings)


def test_settings_from_api_key_keep_account_sid_for_paths() -> None:
    cfg = {
        "twilio:accountSid": SID,
        "twilio:apiKeySid": "SK" + "2" * 32,
        "twilio:apiKeySecret": TOKEN,
        "twilio:apiBaseUrl": "http://127.0.0.1:9/",
    }
    settings = read_settings(cfg.get, {})
    assert isinstance(settings, Settings)
    assert settings.account_sid == SID and settings.username.startswith("SK")
    assert settings.base_url == "http://127.0.0.1:9"


def test_settings_fall_back_to_environment() -> None:
    settings = read_settings({}.get, {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN})
    assert isinstance(settings, Settings) and settings.password == TOKEN


@pytest.mark.parametrize(
    ("cfg", "needle"),
    [
        ({}, "failover:accountSid"),
        ({"failover:accountSid": SID}, "failover:authToken"),
        ({"twilio:accountSid": SID}, "failover:authToken"),
        ({"failover:accountSid": SID, "failover:apiKey": "SK1"}, "failover:apiSecret"),
        ({"twilio:accountSid": SID, "twilio:apiKeySid": "SK1"}, "failover:apiSecret"),
    ],
)
def test_missing_credentials_name_keys_not_values(cfg: dict[str, str], needle: str) -> None:
    problem = read_settings(cfg.get, {})
    assert isinstance(problem, str) and needle in problem


def test_missing_credentials_fail_on_first_api_call_not_in_configure() -> None:
    provider = TwilioProvider()
    provider.configure(ConfigureRequest(Config({}, "lines")))
    with pytest.raises(ProviderError, match="sales: missing Twilio credentials"):
        provider._twilio("sales")


def test_configured_provider_pickles_without_credentials() -> None:
    from infra.providers.phone_number import PhoneNumberFailoverProvider

    provider = PhoneNumberFailoverProvider()
    provider.configure(
        ConfigureRequest(Config({"twilio:accountSid": SID, "twilio:authToken": TOKEN}, "lines"))
    )
    for blob in (
        base64.b64decode(serialize_provider(provider)),
        dill.dumps(provider),
        pickle.dumps(provider),
    ):
        assert TOKEN.encode() not in blob and SID.encode() not in blob
    assert dill.loads(dill.dumps(provider)).__dict__ == {}


def test_base_url_moves_every_product_under_its_host() -> None:
    tw = Twilio(_settings(base_url="http://127.0.0.1:9"))
    rewrite = tw._http.rewrite
    assert rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/X.json?a=1") == (
        "http://127.0.0.1:9/api.twilio.com/2010-04-01/Accounts/AC1/X.json?a=1"
    )
    assert rewrite("https://serverless-upload.twilio.com/v1/Services/ZS1") == (
        "http://127.0.0.1:9/serverless-upload.twilio.com/v1/Services/ZS1"
    )
    assert rewrite("http://127.0.0.1:9/studio.twilio.com/v2/Flows?Page=1") == (
        "http://127.0.0.1:9/studio.twilio.com/v2/Flows?Page=1"
    )  # paging links: untouched
    assert Twilio(_settings())._http.rewrite("https://api.twilio.com/x") == (
        "https://api.twilio.com/x"
    )


def test_retry_policy_retries_429_always_and_5xx_only_when_safe() -> None:
    retry = Twilio(_settings())._http.session.get_adapter("http://x").max_retries
    assert retry.is_retry("POST", 429) and retry.is_retry("GET", 429)
    assert retry.is_retry("GET", 503) and retry.is_retry("DELETE", 502)
    assert not retry.is_retry("POST", 503) and not retry.is_retry("POST", 500)
    assert not retry.is_retry("GET", 400)
    assert retry.parse_retry_after("3600") == 60.0
    assert retry.parse_retry_after("0.2") == 0.2 and retry.parse_retry_after("soon") == 0.0


def test_twilio_error_names_subject_status_code_link_and_never_the_secret() -> None:
    tw = Twilio(_settings())
    exc = TwilioRestException(
        400,
        "http://127.0.0.1:9/api.twilio.com/2010-04-01/Accounts/AC1/IncomingPhoneNumbers/PN1.json",
        msg=f"bad value {TOKEN}",
        code=21405,
        method="POST",
    )
    with pytest.raises(ProviderError) as info:
        with tw.errors("sales", "update voice settings of +14155550101"):
            raise exc
    message = str(info.value)
    assert message.startswith("sales: update voice settings of +14155550101 failed: bad value")
    assert "HTTP 400, Twilio error 21405, POST /api.twilio.com/2010-04-01/" in message
    assert "https://www.twilio.com/docs/errors/21405" in message
    assert TOKEN not in message and "\033[" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_404_becomes_not_found_error_and_network_errors_say_rerun() -> None:
    import requests

    tw = Twilio(_settings())
    with pytest.raises(NotFoundError):
        with tw.errors("sales", "fetch"):
            raise TwilioRestException(404, "u", msg="gone", code=20404, method="GET")
    with pytest.raises(ProviderError, match=r"could not reach Twilio \(ConnectionError\)"):
        with tw.errors("sales", "fetch"):
            raise requests.ConnectionError("http://user:pw@host")


def test_studio_validation_details_are_listed() -> None:
    tw = Twilio(_settings())
    details = {
        "errors": [
            {
                "property_path": "#/states/1/properties/timeout",
                "message": "integer found, string expected",
            }
        ]
    }
    with pytest.raises(ProviderError, match=r"\[#/states/1/properties/timeout: integer found"):
        with tw.errors("sales", "validate Studio flow"):
            raise TwilioRestException(
                400, "u", msg="Invalid", code=81022, method="POST", details=details
            )


def test_rate_limit_beyond_the_retry_budget_surfaces_as_a_twilio_error(double: object) -> None:
    from infra.stack import Settings as S

    d: Any = double
    fault = d.faults.add(status=429, retry_after=0.01, match="GET")
    tw = Twilio(S(d.account_sid, d.account_sid, d.auth_token, d.base_url, 5.0))
    with pytest.raises(ProviderError) as info:
        with tw.errors("support", "list workers"):
            list(tw.rest.taskrouter.v1.workspaces.list())
    assert fault.fired == 9  # the first try and 8 retries
    message = str(info.value)
    assert message.startswith("support: list workers failed: Too Many Requests")
    assert "(HTTP 429, Twilio error 20429) see https://www.twilio.com/docs/errors/20429" in message
    assert d.auth_token not in message


@pytest.mark.parametrize(
    ("writes", "advice"),
    [
        (True, "The change may be incomplete; run again to converge"),
        (False, "Nothing was changed; check the network and run again"),
    ],
)
def test_network_failure_advice_depends_on_whether_the_caller_writes(
    writes: bool, advice: str
) -> None:
    from requests import ConnectionError as RequestsConnectionError

    tw = Twilio(_settings())
    with pytest.raises(ProviderError) as caught, tw.errors("sales", "list numbers", writes=writes):
        raise RequestsConnectionError("connection refused")
    message = str(caught.value)
    assert message.startswith(
        "sales: list numbers failed: could not reach Twilio (ConnectionError)."
    )
    assert advice in message
    assert TOKEN not in message

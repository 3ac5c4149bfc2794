"""Credentials reach providers only through configure(); they never reach state, errors or logs.

The Pulumi engine stores ``__provider`` and every output in the checkpoint, and shows
errors and host stderr to the user: the recognisable auth token / API key secret must never
appear in any of them.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from infra.providers.call_queue import CallQueueProvider
from infra.providers.phone_number import PhoneNumberFailoverProvider
from infra.providers.studio_flow import StudioFlowProvider
from infra.providers.twiml_documents import TwimlDocumentsProvider
from tests.harness.host import SECRET_SIG, HostError, ProviderHost, provider_string
from tests.harness.support import SECRET_KEYS, Driven, twilio_config
from tests.providers.test_call_queue import args as queue_args
from tests.providers.test_phone_number import E164, PRIMARY
from tests.providers.test_phone_number import args as number_args
from tests.providers.test_studio_flow import args as flow_args
from tests.providers.test_twiml_documents import args as documents_args

PROVIDERS = [
    (PhoneNumberFailoverProvider, "PhoneNumberFailover", number_args),
    (StudioFlowProvider, "StudioFlow", flow_args),
    (TwimlDocumentsProvider, "TwimlDocuments", documents_args),
    (CallQueueProvider, "CallQueue", queue_args),
]


@pytest.mark.parametrize(("cls", "_type", "_args"), PROVIDERS)
def test_pickled_provider_is_small_plain_and_by_reference(cls: Any, _type: str, _args: Any) -> None:
    blob = base64.b64decode(provider_string(cls()))
    assert len(blob) < 120
    assert cls.__module__.encode() in blob and cls.__name__.encode() in blob
    assert cls.serialize_as_secret_always is False


def _secrets_absent(secrets: list[str], *haystacks: str) -> None:
    for secret in secrets:
        for haystack in haystacks:
            assert secret not in haystack


def test_no_secret_in_provider_outputs_errors_or_host_logs(double: Any) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    key_sid, key_secret = double.add_api_key()
    secrets = [double.auth_token, key_secret]
    texts = []
    host = ProviderHost()
    try:
        configured = host.configure(
            twilio_config(  # both secrets sent; the API key wins
                double, **{"twilio:apiKeySid": key_sid, "twilio:apiKeySecret": key_secret}
            ),
            SECRET_KEYS,
        )
        assert configured["accept_secrets"] is False  # the engine strips secrets afterwards
        for cls, type_name, make_args in PROVIDERS:
            res = Driven(host, cls(), type_name, type_name.lower())
            res.create(make_args())
            texts += [res.provider, json.dumps(res.outputs), json.dumps(res.refresh())]
            assert res.outputs["__provider"] == res.provider  # plain string, no envelope
        texts.append(host.stderr_text())
    finally:
        host.close()
    _secrets_absent(secrets, *texts)
    assert all(SECRET_SIG not in t for t in texts[:-1])


def test_api_key_authenticates_while_the_account_sid_stays_in_paths(double: Any) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    key_sid, key_secret = double.add_api_key()
    config = twilio_config(
        double, **{"twilio:apiKeySid": key_sid, "twilio:apiKeySecret": key_secret}
    )
    del config["twilio:authToken"]
    host = ProviderHost()
    try:
        host.configure(config, SECRET_KEYS)
        Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "sales").create(
            number_args()
        )
    finally:
        host.close()
    assert f"/Accounts/{double.account_sid}/" in double.requests[-1].path


def test_environment_credentials_are_the_fallback(double: Any) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    host = ProviderHost(
        env={"TWILIO_ACCOUNT_SID": double.account_sid, "TWILIO_AUTH_TOKEN": double.auth_token}
    )
    try:
        host.configure({"twilio:apiBaseUrl": double.base_url})
        outs = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "sales").create(
            number_args()
        )
        assert double.auth_token not in json.dumps(outs)
    finally:
        host.close()


def test_wrong_or_missing_credentials_fail_clearly_without_the_value(double: Any) -> None:
    double.seed_number(E164, voice_url=PRIMARY)
    wrong = "wrong-token-7c1d2e"
    host = ProviderHost()
    try:
        host.configure(twilio_config(double, **{"twilio:authToken": wrong}), SECRET_KEYS)
        res = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "sales")
        with pytest.raises(HostError) as info:
            res.create(number_args())
        assert (
            "sales: list incoming phone numbers failed" in info.value.details
        )  # adoption lists once
        assert "HTTP 401, Twilio error 20003" in info.value.details
        _secrets_absent([wrong, double.auth_token], info.value.details, host.stderr_text())
    finally:
        host.close()
    host = ProviderHost()
    try:
        host.configure({"twilio:apiBaseUrl": double.base_url})
        res = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "sales")
        res.checked(number_args())  # check and diff need no credentials
        with pytest.raises(
            HostError,
            match="sales: missing Twilio credentials: set config "
            "failover:accountSid with failover:authToken",
        ):
            res.create(number_args())
    finally:
        host.close()


def test_debug_logs_of_a_whole_lifecycle_hold_no_secret(
    double: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """In-process, with every logger at DEBUG (twilio, urllib3): the token never shows."""
    double.seed_number(E164, voice_url=PRIMARY)
    provider = PhoneNumberFailoverProvider()
    provider.configure(ConfigureRequest(Config(twilio_config(double), "lines")))
    with caplog.at_level(logging.DEBUG):
        outs = provider.create(number_args()).outs
        provider.update(outs["sid"], outs, number_args(fallback_method="GET"))
        provider.read(outs["sid"], outs)
    assert caplog.records  # twilio's client does log each request
    _secrets_absent([double.auth_token], caplog.text)


def _infra_importable_outside_project() -> bool:
    """True when this interpreter has the project installed (``script/setup``'s editable install)."""
    import subprocess
    import sys

    probe = subprocess.run(
        [sys.executable, "-c", "import infra"], cwd="/", capture_output=True, check=False
    )
    return probe.returncode == 0


def test_host_outside_the_project_imports_providers_only_if_installed(double: Any) -> None:
    """Reference §2.1/§4: the host unpickles providers by importing ``infra``, which works from
    the program directory (its cwd) or from an install into the virtualenv, and from nowhere
    else. Started in ``/``, the host must fail exactly when the package is not installed, which
    proves the harness really depends on one of the two rather than an inherited sys.path."""
    installed = _infra_importable_outside_project()
    host = ProviderHost(cwd="/")
    try:
        host.configure(twilio_config(double), SECRET_KEYS)
        driven = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "x")
        if installed:
            inputs, failures = driven.check(number_args())
            assert failures == [] and inputs["phone_number"] == number_args()["phone_number"]
        else:
            with pytest.raises(HostError, match="No module named 'infra'"):
                driven.check(number_args())
    finally:
        host.close()

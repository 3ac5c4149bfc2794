"""Helpers for provider tests: stack config for the double, and one resource driven by hand.

``Driven`` keeps one resource's id/inputs/outputs between RPCs the way the engine stores
them, so a test reads as the lifecycle it checks::

    res = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "sales")
    res.create({"line": "sales", ...})          # Check + Create
    assert res.diff({...})["changes"] == "DIFF_NONE"
    res.update({...}); res.refresh(); res.delete()

Every call goes through the real provider host over gRPC (``tests.harness.host``).
"""

from __future__ import annotations

from typing import Any

from tests.harness.host import ProviderHost, provider_string, urn_for

SECRET_KEYS = frozenset({"twilio:authToken", "twilio:apiKeySecret"})


def token_type(name: str) -> str:
    return f"pulumi-python:dynamic/twilio:{name}"


def twilio_config(double: Any, **extra: Any) -> dict[str, Any]:
    """The stack config a real stack would hold, pointed at the double."""
    config = {
        "twilio:accountSid": double.account_sid,
        "twilio:authToken": double.auth_token,
        "twilio:apiBaseUrl": double.base_url,
        "twilio:httpTimeout": 10,
        "lines:region": "us1",  # unrelated keys travel too: the engine sends the whole config
    }
    config.update(extra)
    return config


def start_host(double: Any, **extra: Any) -> ProviderHost:
    host = ProviderHost()
    try:
        host.configure(twilio_config(double, **extra), SECRET_KEYS)
    except BaseException:
        host.close()
        raise
    return host


class Driven:
    """One resource of one type, driven RPC by RPC, with engine-like bookkeeping."""

    def __init__(self, host: ProviderHost, provider: object, type_name: str, name: str) -> None:
        self.host, self.urn = host, urn_for(token_type(type_name), name)
        self.provider = provider_string(provider)
        self.id, self.inputs, self.outputs = "", {}, {}  # type: ignore[var-annotated]

    def _news(self, news: dict[str, Any]) -> dict[str, Any]:
        return {"__provider": self.provider, **news}

    def check(self, news: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return self.host.check(self.urn, self.inputs, self._news(news))

    def checked(self, news: dict[str, Any]) -> dict[str, Any]:
        inputs, failures = self.check(news)
        assert failures == [], failures
        return inputs

    def create(self, news: dict[str, Any]) -> dict[str, Any]:
        inputs = self.checked(news)
        self.id, self.outputs = self.host.create(self.urn, inputs)
        self.inputs = inputs
        return self.outputs

    def diff(self, news: dict[str, Any]) -> dict[str, Any]:
        return self.host.diff(self.urn, self.id, self.outputs, self.checked(news), self.inputs)

    def update(self, news: dict[str, Any]) -> dict[str, Any]:
        inputs = self.checked(news)
        self.outputs = self.host.update(self.urn, self.id, self.outputs, inputs, self.inputs)
        self.inputs = inputs
        return self.outputs

    def refresh(self) -> dict[str, Any]:
        """Read; the stored outputs become the live ones (what ``pulumi refresh`` does)."""
        id_, outs, _ = self.host.read(self.urn, self.id, self.outputs, self.inputs)
        self.id, self.outputs = id_, outs
        return outs

    def delete(self) -> None:
        self.host.delete(self.urn, self.id, self.outputs, self.inputs)

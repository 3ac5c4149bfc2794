"""AgentLinkSecret through Pulumi's real provider host, against the Twilio double.

The secret comes from the stack config (a secret envelope, as the engine sends it) and lands
in the environment's Variable; inputs, outputs, ``__provider`` and errors never hold it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.agent_links import secret_fingerprint
from infra.providers.agent_link_secret import AgentLinkSecretProvider
from tests.harness.host import HostError, ProviderHost
from tests.harness.support import SECRET_KEYS, Driven, twilio_config

KEY = "failover:agentLinkSecret"
SECRET = "s3cr3t-for-agent-links-0123456789abcdef"
ROTATED = "r0tated-for-agent-links-0123456789abcdef"


def host_with(double: Any, secret: str | None) -> ProviderHost:
    host = ProviderHost()
    extra = {} if secret is None else {KEY: secret}
    host.configure(twilio_config(double, **extra), SECRET_KEYS | {KEY})
    return host


@pytest.fixture
def environment(double: Any) -> dict[str, str]:
    client = double.client()
    service = client.serverless.v1.services.create(unique_name="acme-dev", friendly_name="x")
    env = client.serverless.v1.services(service.sid).environments.create(
        unique_name="failover", domain_suffix="failover"
    )
    return {"service_sid": service.sid, "environment_sid": env.sid}


@pytest.fixture
def hosts(double: Any) -> Iterator[list[ProviderHost]]:
    opened: list[ProviderHost] = []
    yield opened
    for host in opened:
        host.close()


def driven(
    double: Any, hosts: list[ProviderHost], secret: str | None, like: Driven | None = None
) -> Driven:
    """The resource on a host configured with ``secret`` (a new run of ``pulumi up``)."""
    hosts.append(host_with(double, secret))
    res = Driven(hosts[-1], AgentLinkSecretProvider(), "AgentLinkSecret", "agent-links")
    if like is not None:
        res.id, res.inputs, res.outputs = like.id, like.inputs, like.outputs
    return res


def values(double: Any) -> list[tuple[str, str]]:
    return [(v["key"], v["value"]) for v in double.state.variables.values()]


def test_the_secret_reaches_the_environment_and_nowhere_else(
    double: Any, hosts: list[ProviderHost], environment: dict[str, str]
) -> None:
    res = driven(double, hosts, SECRET)
    outs = res.create(environment)
    assert values(double) == [("AGENT_LINK_SECRET", SECRET)]
    assert outs["fingerprint"] == secret_fingerprint(SECRET) and len(outs["fingerprint"]) == 16
    assert outs["variable_sid"].startswith("ZV")
    kept = json.dumps([res.inputs, res.outputs, res.provider, res.id])
    assert SECRET not in kept
    assert res.diff(environment)["changes"] == "DIFF_NONE"


def test_rotating_the_secret_is_a_change_that_rewrites_the_variable(
    double: Any, hosts: list[ProviderHost], environment: dict[str, str]
) -> None:
    first = driven(double, hosts, SECRET)
    first.create(environment)
    second = driven(double, hosts, ROTATED, like=first)
    assert second.diff(environment)["changes"] == "DIFF_SOME"
    outs = second.update(environment)
    assert values(double) == [("AGENT_LINK_SECRET", ROTATED)]
    assert outs["fingerprint"] == secret_fingerprint(ROTATED)


def test_unsetting_the_secret_removes_the_variable_so_every_link_fails(
    double: Any, hosts: list[ProviderHost], environment: dict[str, str]
) -> None:
    first = driven(double, hosts, SECRET)
    first.create(environment)
    second = driven(double, hosts, None, like=first)
    assert second.diff(environment)["changes"] == "DIFF_SOME"
    assert second.update(environment)["variable_sid"] == ""
    assert values(double) == []


def test_delete_removes_the_variable(
    double: Any, hosts: list[ProviderHost], environment: dict[str, str]
) -> None:
    res = driven(double, hosts, SECRET)
    res.create(environment)
    res.delete()
    assert values(double) == []


def test_a_short_secret_is_refused_naming_the_key_not_the_value(
    double: Any, hosts: list[ProviderHost], environment: dict[str, str]
) -> None:
    res = driven(double, hosts, "too-short-1234")
    with pytest.raises(HostError) as caught:
        res.create(environment)
    assert KEY in caught.value.details and "too-short-1234" not in caught.value.details
    assert values(double) == []

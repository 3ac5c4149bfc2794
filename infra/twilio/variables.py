"""Serverless environment variables: the agents' page secret, set and read back.

The ``AgentLinkSecret`` provider calls ``put_variable``/``delete_variable``;
``failover agents links`` calls ``read_variable`` to sign links with the secret the
``/agents`` Function actually checks. Twilio: Variables are key/value pairs of one
Environment, encrypted at rest, values at most 450 bytes; a Function sees them as
``context.<Key>`` and an update applies to the next execution without a deploy
(https://www.twilio.com/docs/serverless/api/resource/variable,
https://www.twilio.com/docs/serverless/functions-assets/functions/variables).
Error messages name the key, never the value.

Must not import: pulumi, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

from typing import Any

from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.values import text


def _variables(tw: Twilio, service_sid: str, environment_sid: str) -> Any:
    return tw.rest.serverless.v1.services(service_sid).environments(environment_sid).variables


def _find(tw: Twilio, subject: str, collection: Any, key: str, *, writes: bool) -> Any:
    with tw.errors(subject, f"list environment variables for {key}", writes=writes):
        for variable in collection.list(page_size=100):
            if text(variable.key) == key:
                return variable
    return None


def put_variable(
    tw: Twilio, subject: str, service_sid: str, environment_sid: str, key: str, value: str
) -> str:
    """Create or update ``key`` (looked up first, so a retried create never duplicates it);
    returns the Variable SID."""
    collection = _variables(tw, service_sid, environment_sid)
    found = _find(tw, subject, collection, key, writes=True)
    if found is None:
        with tw.errors(subject, f"create environment variable {key}"):
            return text(collection.create(key=key, value=value).sid)
    if text(found.value) != value:
        with tw.errors(subject, f"update environment variable {key}"):
            collection(found.sid).update(value=value)
    return text(found.sid)


def read_variable(
    tw: Twilio, subject: str, service_sid: str, environment_sid: str, key: str
) -> str | None:
    """The value of ``key`` in the environment, or None when it is not set."""
    found = _find(tw, subject, _variables(tw, service_sid, environment_sid), key, writes=False)
    return None if found is None else text(found.value)


def delete_variable(
    tw: Twilio, subject: str, service_sid: str, environment_sid: str, key: str
) -> None:
    """Remove ``key``; fine when it (or its environment) is already gone."""
    try:
        collection = _variables(tw, service_sid, environment_sid)
        found = _find(tw, subject, collection, key, writes=True)
        if found is not None:
            with tw.errors(subject, f"delete environment variable {key}"):
                collection(found.sid).delete()
    except NotFoundError:
        return

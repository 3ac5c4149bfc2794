"""AgentLinkSecret: puts ``failover:agentLinkSecret`` into the Serverless environment, where
the ``/agents`` Function reads it as ``context.AGENT_LINK_SECRET``.

The secret never passes through the program, inputs, outputs or state: like the Twilio
credentials, the provider reads it in ``configure()`` (the engine hands dynamic providers the
whole stack config, secrets decrypted in memory only; reference pulumi-dynamic-providers.md
§5) through ``infra.stack.agent_link_secret``. State keeps only ``fingerprint``
(``infra.agent_links.secret_fingerprint``, 16 hex digits of a SHA-256), so rotating the
secret shows as a change and ``update`` writes the new value; Twilio applies it to the next
Function execution without a deploy
(https://www.twilio.com/docs/serverless/functions-assets/functions/variables), which revokes
every old link at once. With the key unset the variable is removed: the page then refuses
every link (fail closed).

Inputs: ``service_sid``, ``environment_sid`` (the ``TwimlDocuments`` outputs). Outputs:
``variable_sid``, ``fingerprint``. Module path and class names are stored in Pulumi state:
never rename them without an alias.
Must not import: twilio, infra.model, infra.lines, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from infra.agent_links import secret_fingerprint
from infra.errors import InfraError, ProviderError
from infra.naming import AGENT_LINK_SECRET_VARIABLE
from infra.providers._pickling import init_resource
from infra.providers.base import TwilioProvider, checked_inputs
from infra.stack import agent_link_secret
from infra.twilio.variables import delete_variable, put_variable

INPUTS = ("service_sid", "environment_sid")
SUBJECT = "agent links"


class AgentLinkSecretProvider(TwilioProvider):
    """One environment variable, its value read from the stack config, never stored."""

    def configure(self, req: ConfigureRequest) -> None:
        super().configure(req)
        try:
            self._secret: str | None | InfraError = agent_link_secret(req.config.get)
        except InfraError as exc:
            self._secret = exc

    def _value(self) -> str | None:
        secret = getattr(self, "_secret", None)
        if isinstance(secret, InfraError):
            raise ProviderError(SUBJECT, str(secret))
        return secret

    def _fingerprint(self) -> str:
        secret = self._value()
        return secret_fingerprint(secret) if secret else ""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checked_inputs(news, INPUTS, required=INPUTS)
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        moved = [k for k in INPUTS if olds.get(k) != news.get(k)]
        rotated = olds.get("fingerprint") != self._fingerprint()
        return DiffResult(
            changes=bool(moved) or rotated,
            replaces=moved,
            stables=[],
            delete_before_replace=False,
        )

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        tw = self._twilio(SUBJECT)
        service, environment = str(props["service_sid"]), str(props["environment_sid"])
        secret = self._value()
        if secret is None:
            delete_variable(tw, SUBJECT, service, environment, AGENT_LINK_SECRET_VARIABLE)
            sid = ""
        else:
            sid = put_variable(
                tw, SUBJECT, service, environment, AGENT_LINK_SECRET_VARIABLE, secret
            )
        return {
            "service_sid": service,
            "environment_sid": environment,
            "variable_sid": sid,
            "fingerprint": secret_fingerprint(secret) if secret else "",
        }

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._apply(props)
        return CreateResult(f"{outs['environment_sid']}/{AGENT_LINK_SECRET_VARIABLE}", outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        # Twilio would return the value; reading it into state is what this resource avoids.
        return ReadResult(id_, props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        delete_variable(
            self._twilio(SUBJECT),
            SUBJECT,
            str(props.get("service_sid") or ""),
            str(props.get("environment_sid") or ""),
            AGENT_LINK_SECRET_VARIABLE,
        )


class AgentLinkSecret(pulumi.dynamic.Resource, module="failover", name="AgentLinkSecret"):
    """The agents' page secret in the stack's Serverless environment (see module doc)."""

    variable_sid: pulumi.Output[str]
    fingerprint: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        service_sid: pulumi.Input[str],
        environment_sid: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"service_sid": service_sid, "environment_sid": environment_sid}
        init_resource(
            self, AgentLinkSecretProvider(), name, props, ("variable_sid", "fingerprint"), opts
        )

"""The stack's outputs (``pulumi stack output``): per line the URL its number's fallback points
at, and the deployment's ids that ``failover drift`` and the agents' commands read.

Split from ``infra.program`` to keep each module readable (under 400 lines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from infra.model import LinesConfig, Severity
from infra.routing import fallback_entry, sms_fallback_entry
from infra.stack import StackSettings

if TYPE_CHECKING:
    from infra.program import Deployment


def line_outputs(
    config: LinesConfig, severity: Severity, deployment: Deployment, *, sms: bool = False
) -> pulumi.Output[dict[str, str]]:
    """Per line: the URL its number's fallback (``sms``: SMS fallback, lines with ``sms`` only)
    points at, one Output from the environments' domains and flows' webhooks only. Everything
    else about a line is in ``failover plan --format json``: at 10,000 lines a nested output per
    line was 85% of the program's time."""
    envs = sorted(deployment.environments)
    flows = sorted(deployment.flows)

    def collect(values: list[Any]) -> dict[str, str]:
        domains = dict(zip(envs, values[: len(envs)], strict=True))
        webhooks = dict(zip(flows, values[len(envs) :], strict=True))
        entries = {
            line.id: sms_fallback_entry(line)
            if sms
            else fallback_entry(line, severity, config=config)
            for line in config.lines
        }
        return {key: e.resolve(domains, webhooks) for key, e in entries.items() if e is not None}

    return pulumi.Output.all(
        *(deployment.environments[e].domain_name for e in envs),
        *(deployment.flows[f].webhook_url for f in flows),
    ).apply(collect)


def export(config: LinesConfig, settings: StackSettings, deployment: Deployment) -> None:
    """The stack outputs that ``pulumi stack output`` users and the drift check read."""
    pulumi.export("lines", line_outputs(config, settings.severity, deployment))
    if any(line.sms is not None for line in config.lines):
        pulumi.export("sms", line_outputs(config, settings.severity, deployment, sms=True))
    pulumi.export("line_count", len(config.lines))
    pulumi.export("severity", settings.severity.value)
    pulumi.export("serverless_domain", deployment.documents.domain_name)
    pulumi.export(
        "serverless_domains",
        {env: docs.domain_name for env, docs in sorted(deployment.environments.items())},
    )
    pulumi.export("serverless_service_sid", deployment.documents.service_sid)
    # When each line's failover was deployed (the ledger's record): `failover diff --deployed`
    # reads it to apply the 24-hour rule before a test starts.
    pulumi.export("route_deployed_at", deployment.ledger.deployed_at)
    if deployment.queue is not None:
        pulumi.export(
            "taskrouter",
            {
                "workspace_sid": deployment.queue.workspace_sid,
                "workflow_sid": deployment.queue.workflow_sid,
            },
        )

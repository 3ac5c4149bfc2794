"""The program's ``PhoneNumberBatch`` resources: which lines each batch holds (by a hash of the
line's oldest id) and every line's inputs (``infra.program.build`` calls ``numbers``).

Split from ``infra.program`` to keep each module readable (under 400 lines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi

from infra.model import Line, LinesConfig, Severity
from infra.naming import number_batch
from infra.providers.phone_number_batch import (
    PhoneNumberBatch,
    PhoneNumberBatchArgs,
    env_binding,
    flow_binding,
    placeholder_host,
)
from infra.routing import fallback_entry, primary_entry, sms_fallback_entry
from infra.stack import StackSettings

if TYPE_CHECKING:
    from infra.program import Deployment


def _number_inputs(
    line: Line,
    config: LinesConfig,
    severity: Severity,
    domains: Mapping[str, str],
    webhooks: Mapping[str, str],
) -> dict[str, Any]:
    """The line's ``PhoneNumberFailoverArgs`` fields (test mode: the provider points the
    primary at the fallback entry, ``infra.routing.primary_entry``)."""
    entry = fallback_entry(line, severity, config=config)
    inputs: dict[str, Any] = {
        "phone_number": line.number,
        "fallback_url": entry.resolve(domains, webhooks),
        "fallback_method": entry.method,
        "test_mode": line.test,
    }
    queue_test = primary_entry(line, severity, config=config) if _queue_test(line) else None
    if queue_test is not None:
        # ``queue.test``: the primary is the line's queue entry (a GET document, or its queue
        # flow with alerts), whatever the stack's severity; removing the flag restores primary.
        inputs["primary_url"] = queue_test.resolve(domains, webhooks)
        inputs["primary_method"] = queue_test.method
    elif line.primary is not None:
        inputs["primary_url"] = line.primary
    sms = sms_fallback_entry(line)
    if sms is not None:  # only then: a line without `sms` leaves the number's SMS fields alone
        inputs["sms_fallback_url"] = sms.resolve(domains, webhooks)
        inputs["sms_fallback_method"] = sms.method
    return inputs


def _queue_test(line: Line) -> bool:
    return line.queue is not None and line.queue.test


def numbers(config: LinesConfig, settings: StackSettings, deployment: Deployment) -> None:
    """One ``PhoneNumberBatch`` per non-empty batch; each waits for every environment and flow
    its lines point at (all of them: a batch holds lines of every kind).

    Each line's inputs are plain values, its fallback URL with a placeholder host
    (``https://{env:fwd-03}/f/sales.xml``); ``bindings`` gives every placeholder's live value,
    one Output each. So a preview knows every line's inputs even while an environment it
    points at changes (that environment's domain is unknown until applied), and
    ``pulumi preview --diff`` shows the changed lines by id under ``lines``."""
    groups: dict[str, list[Line]] = {}
    for line in config.lines:
        # A renamed line stays in the batch of its oldest id, where its number's record is.
        groups.setdefault(number_batch(line.number_key), []).append(line)
    envs = sorted(deployment.environments)
    flows = sorted(deployment.flows)
    domains = {env: placeholder_host(env_binding(env)) for env in envs}
    webhooks = {flow: f"https://{placeholder_host(flow_binding(flow))}" for flow in flows}
    bindings: dict[str, pulumi.Output[str]] = {
        **{env_binding(e): deployment.environments[e].domain_name for e in envs},
        **{flow_binding(f): deployment.flows[f].webhook_url for f in flows},
    }
    depends: list[pulumi.Resource] = [*deployment.environments.values(), *deployment.flows.values()]
    for name, lines in sorted(groups.items()):
        renamed = {line.id: list(line.renamed_from) for line in lines if line.renamed_from}
        deployment.batches[name] = PhoneNumberBatch(
            name,
            PhoneNumberBatchArgs(
                lines={
                    line.id: _number_inputs(line, config, settings.severity, domains, webhooks)
                    for line in lines
                },
                bindings=bindings,
                renamed=renamed or None,
            ),
            # The batch's outputs hold each number's values found at adoption (to restore them
            # on removal), and a Console URL may carry user:password@: the whole `lines`
            # output is stored as a Pulumi secret (encrypted in state; only top-level outputs
            # can be, https://www.pulumi.com/docs/iac/concepts/resources/options/additionalsecretoutputs/).
            # The provider host declares acceptSecrets=False, so it still sees plain values.
            pulumi.ResourceOptions(depends_on=depends, additional_secret_outputs=["lines"]),
        )

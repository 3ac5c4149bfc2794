"""lines.yaml → Pulumi resources: the only module that creates resources.

Resources (docs/design/scale.md; about 60 for 10,000 lines) and their order: each depends on
what it points at, so a number's fallback moves only after its document exists; on removal
Pulumi deletes in reverse, so numbers are restored before documents go away:

    LineLedger "lines" (safety brake)
      → TwimlDocuments "documents-shared" (environment ``shared``: voicemail, goodbye and
        message documents shared by lines, and the Functions)
      → CallQueue "call-queue" (TaskRouter; only when a line has a queue) and
        AgentLinkSecret "agent-links" (the agents' page secret, a Serverless variable)
      → TwimlDocuments "documents-queues" (``/q/<id>.xml``) and "documents-fwd-NN"
        (``/f/<id>.xml``, 16 environments, by a hash of the line id)
      → StudioFlow (only with ``alerts.webhook``)
      → PhoneNumberBatch "numbers-NN" (40 batches, by a hash of the line id)

Logical names derive from line ids or fixed names, never list positions or counts.
``PhoneNumberBatch`` deliberately carries neither ``protect`` nor ``retain_on_delete``:
removing a line from a batch (or deleting a batch) *is* the restore of its numbers' original
voice settings (it never releases a number). Removals are stopped by the ledger's brake
until ``failover:allowRemovals`` is set for that run. See README "Running it for real".
Must not import: twilio.rest, infra.lines.load (except in ``main``), infra.cli.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra import stack
from infra.errors import InfraError
from infra.model import Line, LinesConfig, Severity
from infra.naming import (
    ASSIGNMENT_PATH,
    QUEUE_ENV,
    SHARED_ENV,
    forward_env,
    number_batch,
    service_unique_name,
    workflow_name,
    workspace_name,
)
from infra.providers.agent_link_secret import AgentLinkSecret
from infra.providers.call_queue import CallQueue, CallQueueArgs
from infra.providers.line_ledger import LineLedger
from infra.providers.phone_number_batch import PhoneNumberBatch, PhoneNumberBatchArgs
from infra.providers.studio_flow import StudioFlow, StudioFlowArgs
from infra.providers.twiml_documents import TwimlDocuments, TwimlDocumentsArgs
from infra.render.artifacts import canonical_json
from infra.render.bindings import Bindings, bind
from infra.render.functions import render_functions
from infra.render.studio import FlowSpec, flow_specs, render_flow
from infra.render.taskrouter import RESERVATION_TIMEOUT_S, target_workers, worker_attributes
from infra.render.twiml import render_environments
from infra.routing import (
    capacity_problems,
    fallback_entry,
    primary_entry,
    route_fingerprint,
)
from infra.stack import StackSettings


@dataclass(slots=True)
class Deployment:
    """Every resource ``build`` created, by role, for tests and exports."""

    ledger: LineLedger
    documents: TwimlDocuments
    """The ``shared`` environment (Functions and shared documents)."""
    queue: CallQueue | None
    environments: dict[str, TwimlDocuments] = field(default_factory=dict)
    """Every document environment by name, ``shared`` included."""
    flows: dict[str, StudioFlow] = field(default_factory=dict)
    batches: dict[str, PhoneNumberBatch] = field(default_factory=dict)


def _environment(
    name: str,
    config: LinesConfig,
    settings: StackSettings,
    documents: pulumi.Input[dict[str, str]],
    depends: list[pulumi.Resource],
    functions: dict[str, str] | None = None,
) -> TwimlDocuments:
    return TwimlDocuments(
        f"documents-{name}",
        TwimlDocumentsArgs(
            service_name=service_unique_name(config.account, settings.stack),
            friendly_name=f"{config.account} failover ({settings.stack})",
            environment=name,
            documents=documents,
            functions=functions or {},
            include_credentials=bool(functions),
        ),
        pulumi.ResourceOptions(depends_on=depends),
    )


def build(config: LinesConfig, settings: StackSettings) -> Deployment:
    """Declare every resource for ``config``; returns them (nothing is exported here)."""
    problems = capacity_problems(config)
    if problems:
        raise pulumi.RunError("; ".join(problems))
    ledger = LineLedger(
        "lines",
        account=config.account,
        routes={line.id: route_fingerprint(line, config) for line in config.lines},
        max_change_share=settings.max_change_share,
        allow_removals=settings.allow_removals,
        force=settings.force,
    )
    # Rendered once with placeholders; each environment fills in the deploy-time values it
    # embeds (the shared domain, the workflow SID) when they are known: rendering 10,000
    # documents per environment was most of the program's time.
    planned = render_environments(config)
    shared = _environment(
        SHARED_ENV, config, settings, planned[SHARED_ENV], [ledger], render_functions(config)
    )
    queue = _call_queue(config, shared) if config.queued_lines else None
    if queue is not None:
        # The agents' page (/agents, in ``shared``) checks links against this variable.
        AgentLinkSecret(
            "agent-links",
            service_sid=shared.service_sid,
            environment_sid=shared.environment_sid,
            opts=pulumi.ResourceOptions(depends_on=[shared]),
        )
    deployment = Deployment(ledger=ledger, documents=shared, queue=queue)
    deployment.environments[SHARED_ENV] = shared
    for env, placeholders in planned.items():
        if env == SHARED_ENV:
            continue
        depends: list[pulumi.Resource] = [shared]
        inputs: list[Any] = [shared.domain_name]
        if env == QUEUE_ENV and queue is not None:
            depends.append(queue)
            inputs.append(queue.workflow_sid)

        def documents(values: list[Any], docs: dict[str, str] = placeholders) -> dict[str, str]:
            bindings = Bindings(
                domain_name=values[0], **({"workflow_sid": values[1]} if len(values) > 1 else {})
            )
            return {path: bind(text, bindings) for path, text in docs.items()}

        deployment.environments[env] = _environment(
            env, config, settings, pulumi.Output.all(*inputs).apply(documents), depends
        )
    for spec in flow_specs(config):
        forwarding = (
            deployment.environments[forward_env(spec.line.id)]
            if spec.line.forward_confirm and not spec.key.endswith(".queue")
            else None
        )
        deployment.flows[spec.name] = _flow(spec, config, shared, queue, forwarding)
    _numbers(config, settings, deployment)
    return deployment


def _call_queue(config: LinesConfig, documents: TwimlDocuments) -> CallQueue:
    queues = {
        line.id: {"target_workers": target_workers(line.id), "timeout_s": line.queue.timeout_s}
        for line in config.queued_lines
        if line.queue is not None
    }
    # ``duty`` applies when the worker is created, never afterwards (the provider records it
    # and leaves a live worker's activity alone: the agent's own choice wins).
    workers = {
        agent.id: {
            "attributes": worker_attributes(config, agent),
            "initial_activity": "on_duty" if agent.on_duty else "off_duty",
        }
        for agent in config.agents
    }
    return CallQueue(
        "call-queue",
        CallQueueArgs(
            workspace_name=workspace_name(config.account),
            workflow_name=workflow_name(config.account),
            queues=queues,
            workers=workers,
            assignment_callback_url=documents.urls.apply(lambda urls: urls[ASSIGNMENT_PATH]),
            task_reservation_timeout=RESERVATION_TIMEOUT_S,
        ),
        pulumi.ResourceOptions(depends_on=[documents]),
    )


def _flow(
    spec: FlowSpec,
    config: LinesConfig,
    documents: TwimlDocuments,
    queue: CallQueue | None,
    forwarding: TwimlDocuments | None = None,
) -> StudioFlow:
    alerts = config.alerts_webhook is not None
    uses_queue = queue is not None and spec.line.queue is not None and spec.key.endswith(".queue")

    def definition(values: list[Any]) -> str:
        domain, workflow_sid, on_duty_sid = (values + [None, None])[:3]
        bindings = Bindings(
            domain_name=domain,
            **(
                {"workflow_sid": workflow_sid, "on_duty_activity_sid": on_duty_sid}
                if uses_queue
                else {}
            ),
            **({"forward_domain": values[-1]} if forwarding is not None else {}),
        )
        return canonical_json(
            render_flow(
                spec.line, spec.severity, alerts=alerts, bindings=bindings, paths=spec.paths
            )
        )

    inputs: list[Any] = [documents.domain_name]
    depends: list[pulumi.Resource] = [documents]
    if uses_queue and queue is not None:
        inputs += [queue.workflow_sid, queue.on_duty_activity_sid]
        depends.append(queue)
    if forwarding is not None:
        inputs.append(forwarding.domain_name)
        depends.append(forwarding)
    return StudioFlow(
        spec.key,
        StudioFlowArgs(
            line=spec.line.id,
            friendly_name=spec.name,
            definition=pulumi.Output.all(*inputs).apply(definition),
        ),
        pulumi.ResourceOptions(depends_on=depends),
    )


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
    return inputs


def _queue_test(line: Line) -> bool:
    return line.queue is not None and line.queue.test


def _numbers(config: LinesConfig, settings: StackSettings, deployment: Deployment) -> None:
    """One ``PhoneNumberBatch`` per non-empty batch; each waits for every environment and flow
    its lines point at (all of them: a batch holds lines of every kind)."""
    groups: dict[str, list[Line]] = {}
    for line in config.lines:
        groups.setdefault(number_batch(line.id), []).append(line)
    envs = sorted(deployment.environments)
    flows = sorted(deployment.flows)
    resolved = pulumi.Output.all(
        *(deployment.environments[e].domain_name for e in envs),
        *(deployment.flows[f].webhook_url for f in flows),
    )
    depends: list[pulumi.Resource] = [*deployment.environments.values(), *deployment.flows.values()]
    for name, lines in sorted(groups.items()):

        def batch(values: list[Any], lines: list[Line] = lines) -> dict[str, Any]:
            domains = dict(zip(envs, values[: len(envs)], strict=True))
            webhooks = dict(zip(flows, values[len(envs) :], strict=True))
            return {
                line.id: _number_inputs(line, config, settings.severity, domains, webhooks)
                for line in lines
            }

        deployment.batches[name] = PhoneNumberBatch(
            name,
            PhoneNumberBatchArgs(lines=resolved.apply(batch)),
            pulumi.ResourceOptions(depends_on=depends),
        )


def line_outputs(
    config: LinesConfig, severity: Severity, deployment: Deployment
) -> pulumi.Output[dict[str, str]]:
    """Per line: the URL its number's fallback points at (one Output, from the environments'
    domains and flows' webhooks only). Everything else about a line is in ``failover plan
    --format json``: at 10,000 lines a nested output per line was 85% of the program's time."""
    envs = sorted(deployment.environments)
    flows = sorted(deployment.flows)

    def collect(values: list[Any]) -> dict[str, str]:
        domains = dict(zip(envs, values[: len(envs)], strict=True))
        webhooks = dict(zip(flows, values[len(envs) :], strict=True))
        return {
            line.id: fallback_entry(line, severity, config=config).resolve(domains, webhooks)
            for line in config.lines
        }

    return pulumi.Output.all(
        *(deployment.environments[e].domain_name for e in envs),
        *(deployment.flows[f].webhook_url for f in flows),
    ).apply(collect)


def export(config: LinesConfig, settings: StackSettings, deployment: Deployment) -> None:
    """The stack outputs that ``pulumi stack output`` users and the drift check read."""
    pulumi.export("lines", line_outputs(config, settings.severity, deployment))
    pulumi.export("line_count", len(config.lines))
    pulumi.export("severity", settings.severity.value)
    pulumi.export("serverless_domain", deployment.documents.domain_name)
    pulumi.export(
        "serverless_domains",
        {env: docs.domain_name for env, docs in sorted(deployment.environments.items())},
    )
    pulumi.export("serverless_service_sid", deployment.documents.service_sid)
    if deployment.queue is not None:
        pulumi.export(
            "taskrouter",
            {
                "workspace_sid": deployment.queue.workspace_sid,
                "workflow_sid": deployment.queue.workflow_sid,
            },
        )


def read_settings() -> StackSettings:
    """Stack settings from ``failover:*`` config (``infra.stack``, the one reader)."""
    failover = pulumi.Config("failover")
    try:
        return stack.stack_settings(pulumi.get_stack(), lambda key: failover.get(key.split(":")[1]))
    except InfraError as exc:
        raise pulumi.RunError(str(exc)) from None


def check_credentials(environ: Mapping[str, str] | None = None) -> None:
    """Fail early when the providers could not log in; checks presence only, never values.

    The same rule the providers and the CLI apply (``infra.stack.credential_problem``). The
    providers read the credentials themselves in ``configure()``; the program never touches
    the secret (``get_secret`` only tells whether the key is set).
    """
    import os

    twilio = pulumi.Config("twilio")
    problem = stack.credential_problem(
        lambda key: twilio.get_secret(key.split(":")[1]), os.environ if environ is None else environ
    )
    if problem == "half-key":
        raise pulumi.RunError(
            "incomplete API key: set both twilio:apiKeySid and twilio:apiKeySecret (secret)"
        )
    if problem is not None:
        missing = "twilio:accountSid" if problem == "no-account" else "twilio:authToken"
        raise pulumi.RunError(
            f"missing Twilio credentials: {missing}. Set them with "
            "`pulumi config set twilio:accountSid AC...` and `pulumi config set --secret twilio:authToken`"
        )


def main() -> None:
    """The Pulumi program: load lines.yaml like the CLI does, then build and export."""
    from pathlib import Path

    from infra.errors import ConfigError
    from infra.lines.load import load_config

    settings = read_settings()
    lines_file = settings.lines_file
    try:
        config, warnings = load_config(Path(lines_file), lines_file)
    except ConfigError as exc:
        raise pulumi.RunError("\n".join(str(d) for d in exc.diagnostics)) from None
    for warning in warnings:
        pulumi.log.warn(str(warning))
    check_credentials()
    export(config, settings, build(config, settings))

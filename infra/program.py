"""lines.yaml → Pulumi resources: the only module that creates resources.

Resources and their order (each depends on the previous, so a number's fallback moves only
after what it points to exists; on removal Pulumi deletes in reverse, so a number is
restored before the flow or document it pointed at goes away):

    LineLedger (safety brake) → TwimlDocuments (Serverless: TwiML + Functions)
      → CallQueue (TaskRouter; only when a line has a queue) → StudioFlow (per flow)
      → PhoneNumberFailover (per line)

Logical names derive from line ids, never list positions; a renamed line needs an alias.
``PhoneNumberFailover`` deliberately carries neither ``protect`` nor ``retain_on_delete``:
its delete *is* the restore of the number's original voice settings (it never releases
a number), and either option would skip it. Removals are stopped instead by the ledger's
brake until ``failover:allowRemovals`` is set for that run. See README "Running it for real".
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
from infra.naming import ASSIGNMENT_PATH, service_unique_name, workflow_name, workspace_name
from infra.providers.call_queue import CallQueue, CallQueueArgs
from infra.providers.line_ledger import LineLedger
from infra.providers.phone_number import PhoneNumberFailover, PhoneNumberFailoverArgs
from infra.providers.studio_flow import StudioFlow, StudioFlowArgs
from infra.providers.twiml_documents import TwimlDocuments, TwimlDocumentsArgs
from infra.render.artifacts import canonical_json, render_assets
from infra.render.bindings import Bindings
from infra.render.functions import render_functions
from infra.render.studio import FlowSpec, flow_specs, render_flow
from infra.render.taskrouter import RESERVATION_TIMEOUT_S, target_workers, worker_attributes
from infra.routing import Entry, EntryKind, fallback_entry, route_fingerprint
from infra.stack import StackSettings


@dataclass(slots=True)
class Deployment:
    """Every resource ``build`` created, by role, for tests and exports."""

    ledger: LineLedger
    documents: TwimlDocuments
    queue: CallQueue | None
    flows: dict[str, StudioFlow] = field(default_factory=dict)
    numbers: dict[str, PhoneNumberFailover] = field(default_factory=dict)


def build(config: LinesConfig, settings: StackSettings) -> Deployment:
    """Declare every resource for ``config``; returns them (nothing is exported here)."""
    ledger = LineLedger(
        "lines",
        account=config.account,
        routes={line.id: route_fingerprint(line, config) for line in config.lines},
        max_change_share=settings.max_change_share,
        allow_removals=settings.allow_removals,
        force=settings.force,
    )
    documents = TwimlDocuments(
        "documents",
        TwimlDocumentsArgs(
            service_name=service_unique_name(config.account, settings.stack),
            friendly_name=f"{config.account} failover ({settings.stack})",
            documents=render_assets(config),
            functions=render_functions(config),
        ),
        pulumi.ResourceOptions(depends_on=[ledger]),
    )
    queue = _call_queue(config, documents) if config.queued_lines else None
    deployment = Deployment(ledger=ledger, documents=documents, queue=queue)
    for spec in flow_specs(config):
        deployment.flows[spec.name] = _flow(spec, config, documents, queue)
    for line in config.lines:
        deployment.numbers[line.id] = _number(line, config, settings.severity, deployment)
    return deployment


def _call_queue(config: LinesConfig, documents: TwimlDocuments) -> CallQueue:
    queues = {
        line.id: {"target_workers": target_workers(line.id), "timeout_s": line.queue.timeout_s}
        for line in config.queued_lines
        if line.queue is not None
    }
    workers = {
        agent.id: {"attributes": worker_attributes(config, agent), "initial_activity": "on_duty"}
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
    spec: FlowSpec, config: LinesConfig, documents: TwimlDocuments, queue: CallQueue | None
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
        )
        return canonical_json(
            render_flow(spec.line, spec.severity, alerts=alerts, bindings=bindings)
        )

    inputs: list[Any] = [documents.domain_name]
    depends: list[pulumi.Resource] = [documents]
    if uses_queue and queue is not None:
        inputs += [queue.workflow_sid, queue.on_duty_activity_sid]
        depends.append(queue)
    return StudioFlow(
        spec.key,
        StudioFlowArgs(
            line=spec.line.id,
            friendly_name=spec.name,
            definition=pulumi.Output.all(*inputs).apply(definition),
        ),
        pulumi.ResourceOptions(depends_on=depends),
    )


def _resolve(entry: Entry, deployment: Deployment) -> pulumi.Output[str]:
    if entry.kind is EntryKind.FLOW:
        return deployment.flows[entry.ref].webhook_url
    return deployment.documents.domain_name.apply(lambda domain: entry.resolve(domain, {}))


def _number(
    line: Line, config: LinesConfig, severity: Severity, deployment: Deployment
) -> PhoneNumberFailover:
    entry = fallback_entry(line, severity, config=config)
    depends: list[pulumi.Resource] = [deployment.documents]
    if entry.kind is EntryKind.FLOW:
        depends.append(deployment.flows[entry.ref])
    return PhoneNumberFailover(
        line.id,
        PhoneNumberFailoverArgs(
            line=line.id,
            phone_number=line.number,
            fallback_url=_resolve(entry, deployment),
            fallback_method=entry.method,
            primary_url=line.primary,
            test_mode=line.test,
        ),
        pulumi.ResourceOptions(depends_on=depends),
    )


def line_outputs(config: LinesConfig, severity: Severity, deployment: Deployment) -> dict[str, Any]:
    """Per line: number, primary, fallback URL and method, failover kind, test flag."""
    out: dict[str, Any] = {}
    for line in config.lines:
        entry = fallback_entry(line, severity, config=config)
        number = deployment.numbers[line.id]
        out[line.id] = {
            "number": line.number,
            "number_sid": number.sid,
            "primary": line.primary,
            "fallback_url": number.voice_fallback_url,
            "fallback_method": entry.method,
            "entry": entry.kind.value,
            "failover": [step.kind.value for step in line.failover_chain(severity)],
            "test": line.test,
        }
    return out


def export(config: LinesConfig, settings: StackSettings, deployment: Deployment) -> None:
    """The stack outputs that ``pulumi stack output`` users and the drift check read."""
    pulumi.export("lines", line_outputs(config, settings.severity, deployment))
    pulumi.export("severity", settings.severity.value)
    pulumi.export("serverless_domain", deployment.documents.domain_name)
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

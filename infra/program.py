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
      → PhoneNumberBatch "numbers-NN" (40 batches, by a hash of the line id; a renamed
        line by its oldest id, ``Line.number_key``, so its number's record stays put)
      → DestroyGuard "destroy-guard" (depends on everything; protected unless
        ``failover:allowDestroy``, so ``pulumi destroy``, which never runs this program,
        stops before any number is touched)

Logical names derive from line ids or fixed names, never list positions or counts; a
renamed line (``renamed_from``) keeps its flows through ``pulumi.Alias``.
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
from infra.batches import numbers as _numbers
from infra.errors import InfraError
from infra.model import LinesConfig
from infra.naming import (
    ASSIGNMENT_PATH,
    QUEUE_ENV,
    QUEUE_FLOW_SUFFIX,
    SHARED_ENV,
    flow_key,
    forward_env,
    service_unique_name,
    workflow_name,
    workspace_name,
)
from infra.outputs import export
from infra.providers.agent_link_secret import AgentLinkSecret
from infra.providers.call_queue import CallQueue, CallQueueArgs
from infra.providers.destroy_guard import DestroyGuard
from infra.providers.line_ledger import LineLedger
from infra.providers.phone_number_batch import (
    PhoneNumberBatch,
)
from infra.providers.studio_flow import StudioFlow, StudioFlowArgs
from infra.providers.twiml_documents import TwimlDocuments, TwimlDocumentsArgs, file_reference
from infra.render.artifacts import canonical_json
from infra.render.bindings import Bindings, bind
from infra.render.functions import render_functions
from infra.render.studio import FlowSpec, flow_specs, render_flow
from infra.render.taskrouter import RESERVATION_TIMEOUT_S, target_workers, worker_attributes
from infra.render.twiml import render_environments
from infra.routing import (
    audio_assets,
    capacity_problems,
    failover_fingerprint,
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
    others: list[pulumi.Resource] = field(default_factory=list)
    """Resources without a role above (the agents' link secret)."""
    guard: DestroyGuard | None = None


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
        failovers={line.id: failover_fingerprint(line) for line in config.lines},
        max_change_share=settings.max_change_share,
        allow_removals=settings.allow_removals,
        force=settings.force,
        renamed={line.id: list(line.renamed_from) for line in config.lines if line.renamed_from},
        homes={line.id: line.number_key for line in config.lines if line.renamed_from},
    )
    # Rendered once with placeholders; each environment fills in the deploy-time values it
    # embeds (the shared domain, the workflow SID) when they are known: rendering 10,000
    # documents per environment was most of the program's time.
    planned = render_environments(config)
    # Recordings from the repository go next to the documents (read at upload, by reference).
    recordings = {p: file_reference(f.sha256, f.location) for p, f in audio_assets(config).items()}
    shared = _environment(
        SHARED_ENV,
        config,
        settings,
        {**planned[SHARED_ENV], **recordings},
        [ledger],
        render_functions(config),
    )
    queue = _call_queue(config, shared) if config.queued_lines else None
    deployment = Deployment(ledger=ledger, documents=shared, queue=queue)
    if queue is not None:
        # The agents' page (/agents, in ``shared``) checks links against this variable.
        link_secret = AgentLinkSecret(
            "agent-links",
            service_sid=shared.service_sid,
            environment_sid=shared.environment_sid,
            opts=pulumi.ResourceOptions(depends_on=[shared]),
        )
        deployment.others.append(link_secret)
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
    # Last, depending on everything: `pulumi destroy` deletes it first and stops there while
    # it is protected (infra/providers/destroy_guard.py; README "Running it for real").
    deployment.guard = DestroyGuard(
        "destroy-guard",
        pulumi.ResourceOptions(
            depends_on=[
                ledger,
                *deployment.environments.values(),
                *([queue] if queue is not None else []),
                *deployment.flows.values(),
                *deployment.batches.values(),
                *deployment.others,
            ],
            protect=not settings.allow_destroy,
        ),
    )
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
    # A renamed line's flows keep their Pulumi identity (and Studio SID, so the number's
    # fallback URL, the flow's webhook, does not change): the flow is renamed in place.
    # https://www.pulumi.com/docs/iac/concepts/resources/options/aliases/
    queued = spec.key.endswith(QUEUE_FLOW_SUFFIX)
    aliases = [pulumi.Alias(name=flow_key(old, queued=queued)) for old in spec.line.renamed_from]
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
        pulumi.ResourceOptions(depends_on=depends, aliases=aliases or None),
    )


def read_settings() -> StackSettings:
    """Stack settings from ``failover:*`` config (``infra.stack``, the one reader)."""
    failover = pulumi.Config("failover")
    try:
        return stack.stack_settings(pulumi.get_stack(), lambda key: failover.get(key.split(":")[1]))
    except InfraError as exc:
        raise pulumi.RunError(str(exc)) from None


def config_value(key: str) -> Any:
    """A full config key (``failover:accountSid``) of this stack, or None: the program's getter
    for ``infra.stack`` (the providers get the same config in ``configure()``, the CLI reads
    the plain part of ``Pulumi.<stack>.yaml``)."""
    from pulumi.runtime.config import get_config

    return get_config(key)


def check_credentials(environ: Mapping[str, str] | None = None) -> None:
    """Fail early when the providers could not log in, by the rule the providers and the CLI
    apply (``infra.stack.twilio_settings``). The resolved settings are dropped at once:
    nothing of them reaches a resource, an output or a log, and errors name keys only.

    Not called in a preview (``main``): no provider's check or diff calls Twilio, so a
    preview needs no Twilio credentials.
    """
    import os

    settings = stack.twilio_settings(config_value, os.environ if environ is None else environ)
    if isinstance(settings, str):
        raise pulumi.RunError(
            f"{settings}. Set them with `pulumi config set failover:accountSid AC...` and "
            "`pulumi config set --secret failover:authToken`"
            if settings.startswith("missing")
            else settings
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
    for deprecated in stack.deprecated_key_warnings(config_value):
        pulumi.log.warn(deprecated)
    # A preview runs only the providers' check and diff, which never call Twilio, so it
    # needs no credentials: the pull-request workflow previews without them (README "CI for
    # your repository"). ``is_dry_run`` is true for `pulumi preview` and the preview phase of
    # `pulumi up` (the SDK's docstring: "whether or not we are currently doing a preview";
    # https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/pulumi/functions/runtime.isDryRun.html).
    if not pulumi.runtime.is_dry_run():
        check_credentials()
    export(config, settings, build(config, settings))

"""A deployed 0.2 stack, built with the providers that still exist, and its checkpoint.

0.2's program cannot be imported from this tree, so its state is made by registering what
``v0.2.0:infra/program.py`` registered: the ledger (fingerprints without the formula prefix),
one ``TwimlDocuments`` "documents" in environment ``failover`` holding per-line
``/lines/<id>/…`` documents, a ``StudioFlow`` per line whose chain has more than one step, and
one ``PhoneNumberFailover`` per line. ``to_export``/``from_export`` convert the engine model's
state to and from what ``pulumi stack export`` prints (deployment version 3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from infra.model import LinesConfig, Severity, TargetKind
from infra.naming import (
    ASSIGNMENT_PATH,
    ENVIRONMENT,
    flow_key,
    flow_name,
    goodbye_path,
    message_path,
    service_unique_name,
    voicemail_path,
    workflow_name,
    workspace_name,
)
from infra.providers.call_queue import CallQueueProvider
from infra.providers.line_ledger import LineLedgerProvider
from infra.providers.phone_number import PhoneNumberFailoverProvider
from infra.providers.studio_flow import StudioFlowProvider
from infra.providers.twiml_documents import TwimlDocumentsProvider
from infra.render.artifacts import canonical_json
from infra.render.bindings import Bindings
from infra.render.functions import render_functions
from infra.render.studio import render_flow
from infra.render.taskrouter import RESERVATION_TIMEOUT_S, target_workers, worker_attributes
from infra.render.twiml import render_goodbye, render_message, render_voicemail
from infra.routing import LinePaths
from tests.harness.engine import Registration, State
from tests.harness.host import provider_string
from tests.harness.program_engine import PROJECT, STACK

T = "pulumi-python:dynamic/"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:pulumi-python::default"
PROVIDER_REF = f"{PROVIDER_URN}::8a1f4c0e-5b2d-4e8f-9c3a-1d2e3f4a5b6c"


# -- 0.2's resources, registered with the providers that still exist ---------------------


def _kinds(line: Any) -> set[TargetKind]:
    return {t.kind for s in Severity for t in line.failover_chain(s)}


def _legacy_documents(config: LinesConfig) -> dict[str, str]:
    """0.2's per-line documents (``v0.2.0:infra/render/twiml.py`` ``render_documents``)."""
    documents: dict[str, str] = {}
    for line in config.lines:
        vm, kinds = line.voicemail, _kinds(line)
        if TargetKind.VOICEMAIL in kinds:
            documents[voicemail_path(line.id)] = render_voicemail(vm, goodbye_path(line.id))
            documents[goodbye_path(line.id)] = render_goodbye(vm.voice, vm.language)
        if TargetKind.MESSAGE in kinds and line.message:
            documents[message_path(line.id)] = render_message(line.message, vm.voice, vm.language)
    return dict(sorted(documents.items()))


def legacy_flows(config: LinesConfig) -> dict[str, tuple[Any, Severity]]:
    """0.2's flows: every line whose chain at a severity has more than one step."""
    flows: dict[str, tuple[Any, Severity]] = {}
    for line in config.lines:
        for severity in Severity:
            chain = line.failover_chain(severity)
            if len(chain) > 1:
                queued = chain[0].kind is TargetKind.QUEUE
                flows.setdefault(flow_key(line.id, queued=queued), (line, severity))
    return flows


def _legacy_entry(line: Any, config: LinesConfig, out: Mapping[str, Any]) -> tuple[str, str]:
    """0.2's ``fallback_entry`` at minor severity, resolved: (url, method)."""
    chain = line.failover_chain(Severity.MINOR)
    if len(chain) > 1:
        queued = chain[0].kind is TargetKind.QUEUE
        return out[flow_key(line.id, queued=queued)]["webhook_url"], "POST"
    (only,) = chain
    if only.kind is TargetKind.URL:
        return only.to, "POST"
    path = message_path(line.id) if only.kind is TargetKind.MESSAGE else voicemail_path(line.id)
    return f"https://{out['documents']['domain_name']}{path}", "GET"


def legacy_registrations(config: LinesConfig) -> list[Registration]:
    def p(provider: object) -> str:
        return provider_string(provider)

    account = config.account
    regs = [
        Registration(
            T + "failover:LineLedger",
            "lines",
            {
                "__provider": p(LineLedgerProvider()),
                "account": account,
                # 0.2 fingerprints had no formula prefix (infra.routing.FINGERPRINT_VERSION)
                "routes": {
                    ln.id: hashlib.sha256(ln.id.encode()).hexdigest()[:16] for ln in config.lines
                },
                "max_change_share": 0.3,
                "allow_removals": False,
                "force": False,
            },
        ),
        Registration(
            T + "twilio:TwimlDocuments",
            "documents",
            {
                "__provider": p(TwimlDocumentsProvider()),
                "service_name": service_unique_name(account, STACK),
                "friendly_name": f"{account} failover ({STACK})",
                "environment": ENVIRONMENT,
                "documents": _legacy_documents(config),
                "functions": render_functions(config),
            },
        ),
        Registration(
            T + "twilio:CallQueue",
            "call-queue",
            lambda out: {
                "__provider": p(CallQueueProvider()),
                "workspace_name": workspace_name(account),
                "workflow_name": workflow_name(account),
                "queues": {
                    ln.id: {
                        "target_workers": target_workers(ln.id),
                        "timeout_s": ln.queue.timeout_s,
                    }
                    for ln in config.queued_lines
                    if ln.queue is not None
                },
                "workers": {
                    a.id: {
                        "attributes": worker_attributes(config, a),
                        "initial_activity": "on_duty",
                    }
                    for a in config.agents
                },
                "assignment_callback_url": out["documents"]["urls"][ASSIGNMENT_PATH],
                "task_reservation_timeout": RESERVATION_TIMEOUT_S,
            },
        ),
    ]
    for key, (line, severity) in legacy_flows(config).items():

        def flow(out: Mapping[str, Any], key: str = key, line: Any = line, sev: Any = severity):
            queue = out["call-queue"] if key.endswith(".queue") else {}
            bindings = Bindings(
                domain_name=out["documents"]["domain_name"],
                **(
                    {
                        "workflow_sid": queue["workflow_sid"],
                        "on_duty_activity_sid": queue["on_duty_activity_sid"],
                    }
                    if queue
                    else {}
                ),
            )
            paths = LinePaths(voicemail_path(line.id), goodbye_path(line.id), message_path(line.id))
            definition = render_flow(line, sev, alerts=False, bindings=bindings, paths=paths)
            return {
                "__provider": p(StudioFlowProvider()),
                "line": line.id,
                "friendly_name": flow_name(account, line.id, queued=key.endswith(".queue")),
                "definition": canonical_json(definition),
            }

        regs.append(Registration(T + "twilio:StudioFlow", key, flow))
    for line in config.lines:

        def phone(out: Mapping[str, Any], line: Any = line) -> dict[str, Any]:
            url, method = _legacy_entry(line, config, out)
            inputs = {
                "__provider": p(PhoneNumberFailoverProvider()),
                "line": line.id,
                "phone_number": line.number,
                "fallback_url": url,
                "fallback_method": method,
                "test_mode": line.test,
            }
            if line.primary is not None:
                inputs["primary_url"] = line.primary
            return inputs

        regs.append(Registration(T + "twilio:PhoneNumberFailover", line.id, phone))
    return regs


# -- engine state <-> `pulumi stack export` ----------------------------------------------


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def to_export(state: State) -> dict[str, Any]:
    """The checkpoint ``pulumi stack export`` would print for ``state`` (0.2's dependencies)."""
    urns = {(res["type"].rsplit(":", 1)[-1], _name(urn)): urn for urn, res in state.items()}
    resources: list[dict[str, Any]] = [
        {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {
            "urn": PROVIDER_URN,
            "custom": True,
            "id": PROVIDER_REF.rsplit("::", 1)[-1],
            "type": "pulumi:providers:pulumi-python",
        },
    ]
    for urn, res in state.items():
        name, kind = _name(urn), res["type"].rsplit(":", 1)[-1]
        docs = ("TwimlDocuments", "documents")
        deps = {
            "LineLedger": [],
            "TwimlDocuments": [("LineLedger", "lines")],
            "CallQueue": [docs],
            "StudioFlow": [docs, ("CallQueue", "call-queue")]
            if name.endswith(".queue")
            else [docs],
            "PhoneNumberFailover": [docs, ("StudioFlow", name), ("StudioFlow", f"{name}.queue")],
        }[kind]
        resources.append(
            {
                "urn": urn,
                "custom": True,
                "id": res["id"],
                "type": res["type"],
                "inputs": res["inputs"],
                "outputs": res["outputs"],
                "parent": STACK_URN,
                "provider": PROVIDER_REF,
                "dependencies": [urns[d] for d in deps if d in urns],
            }
        )
    deployment = {"manifest": {"version": "v3.272.0"}, "resources": resources}
    return {"version": 3, "deployment": deployment}


def from_export(checkpoint: Mapping[str, Any]) -> State:
    """What the engine model keeps of a checkpoint: the dynamic resources, in order."""
    state: State = {}
    for r in checkpoint["deployment"]["resources"]:
        if r["type"].startswith(T):
            state[r["urn"]] = {
                "type": r["type"],
                "id": r["id"],
                "inputs": r["inputs"],
                "outputs": r["outputs"],
                "protect": bool(r.get("protect")),
                "retain_on_delete": bool(r.get("retainOnDelete")),
            }
    return state


def alert_flow_rule(monkeypatch: Any) -> None:
    """0.2's entry rule: with ``alerts.webhook`` every line entered through a Studio flow.

    Alerts left the caller's path since (``failover status --notify``), so only stacks deployed
    by 0.2 still have those flows, until their next ``pulumi up``; tests of what the tool does
    with such flows (check walks them, preview needs no credentials, a rename keeps them
    through aliases) deploy them under this rule (``monkeypatch``: pytest's fixture)."""
    from infra import routing
    from infra.render import studio

    def legacy(line: Any, severity: Any, *, alerts: bool) -> bool:
        return alerts

    for module in (routing, studio):
        monkeypatch.setattr(module, "needs_flow", legacy)

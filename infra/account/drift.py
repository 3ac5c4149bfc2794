"""Compare what a deployed stack should hold with what the live Twilio account holds.

Pure: a config and a ``Snapshot`` of the account (read by ``infra.account.live``) in, a list of
``Finding`` out. Expected values come from the functions the Pulumi program uses
(``fallback_entry``, ``primary_entry``, ``flow_specs``/``render_flow``, ``target_workers``),
bound to the live Serverless domain and TaskRouter SIDs, so nothing about a line's failover
is re-derived here. Compared:

- per line: the number exists and is not bound to a TwiML Application or SIP Trunk (Twilio
  then ignores its fallback); ``voice_fallback_url``/``_method``; ``voice_url``/``_method``
  where the line manages its primary (declared ``primary``, or test mode: the failover
  entry); a number with neither a voice URL nor a declared primary (21405);
- per line with ``sms``: ``sms_fallback_url``/``_method`` (``sms_fallback_entry``); a number
  without an SMS URL (21406) or bound to an SMS application (its URLs are used instead);
- Studio flows, canonically (sorted keys, states by name, UI offsets dropped), naming the
  states that differ; a flow that is not published;
- call queues: each queued line's task queue and ``target_workers``, which agents serve it
  (worker attribute ``lines``), each agent's ``contact_uri``;
- forward, forwarding and agent numbers that are numbers of this account, not outside ones.

Before the stack's first ``pulumi up`` (no Serverless service yet) a live fallback or managed
primary that is not one of this tool's documents or flows is what the first ``up`` replaces:
it is reported as such, with what replaces it (issue 16, item 8), so adopting an existing
account is never silent. ``pulumi preview`` cannot say it (providers' ``check``/``diff`` make
no Twilio request; README "Your first hour").

Flow webhook URLs compare by host and path (Twilio's examples use http://, real ones
https://; twilio.md §1.1); every other value compares exactly, methods case-insensitively.
Must not import: pulumi, twilio, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from infra.account.live import (
    LiveFlow,
    LiveNumber,
    LiveTaskRouter,
    Progress,
    deployed_paths,
    domains_of,
    read_flows,
    read_numbers,
    read_taskrouter,
    stack_service,
)
from infra.model import Line, LinesConfig, Severity
from infra.naming import (
    SHARED_ENV,
    document_in,
    flow_sid_in,
    forward_env,
    workflow_name,
    workspace_name,
)
from infra.render.bindings import PLACEHOLDERS, Bindings
from infra.render.studio import flow_specs, render_flow
from infra.render.taskrouter import WORKER_LINES_ATTRIBUTE, target_workers
from infra.routing import (
    Entry,
    EntryKind,
    audio_assets,
    fallback_entry,
    primary_entry,
    sms_fallback_entry,
)
from infra.twilio.client import Twilio
from infra.twilio.values import canonical_definition, same_url_target

_WORDS = {
    "voice_fallback_url": "fallback URL",
    "voice_fallback_method": "fallback method",
    "voice_url": "primary URL",
    "voice_method": "primary method",
    "sms_fallback_url": "SMS fallback URL",
    "sms_fallback_method": "SMS fallback method",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference: who (line id, ``agent <id>`` or ``stack``), which field, in words."""

    subject: str
    field: str
    message: str
    wanted: str | None = None
    live: str | None = None


@dataclass(slots=True)
class Snapshot:
    """What the account holds for one stack, read once."""

    numbers: list[LiveNumber]
    flows: dict[str, LiveFlow]
    stack: str = ""
    domains: dict[str, str] = field(default_factory=dict)
    """``domain_name`` of each Serverless environment of the stack; empty when not deployed."""

    @property
    def domain(self) -> str:
        """The ``shared`` environment's domain (Functions, shared documents); "" if absent."""
        return self.domains.get(SHARED_ENV, "")

    taskrouter: LiveTaskRouter | None = None
    recordings: set[str] | None = None
    """Paths live in the ``shared`` environment, read only when lines play repository files."""
    problems: list[Finding] = field(default_factory=list)
    """Stack-level findings made while reading (a missing service or workspace)."""


def compare(config: LinesConfig, severity: Severity, live: Snapshot) -> list[Finding]:
    """Every difference, in order: stack problems, then lines, flows, queues, outside numbers."""
    bindings = _bindings(live)
    webhooks = {name: flow.webhook_url for name, flow in live.flows.items()}
    numbers = {n.phone_number: n for n in live.numbers}
    findings = list(live.problems)
    adopting = not live.domains  # nothing deployed: the first `up` adopts every number
    for line in config.lines:
        number = numbers.get(line.number)
        findings += _line(line, config, severity, number, live.domains, webhooks, adopting)
        findings += sms_findings(line, number, live.domains)
    findings += _flows(config, live, bindings)
    findings += _queues(config, live.taskrouter)
    findings += _outside_numbers(config, set(numbers))
    findings += _recordings(config, live.recordings)
    return findings


def _recordings(config: LinesConfig, live: set[str] | None) -> list[Finding]:
    """Each recording from the repository must be live in ``shared``: its documents play it."""
    if live is None:
        return []
    return [
        Finding(
            "stack",
            "recording",
            f"{recording.source} is not deployed (no {path} in the {SHARED_ENV} environment): "
            "callers hear nothing where it should play; run pulumi up",
        )
        for path, recording in audio_assets(config).items()
        if path not in live
    ]


def _bindings(live: Snapshot) -> Bindings:
    """The values the program rendered with; placeholders where nothing is deployed."""
    tr = live.taskrouter
    return Bindings(
        domain_name=live.domain or PLACEHOLDERS.domain_name,
        workflow_sid=(tr and tr.workflow_sid) or PLACEHOLDERS.workflow_sid,
        on_duty_activity_sid=(tr and tr.on_duty_activity_sid) or PLACEHOLDERS.on_duty_activity_sid,
    )


def _line(
    line: Line,
    config: LinesConfig,
    severity: Severity,
    number: LiveNumber | None,
    domains: dict[str, str],
    webhooks: dict[str, str],
    adopting: bool = False,
) -> list[Finding]:
    if number is None:
        return [Finding(line.id, "number", f"{line.number} is not a number of this account")]
    if number.trunk_sid or number.voice_application_sid:
        key = "trunk_sid" if number.trunk_sid else "voice_application_sid"
        kind = "SIP Trunk" if number.trunk_sid else "TwiML Application"
        sid = number.trunk_sid or number.voice_application_sid
        message = f"{line.number} is bound to {kind} {sid}: Twilio ignores the number's fallback"
        return [Finding(line.id, key, message)]
    fallback = fallback_entry(line, severity, config=config)
    found = _entry(line.id, "voice_fallback", fallback, domains, webhooks, number, adopting)
    primary = primary_entry(line, severity, config=config)
    if primary is not None:
        found += _entry(line.id, "voice", primary, domains, webhooks, number, adopting)
    elif not number.voice_url:
        message = (
            "the number has no voice URL and the line declares no primary: "
            "Twilio refuses a fallback without one (error 21405)"
        )
        found.append(Finding(line.id, "voice_url", message))
    return found


def sms_findings(line: Line, number: LiveNumber | None, domains: dict[str, str]) -> list[Finding]:
    """The line's SMS fallback (``sms``) on its number; nothing for a line without ``sms``.
    Public for the readiness check: ``domains`` are the stack's environments' domain names."""
    entry = sms_fallback_entry(line)
    if entry is None or number is None:
        return []
    if number.sms_application_sid:
        message = (
            f"{line.number} handles SMS with TwiML Application {number.sms_application_sid}: "
            "Twilio uses the application's SMS URLs, not the number's SMS fallback"
        )
        return [Finding(line.id, "sms_application_sid", message)]
    found = _entry(line.id, "sms_fallback", entry, domains, {}, number)
    if not number.sms_url:
        message = (
            "the number has no SMS URL: Twilio refuses an SMS fallback without one "
            "(error 21406); set the number's SMS URL"
        )
        found.append(Finding(line.id, "sms_url", message))
    return found


def _entry(
    line_id: str,
    prefix: str,
    entry: Entry,
    domains: dict[str, str],
    webhooks: dict[str, str],
    number: LiveNumber,
    adopting: bool = False,
) -> list[Finding]:
    """URL and method of one entry point (``voice`` or ``voice_fallback``) on the number;
    ``adopting``: nothing is deployed yet, so a foreign live URL is one the first ``up``
    replaces."""
    try:
        wanted = entry.resolve(domains, webhooks)
    except KeyError:
        if entry.kind is EntryKind.FLOW:
            wanted = f"the webhook of Studio flow {entry.ref} (missing)"
        else:
            wanted = f"{entry.ref} in Serverless environment {entry.env} (missing)"
    url, method = getattr(number, f"{prefix}_url"), getattr(number, f"{prefix}_method").upper()
    url_ok = same_url_target(wanted, url) if entry.kind is EntryKind.FLOW else wanted == url
    found = []
    for key, want, have, ok in (
        (f"{prefix}_url", wanted, url, url_ok),
        (f"{prefix}_method", entry.method, method, entry.method == method),
    ):
        if not ok:
            message = f"{_WORDS[key]} differs from lines.yaml"
            if adopting and key.endswith("_url") and have and not _ours(have):
                message = (
                    f"existing {_WORDS[key]} (not this tool's) is replaced by the first "
                    "`pulumi up`; removing the line later restores it"
                )
            found.append(Finding(line_id, key, message, want, have or "(none)"))
    return found


def _ours(url: str) -> bool:
    """One of this tool's documents or a Studio flow webhook (another stack's, or one left by
    an interrupted run): not a value the owner set."""
    return document_in(url) is not None or flow_sid_in(url) is not None


def _flows(config: LinesConfig, live: Snapshot, bindings: Bindings) -> list[Finding]:
    alerts = config.alerts_webhook is not None
    found = []
    for spec in flow_specs(config):
        flow, who = live.flows.get(spec.name), spec.line.id
        if flow is None:
            found.append(Finding(who, "studio_flow", f"Studio flow {spec.name} is missing"))
            continue
        if flow.status != "published":
            message = f"Studio flow {spec.name} is not published"
            found.append(Finding(who, "studio_flow_status", message, "published", flow.status))
        forwarding = live.domains.get(forward_env(spec.line.id))
        flow_bindings = (
            dataclasses.replace(bindings, forward_domain=forwarding)
            if spec.line.forward_confirm and forwarding
            else bindings
        )
        wanted = render_flow(
            spec.line, spec.severity, alerts=alerts, bindings=flow_bindings, paths=spec.paths
        )
        changes = flow_changes(wanted, flow.definition or {})
        if changes:
            message = f"Studio flow {spec.name} differs from lines.yaml: {changes}"
            found.append(Finding(who, "studio_flow", message))
    return found


def flow_changes(wanted: dict[str, Any], live: dict[str, Any]) -> str:
    """What differs in the canonical forms, e.g. ``changed states: forward``; "" if nothing."""
    want, have = (json.loads(canonical_definition(d)) for d in (wanted, live))
    parts = [
        f"{key} changed"
        for key in sorted(set(want) | set(have))
        if key != "states" and want.get(key) != have.get(key)
    ]
    by_name = [{str(s.get("name")): s for s in d.get("states") or []} for d in (want, have)]
    for words, names in (
        (
            "changed states",
            [n for n in by_name[0] if n in by_name[1] and by_name[0][n] != by_name[1][n]],
        ),
        ("missing states", [n for n in by_name[0] if n not in by_name[1]]),
        ("extra states", [n for n in by_name[1] if n not in by_name[0]]),
    ):
        if names:
            parts.append(f"{words}: {', '.join(sorted(names))}")
    return "; ".join(parts)


def _queues(config: LinesConfig, live: LiveTaskRouter | None) -> list[Finding]:
    if live is None or not config.queued_lines:
        return []
    found = [
        Finding("stack", "taskrouter", f"the TaskRouter {what} is missing")
        for what, sid in (
            ("workflow", live.workflow_sid),
            ("On Duty activity", live.on_duty_activity_sid),
        )
        if not sid
    ]
    for line in config.queued_lines:
        expression, wanted_expression = live.queues.get(line.id), target_workers(line.id)
        if expression is None:
            found.append(Finding(line.id, "task_queue", f"task queue {line.id} is missing"))
        elif expression != wanted_expression:
            message = "the queue's target workers differ from lines.yaml"
            found.append(Finding(line.id, "task_queue", message, wanted_expression, expression))
        wanted = list(line.queue.agents) if line.queue else []
        serving = [a.id for a in config.agents if line.id in _served(live.workers.get(a.id))]
        if sorted(wanted) != sorted(serving):
            message = "the agents serving the queue differ from lines.yaml"
            live_agents = ", ".join(serving) or "(none)"
            found.append(Finding(line.id, "queue_agents", message, ", ".join(wanted), live_agents))
    for agent in config.agents:
        who, attributes = f"agent {agent.id}", live.workers.get(agent.id)
        if attributes is None:
            found.append(Finding(who, "worker", f"TaskRouter worker {agent.id} is missing"))
        elif attributes.get("contact_uri") != agent.phone:
            message = "the phone TaskRouter dials differs from lines.yaml"
            dialled = str(attributes.get("contact_uri") or "(none)")
            found.append(Finding(who, "contact_uri", message, agent.phone, dialled))
    return found


def _served(attributes: dict[str, Any] | None) -> list[str]:
    lines = (attributes or {}).get(WORKER_LINES_ATTRIBUTE)
    return [str(x) for x in lines] if isinstance(lines, list) else []


def _outside_numbers(config: LinesConfig, account: set[str]) -> list[Finding]:
    """Forward, forwarding and agent numbers that are in fact numbers of this account."""
    dialled = []
    for line in config.lines:
        if line.forward and not line.forwarding:
            dialled.append((line.id, "failover.forward", line.forward))
        dialled += [(line.id, f"forwarding[{i}]", n) for i, n in enumerate(line.forwarding)]
    dialled += [(f"agent {a.id}", "phone", a.phone) for a in config.agents]
    message = "{} is a number of this Twilio account, not an outside PSTN number"
    return [Finding(who, key, message.format(n)) for who, key, n in dialled if n in account]


# ---- reading the account ----------------------------------------------------------------


def read_snapshot(
    tw: Twilio, config: LinesConfig, stack: str | None, progress: Progress
) -> Snapshot:
    """Everything the comparison needs, within the request budget of ``infra.account.live``."""
    numbers = read_numbers(tw, progress)
    progress("Studio flows")
    flows = read_flows(tw, {spec.name: spec.line.id for spec in flow_specs(config)})
    snapshot = Snapshot(numbers, flows)
    _read_stack(tw, config, stack, snapshot)
    if config.queued_lines:
        progress("TaskRouter")
        name = workspace_name(config.account)
        agents = [agent.id for agent in config.agents]
        snapshot.taskrouter = read_taskrouter(tw, name, workflow_name(config.account), agents)
        if snapshot.taskrouter is None:
            missing = Finding("stack", "taskrouter", f"TaskRouter workspace {name} is missing")
            snapshot.problems.append(missing)
    return snapshot


def _read_stack(tw: Twilio, config: LinesConfig, stack: str | None, snapshot: Snapshot) -> None:
    """Find the stack's Serverless service (by name, or the only one of the account name)."""
    found = stack_service(tw, config.account, stack)
    if isinstance(found, str):
        message = f"Serverless service {found} is missing: nothing is deployed"
        snapshot.stack = stack or "?"
        snapshot.problems.append(Finding("stack", "serverless_service", message))
        return
    unique, sid = found
    snapshot.stack = stack or unique.removeprefix(f"{config.account}-failover-")
    snapshot.domains = domains_of(tw, sid)
    if config.audio_files and snapshot.domain:
        snapshot.recordings = deployed_paths(tw, sid, SHARED_ENV)
    if not snapshot.domain:
        message = f"Serverless service {unique} has no environment to serve documents"
        snapshot.problems.append(Finding("stack", "serverless_environment", message))

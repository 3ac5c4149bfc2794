"""Render Studio flow definitions: only for stacks with ``alerts.webhook`` (the alert is a
flow step). Every other failover is a static document (``infra.routing``, docs/design/scale.md):
Studio takes 100 new inbound executions per second per account, after which Twilio requests
the number's fallback URL, i.e. the flow, again
(https://support.twilio.com/hc/en-us/articles/39605338385051-Twilio-Studio-Limitation).

Pure: a Line in, a plain dict out (serialised with sorted keys by ``artifacts``). Widget
types and property names follow twilio.md §4.3 (Console exports); always run Studio's
``/v2/Flows/Validate`` before publishing, it is the only check of the shape.

Shape of every flow: ``Trigger`` → [``alert``] → the chain's steps in order.
- ``alert`` (only with ``alerts.webhook``): a Run Function step calling ``/alert``, which
  posts to the webhook with a hard timeout of about 1.5 s and always answers. Studio
  widgets run one after another, so the alert must come first to be timely; a Function
  with its own short timeout bounds the delay even when the webhook hangs (a direct Make
  HTTP Request would hold the silent caller for as long as Studio waits, about 10 s).
  Success and failure both continue: an alert never stops a failover.
- forward with ``failover.confirm``: a TwiML Redirect (GET) to the line's forwarding
  document (``fwd-NN`` environment, ``Bindings.forward_domain``), which rings the number with
  the confirm whisper and then goes to the voicemail itself: Connect Call To has no whisper
  URL, and a declined whisper may be reported as ``completed`` (unconfirmed), which the
  Split below would treat as answered.
- forward: Connect Call To the number for the step's timeout; a Split on
  ``DialCallStatus`` sends only ``no-answer``, ``busy`` and ``failed`` on to the next step.
  Everything else (``completed``, ``answered``, ``canceled``) ends the flow, so a caller
  who talked to someone never lands in voicemail.
- queue: Enqueue Call into the TaskRouter workflow with ``{"line": <id>}`` in the task
  attributes, task TTL = the queue timeout, ``wait_url`` = the ``/queue-wait?line=<id>`` Function,
  which ends in ``<Leave/>``. ``QueueResult`` ``leave``/``error``/``system-error`` and the
  enqueue failures go to the next step; ``bridged`` (an agent talked) ends the flow.
- voicemail / message / secondary server: a TwiML Redirect. Voicemail is the line's
  voicemail document (GET) rather than Say/Play + Record Voicemail widgets, so a greeting
  lives in exactly one place whichever entry reaches it.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.model import FailoverTarget, Line, LinesConfig, Severity, TargetKind
from infra.naming import (
    ALERT_PATH,
    QUEUE_WAIT_PATH,
    asset_url,
    flow_key,
    flow_name,
    forward_path,
)
from infra.render.bindings import PLACEHOLDERS, Bindings
from infra.routing import LinePaths, is_queued, line_paths, needs_flow

State = dict[str, Any]

TRIGGER = "Trigger"
ALERT = "alert"
FORWARD_FALLTHROUGH = ("no-answer", "busy", "failed")
"""``DialCallStatus`` values meaning nobody answered: only these reach the next step."""
QUEUE_FALLTHROUGH = ("leave", "error", "system-error")
"""``QueueResult`` values meaning the caller left the queue unserved and is still there."""
_STEP_NAMES = {
    TargetKind.FORWARD: "forward",
    TargetKind.QUEUE: "queue",
    TargetKind.VOICEMAIL: "voicemail",
    TargetKind.MESSAGE: "message",
    TargetKind.URL: "secondary_server",
}


def _go(event: str, next_state: str | None = None) -> dict[str, Any]:
    transition: dict[str, Any] = {"event": event}
    if next_state:
        transition["next"] = next_state
    return transition


def _state(name: str, kind: str, properties: dict[str, Any], *transitions: dict[str, Any]) -> State:
    return {"name": name, "type": kind, "properties": properties, "transitions": list(transitions)}


def _split(name: str, widget: str, variable: str, values: tuple[str, ...], then: str) -> State:
    """Split on ``widgets.<widget>.<variable>``: listed values go to ``then``, others end."""
    source = f"{{{{widgets.{widget}.{variable}}}}}"
    matches = [
        {
            "event": "match",
            "next": then,
            "conditions": [
                {
                    "friendly_name": f"{variable} is {value}",
                    "arguments": [source],
                    "type": "equal_to",
                    "value": value,
                }
            ],
        }
        for value in values
    ]
    return _state(name, "split-based-on", {"input": source}, _go("noMatch"), *matches)


def _redirect(name: str, url: str, method: str) -> State:
    return _state(
        name,
        "add-twiml-redirect",
        {"method": method, "url": url},
        _go("return"),
        _go("timeout"),
        _go("fail"),
    )


def _step(
    line: Line, target: FailoverTarget, then: str | None, bindings: Bindings, paths: LinePaths
) -> list[State]:
    """The states of one chain step; ``then`` is the first state of the next step."""
    name = _STEP_NAMES[target.kind]
    if target.kind is TargetKind.VOICEMAIL:
        return [_redirect(name, bindings.url(paths.voicemail), "GET")]
    if target.kind is TargetKind.MESSAGE:
        return [_redirect(name, bindings.url(paths.message), "GET")]
    if target.kind is TargetKind.URL:
        return [_redirect(name, target.to, line.url_method)]
    if target.kind is TargetKind.FORWARD and target.confirm:
        return [_redirect(name, asset_url(bindings.forward_domain, forward_path(line.id)), "GET")]
    if then is None:
        raise ValueError(f"line {line.id}: {target.kind.value} step has nothing to fall through to")
    if target.kind is TargetKind.FORWARD:
        properties = {
            "noun": "number",
            "to": target.to,
            "caller_id": "{{contact.channel.address}}",
            "timeout": target.timeout_s,
        }
        return [
            _state(
                name,
                "connect-call-to",
                properties,
                _go("callCompleted", f"{name}_result"),
                _go("hangup"),
            ),
            _split(f"{name}_result", name, "DialCallStatus", FORWARD_FALLTHROUGH, then),
        ]
    properties = {
        "workflow_sid": bindings.workflow_sid,
        "task_attributes": json.dumps(
            {
                "line": line.id,
                "queue": line.id,
                "caller": "{{trigger.call.From}}",
                "post_work_activity_sid": bindings.on_duty_activity_sid,
            },
            sort_keys=True,
        ),
        "timeout": target.timeout_s,
        "wait_url": bindings.url(QUEUE_WAIT_PATH) + f"?line={line.id}",
        "wait_url_method": "GET",
    }
    return [
        _state(
            name,
            "enqueue-call",
            properties,
            _go("callComplete", f"{name}_result"),
            _go("failedToEnqueue", then),
            _go("callFailure", then),
        ),
        _split(f"{name}_result", name, "QueueResult", QUEUE_FALLTHROUGH, then),
    ]


def _alert(line: Line, then: str, bindings: Bindings) -> State:
    parameters = [
        {"key": "line", "value": line.id},
        {"key": "number", "value": line.number},
        {"key": "caller", "value": "{{trigger.call.From}}"},
        {"key": "call_sid", "value": "{{trigger.call.CallSid}}"},
        # Present when Twilio calls the flow as a fallback (unconfirmed that Studio passes
        # them through); empty in test mode, when the flow is the primary.
        {"key": "error_code", "value": "{{trigger.call.ErrorCode}}"},
        {"key": "error_url", "value": "{{trigger.call.ErrorUrl}}"},
    ]
    properties = {"url": bindings.url(ALERT_PATH), "parameters": parameters}
    return _state(ALERT, "run-function", properties, _go("success", then), _go("fail", then))


def _describe(line: Line, chain: tuple[FailoverTarget, ...], alerts: bool) -> str:
    steps = " then ".join(target.kind.value for target in chain)
    suffix = ", alert first" if alerts else ""
    return f"Failover of {line.display_name} ({line.id}): {steps}{suffix}"


def render_flow(
    line: Line,
    severity: Severity,
    *,
    alerts: bool,
    bindings: Bindings = PLACEHOLDERS,
    paths: LinePaths | None = None,
) -> dict[str, Any]:
    """Studio definition for the line's failover chain at ``severity``.

    ``alerts`` adds the alert step first. ``bindings`` supplies the ``shared`` environment's
    domain and the workflow SID (placeholders by default); ``paths`` the line's shared
    documents (``FlowSpec.paths``; content-addressed when not given).
    """
    paths = paths if paths is not None else line_paths(line, None)
    chain = line.failover_chain(severity)
    if chain[0].kind is TargetKind.FORWARD and chain[0].confirm:
        chain = chain[:1]  # the forwarding document goes on to the voicemail itself
    states: list[State] = []
    then: str | None = None
    for target in reversed(chain):
        step = _step(line, target, then, bindings, paths)
        states[:0] = step
        then = step[0]["name"]
    assert then is not None  # a chain is never empty
    if alerts:
        states.insert(0, _alert(line, then, bindings))
        then = ALERT
    trigger = _state(
        TRIGGER,
        "trigger",
        {},
        _go("incomingCall", then),
        _go("incomingMessage"),
        _go("incomingRequest"),
        _go("incomingParent"),
    )
    states.insert(0, trigger)
    for index, state in enumerate(states):
        state["properties"]["offset"] = {"x": 0, "y": 200 * index}
    return {
        "description": _describe(line, chain, alerts),
        "flags": {"allow_concurrent_calls": True},
        "initial_state": TRIGGER,
        "states": states,
    }


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """One Studio flow to deploy: artifact key, Studio name, and what it renders."""

    key: str
    """``<line id>`` or ``<line id>.queue``; the artifact is ``studio/<key>.json``."""
    name: str
    """Studio FriendlyName (``flow_name``), what ``Entry.ref`` refers to."""
    line: Line
    severity: Severity
    paths: LinePaths
    """The line's shared documents, which the flow redirects to."""


def flow_specs(config: LinesConfig) -> tuple[FlowSpec, ...]:
    """Every flow the config needs, over all severities, in file order, without duplicates.

    A line with a queue has two: its standard flow (if it branches) and its queue flow,
    both deployed all the time so that switching severity only re-points numbers.
    """
    alerts = config.alerts_webhook is not None
    specs: dict[str, FlowSpec] = {}
    for line in config.lines:
        for severity in Severity:
            if not needs_flow(line, severity, alerts=alerts):
                continue
            queued = is_queued(line, severity)
            key = flow_key(line.id, queued=queued)
            name = flow_name(config.account, line.id, queued=queued)
            specs.setdefault(key, FlowSpec(key, name, line, severity, line_paths(line, config)))
    return tuple(specs.values())


def render_flows(
    config: LinesConfig, bindings: Bindings = PLACEHOLDERS
) -> dict[str, dict[str, Any]]:
    """Definition of every flow, keyed by Studio flow name."""
    alerts = config.alerts_webhook is not None
    return {
        spec.name: render_flow(
            spec.line, spec.severity, alerts=alerts, bindings=bindings, paths=spec.paths
        )
        for spec in flow_specs(config)
    }

"""``/_double/…``: the standalone double's own endpoints (not Twilio API, never contract-checked).

Requests whose path starts with ``/_double/`` bypass the dispatcher (no OpenAPI check, no
auth, not recorded as Twilio traffic). Bodies are JSON or a form; answers are JSON.

``POST /_double/calls`` places one inbound call and answers its journey::

    curl -s localhost:8099/_double/calls -H 'Content-Type: application/json' -d '{
      "To": "+14155550101", "From": "+16285550199", "Primary": "http_500",
      "Callees": {"+14155550188": "no-answer"},
      "Caller": {"message_seconds": 12, "hangup_after": null, "talk_seconds": 60}}'

``Primary``: ``http_500``, ``no_answer``, ``refused``, ``invalid_twiml``, ``ok``, or an
object ``{"status", "body", "content_type", "delay", "refused"}``; omitted: the number's
primary answers whatever the scripted internet says for it (by default: refused).
``Callees``: number -> script or list of scripts (see :mod:`.people`).

``POST /_double/internet`` scripts one URL: ``{"Url": …, "Status": 200, "Body": "…",
"ContentType": "text/xml", "Delay": 0, "Refused": false}``.

``POST /_double/activity`` moves a worker: ``{"Worker": "alice", "Activity": "On Duty"}``.
Must not import: infra.*
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .dispatch import Incoming, Outcome
from .internet import Answer, PrimaryOutcome
from .people import Caller

if TYPE_CHECKING:
    from .voice import VoiceNetwork

PREFIX = "/_double/"
_JSON = (("Content-Type", "application/json"),)


def is_control(target: str) -> bool:
    return urlsplit(target).path.startswith(PREFIX)


def _body(incoming: Incoming) -> dict[str, Any]:
    if not incoming.body:
        return {}
    if "json" in (incoming.headers.get("Content-Type") or ""):
        value = json.loads(incoming.body)
        if not isinstance(value, dict):
            raise ValueError("the body must be a JSON object")
        return value
    form = parse_qs(incoming.body.decode(), keep_blank_values=True)
    return {key: values[0] for key, values in form.items()}


def _answer(value: Any) -> Answer:
    if isinstance(value, str):
        return PrimaryOutcome.named(value)
    if isinstance(value, dict):
        return Answer(
            int(value.get("status", 200)), str(value.get("body", "")),
            str(value.get("content_type", "text/xml")), float(value.get("delay", 0)),
            bool(value.get("refused", False)),
        )  # fmt: skip
    raise ValueError(f"cannot read an outcome from {value!r}")


def _json(status: int, body: Any) -> Outcome:
    return Outcome(status, json.dumps(body).encode(), _JSON)


def handle(voice: VoiceNetwork, incoming: Incoming) -> Outcome:
    """Serve one ``/_double/`` request (see module doc)."""
    path = urlsplit(incoming.target).path
    if incoming.method != "POST":
        return _json(405, {"message": f"{path} takes POST"})
    try:
        body = _body(incoming)
        if path == PREFIX + "calls":
            return _json(200, _place_call(voice, body))
        if path == PREFIX + "internet":
            answer = _answer({
                "status": body.get("Status", 200), "body": body.get("Body", ""),
                "content_type": body.get("ContentType", "text/xml"),
                "delay": body.get("Delay", 0), "refused": body.get("Refused", False),
            })  # fmt: skip
            voice.internet.script(str(body["Url"]), answer)
            return _json(200, {"scripted": body["Url"]})
        if path == PREFIX + "activity":
            voice.taskrouter.set_activity(str(body["Worker"]), str(body["Activity"]))
            return _json(200, {"worker": body["Worker"], "activity": body["Activity"]})
    except (KeyError, ValueError, TypeError) as error:
        return _json(400, {"message": str(error)})
    return _json(404, {"message": f"no double endpoint {path}"})


def _place_call(voice: VoiceNetwork, body: dict[str, Any]) -> dict[str, Any]:
    callees = body.get("Callees") or {}
    if isinstance(callees, str):
        callees = json.loads(callees)
    caller = body.get("Caller") or {}
    if isinstance(caller, str):
        caller = json.loads(caller)
    primary = body.get("Primary")
    if isinstance(primary, str) and primary.startswith("{"):
        primary = json.loads(primary)
    journey = voice.place_call(
        str(body["To"]), str(body.get("From") or "+15005550006"),
        primary=_answer(primary) if primary is not None else None, callees=callees,
        caller=Caller(**caller),
    )  # fmt: skip
    return journey.as_dict()

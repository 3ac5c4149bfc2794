"""Studio flows on a simulated call: ``https://webhooks.twilio.com/v1/Accounts/{AC}/Flows/{FW}``.

A request to a flow's webhook starts an execution of the flow's published definition (the
latest published revision; a flow never published answers 404 -> 11200, assumed). It runs
from ``initial_state`` with the ``incomingCall`` event; each widget runs and names the event
whose transition is followed; a transition without ``next`` ends the execution, which ends
the call. Liquid ``{{…}}`` is resolved from ``trigger.call.*`` (the webhook parameters:
``From``, ``To``, ``CallSid``, ``ErrorCode``, ``ErrorUrl`` …), ``widgets.<name>.*``,
``flow.variables.*``, ``flow.channel.address`` (the number called) and
``contact.channel.address`` (the caller). Widgets (Studio widget library, README "Calls"):

- ``trigger``; ``say-play`` (``say``/``play``, ``loop``) -> ``audioComplete``;
- ``connect-call-to`` (``number``/``number-multi``, ``timeout`` default 30) -> ``callCompleted``
  with ``DialCallStatus`` (``completed`` when a person or a voicemail answered), or
  ``hangup`` when the caller is gone;
- ``run-function``/``make-http-request``: a signed POST of ``parameters`` -> ``success``
  (2xx) / ``fail`` (``failed`` for make-http-request); ``body``, ``status_code``,
  ``parsed``;
- ``add-twiml-redirect``: the call runs the TwiML at ``url`` (``method`` default POST);
  ``return`` when it redirects back to the flow, else the execution ends with that TwiML;
- ``enqueue-call`` / ``send-to-flex`` -> ``callComplete`` (``QueueResult`` …),
  ``failedToEnqueue`` (queue-full), ``callFailure`` (system-error);
- ``split-based-on`` (``equal_to``, ``not_equal_to``, ``matches_any_of``,
  ``does_not_match_any_of``, ``contains``, ``does_not_contain``, ``starts_with``,
  ``is_blank``, ``is_not_blank``, ``regex``) -> the first matching ``match`` or ``noMatch``;
- ``set-variables`` -> ``next``; ``record-voicemail`` -> ``recordingComplete``/``noAudio``/
  ``hangup``.
Must not import: infra.*
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .queue_runner import enqueue
from .twiml_runner import End, Process, dial, play, record, run_url, say

if TYPE_CHECKING:
    from .voice import LiveCall, VoiceNetwork

FLOW_URL = re.compile(r"https://webhooks\.twilio\.com/v1/Accounts/(AC\w+)/Flows/(FW\w+)/?")
_LIQUID = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def liquid(text: Any, scope: dict[str, Any]) -> str:
    def value(found: re.Match[str]) -> str:
        current: Any = scope
        for part in found.group(1).split("."):
            current = current.get(part) if isinstance(current, dict) else None
        return "" if current is None else str(current)

    return _LIQUID.sub(value, str(text if text is not None else ""))


def _condition(condition: dict[str, Any], scope: dict[str, Any], subject: str) -> bool:
    arguments = condition.get("arguments") or []
    left = liquid(arguments[0], scope) if arguments else subject
    right = liquid(condition.get("value", ""), scope)
    options = [item.strip() for item in right.split(",")]
    kind = condition.get("type")
    checks = {
        "equal_to": lambda: left == right, "not_equal_to": lambda: left != right,
        "matches_any_of": lambda: left in options,
        "does_not_match_any_of": lambda: left not in options,
        "contains": lambda: right in left, "does_not_contain": lambda: right not in left,
        "starts_with": lambda: left.startswith(right),
        "does_not_start_with": lambda: not left.startswith(right),
        "is_blank": lambda: not left.strip(), "is_not_blank": lambda: bool(left.strip()),
        "regex": lambda: re.search(right, left) is not None,
    }  # fmt: skip
    check = checks.get(kind or "")
    return bool(check and check())


class StudioRunner:
    def __init__(self, net: VoiceNetwork) -> None:
        self.net = net

    @staticmethod
    def is_flow_url(url: str) -> bool:
        return FLOW_URL.fullmatch(url.split("?", 1)[0]) is not None

    def _definition(self, flow_sid: str) -> dict[str, Any] | None:
        flow = self.net.state.flows.get(flow_sid)
        if flow is None:
            return None
        if flow.get("status") == "published":
            return flow.get("definition")
        for revision in reversed(self.net.state.flow_revisions.get(flow_sid, [])):
            if revision.get("status") == "published":
                return revision.get("definition")
        return None

    def run(self, call: LiveCall, url: str, params: dict[str, str]) -> Process:
        found = FLOW_URL.fullmatch(url.split("?", 1)[0])
        assert found is not None
        account, flow_sid = found.groups()
        definition = self._definition(flow_sid) if account == self.net.state.account_sid else None
        call.journey.requests.append({
            "method": "POST", "url": url, "params": params, "served_by": "studio",
            "status": 200 if definition else 404, "error_code": None if definition else 11200,
            "signed": True,
        })  # fmt: skip
        if definition is None:
            return End("failed", 11200, url)
        call.step("studio", f"flow {flow_sid}")
        scope: dict[str, Any] = {
            "trigger": {"call": {**call.params(), **params}}, "widgets": {},
            "flow": {"variables": {}, "channel": {"address": call.to}, "flow_sid": flow_sid},
            "contact": {"channel": {"address": call.from_}},
        }  # fmt: skip
        states = {state["name"]: state for state in definition.get("states", [])}
        call.flows.append(url)
        try:
            current, event = states.get(definition.get("initial_state", "")), "incomingCall"
            while current is not None:
                target = self._next(current, event, scope)
                if target is None or target not in states:
                    return End("done")
                current = states[target]
                event = yield from self._widget(call, current, scope)
                if isinstance(event, End):
                    return event
        finally:
            call.flows.pop()
        return End("done")

    @staticmethod
    def _next(
        state: dict[str, Any], event: str | dict[str, Any], scope: dict[str, Any]
    ) -> str | None:
        if isinstance(event, dict):  # a split already chose its transition
            return event.get("next")
        for transition in state.get("transitions", []):
            if transition.get("event") == event:
                return transition.get("next")
        return None

    def _widget(self, call: LiveCall, state: dict[str, Any], scope: dict[str, Any]) -> Process:
        kind, name = state.get("type"), state["name"]
        props = state.get("properties", {})
        outputs: dict[str, Any] = {}
        scope["widgets"][name] = outputs
        if kind == "say-play":
            loop = int(props.get("loop") or 1)
            if props.get("say"):
                yield from say(call, liquid(props["say"], scope), loop)
            elif props.get("play"):
                yield from play(call, liquid(props["play"], scope), loop)
            return "audioComplete"
        if kind == "connect-call-to":
            numbers = [
                n.strip() for n in liquid(props.get("to", ""), scope).split(",") if n.strip()
            ]
            outputs.update((yield from dial(call, numbers, float(props.get("timeout") or 30))))
            return "callCompleted" if call.active else "hangup"
        if kind in ("run-function", "make-http-request"):
            return (yield from self._http(call, kind, props, scope, outputs))
        if kind == "add-twiml-redirect":
            end = yield from run_url(
                call, liquid(props.get("url"), scope), props.get("method") or "POST"
            )
            return "return" if end.reason == "studio-return" else end
        if kind in ("enqueue-call", "send-to-flex"):
            return (yield from self._enqueue(call, kind, props, scope, outputs))
        if kind == "split-based-on":
            subject = liquid(props.get("input", ""), scope)
            for transition in state.get("transitions", []):
                if transition.get("event") == "match" and all(
                    _condition(c, scope, subject) for c in transition.get("conditions", [])
                ):
                    return transition
            return "noMatch"
        if kind == "set-variables":
            for item in props.get("variables", []):
                scope["flow"]["variables"][item["key"]] = liquid(item.get("value"), scope)
            return "next"
        if kind == "record-voicemail":
            params = yield from record(
                call, max_length=float(props.get("max_length") or 3600),
                timeout=float(props.get("timeout") or 5), beep=props.get("play_beep") != "false",
            )  # fmt: skip
            outputs.update(params or {})
            return "hangup" if not call.active else ("recordingComplete" if params else "noAudio")
        call.step("error", f"widget type {kind!r} is not simulated")
        return End("done")

    def _http(
        self, call: LiveCall, kind: str, props: dict[str, Any], scope: dict[str, Any],
        outputs: dict[str, Any],
    ) -> Process:  # fmt: skip
        url = liquid(props.get("url"), scope)
        params = {p["key"]: liquid(p.get("value"), scope) for p in props.get("parameters", [])}
        fetched = self.net.request(url, props.get("method") or "POST", params)
        call.journey.requests.append(fetched.log())
        outputs.update(status_code=fetched.status, body=fetched.body)
        try:
            outputs["parsed"] = json.loads(fetched.body)
        except (json.JSONDecodeError, TypeError):
            outputs["parsed"] = None
        answer = fetched.status or fetched.error_code
        call.step("function" if kind == "run-function" else "http", f"{url} -> {answer}")
        if fetched.elapsed:
            yield from call.spend(fetched.elapsed)
        if fetched.ok:
            return "success"
        return "fail" if kind == "run-function" else "failed"

    def _enqueue(
        self, call: LiveCall, kind: str, props: dict[str, Any], scope: dict[str, Any],
        outputs: dict[str, Any],
    ) -> Process:  # fmt: skip
        flex = kind == "send-to-flex"
        raw = props.get("attributes" if flex else "task_attributes") or "{}"
        try:
            attributes = json.loads(liquid(raw, scope))
        except json.JSONDecodeError:
            attributes = {}
        wait_url = props.get("waitUrl" if flex else "wait_url")
        params = yield from enqueue(
            call, workflow_sid=props.get("workflow" if flex else "workflow_sid"),
            name=props.get("queue_name", ""), attributes=attributes,
            priority=int(props.get("priority") or 0), ttl=int(props.get("timeout") or 0),
            wait_url=liquid(wait_url, scope) if wait_url else None,
            wait_method=(props.get("waitUrlMethod" if flex else "wait_url_method") or "POST").upper(),
        )  # fmt: skip
        outputs.update(params)
        result = params["QueueResult"]
        if result == "queue-full":
            return "failedToEnqueue"
        if result == "system-error":
            return "callFailure"
        return "callComplete"

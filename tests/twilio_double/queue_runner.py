"""``<Enqueue>`` (and Studio's enqueue-call): the caller holds while TaskRouter works.

- With a workflow, a Task is created (:mod:`.taskrouter_runner`) with the ``<Task>``
  attributes plus ``call_sid``/``from``/``to``; an unknown workflow ends the enqueue with
  ``QueueResult=system-error``.
- ``waitUrl`` (``waitUrlMethod``, default POST) is requested with ``QueuePosition``,
  ``QueueTime``, ``QueueSid``, ``CurrentQueueSize``, ``MaxQueueSize`` and run; its
  ``<Say>``/``<Play>``/``<Pause>`` can be interrupted by a bridge; ``<Leave>`` ends the hold
  (``leave``), ``<Hangup>`` ends the call (``hangup``), ``<Redirect>`` leaves the queue
  (``redirected``); when the document runs out, it is requested again. Without ``waitUrl``
  Twilio's hold music plays (a 60 s ``play`` step).
- A bridge (an agent picked up the dequeue call) connects the caller; once the conversation
  ends the result is ``bridged``. A caller hanging up gives ``hangup``.
Returns the action parameters ``QueueResult``, ``QueueSid``, ``QueueTime``.
Must not import: infra.*
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .twiml_runner import Process, connected, parse, play, say_seconds

if TYPE_CHECKING:
    from .voice import LiveCall

DEFAULT_HOLD_MUSIC = "https://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
MAX_QUEUE_SIZE = 100


def enqueue(
    call: LiveCall, *, workflow_sid: str | None, name: str, attributes: dict[str, Any],
    priority: int, ttl: int, wait_url: str | None, wait_method: str,
) -> Process:  # fmt: skip
    started = call.sim.now
    router = call.net.taskrouter
    queue_sid = call.net.state.sids.new("QU")
    call.step("enqueue", f"workflow {workflow_sid}" if workflow_sid else f"queue {name!r}")
    task = None
    if workflow_sid:
        task = router.create_task(call, workflow_sid, attributes, priority, ttl)
        if task is None:
            call.step("error", f"workflow {workflow_sid} does not exist")
            return _result("system-error", queue_sid, started, call)
    call.in_queue = True
    try:
        result = yield from _hold(call, wait_url, wait_method, queue_sid, started)
    finally:
        call.in_queue = False
    if task is not None and result != "bridged":
        router.cancel(task, f"caller left the queue ({result})")
    return _result(result, queue_sid, started, call)


def _result(result: str, queue_sid: str, started: float, call: LiveCall) -> dict[str, str]:
    return {
        "QueueResult": result, "QueueSid": queue_sid,
        "QueueTime": str(int(call.sim.now - started)),
    }  # fmt: skip


def _hold(
    call: LiveCall, wait_url: str | None, method: str, queue_sid: str, started: float
) -> Process:
    """Run the wait document until a bridge, a Leave, or a hangup; returns QueueResult."""
    while True:
        before = call.sim.now
        if wait_url is None:
            verbs = [("play", DEFAULT_HOLD_MUSIC, 60.0)]
        else:
            fetched = call.fetch(wait_url, method, _queue_params(call, queue_sid, started))
            root = parse(fetched.body) if fetched.ok else None
            if root is None:
                call.step("error", f"wait URL failed ({fetched.error_code or 12100}): {wait_url}")
                return "error"
            verbs = [_timed(verb) for verb in root]
        for kind, text, seconds in verbs:
            if kind in ("say", "play", "pause"):
                call.step(kind, text)
                value = yield from call.wait(seconds)
                if value == "hangup" or call.ended:
                    return "hangup"
                if value is not None:
                    yield from _bridged(call, value)
                    return "bridged"
            elif kind == "leave":
                call.step("leave", "the caller leaves the queue")
                return "leave"
            elif kind == "hangup":
                call.step("hangup", "")
                call.hang_up("wait document hung up", by_caller=False)
                return "hangup"
            elif kind == "redirect":
                call.step("redirect", text)
                return "redirected"
        if call.sim.now == before:  # an empty wait document: Twilio would spin; we don't
            value = yield from call.wait(60.0)
            if value not in (None, "hangup"):
                yield from _bridged(call, value)
                return "bridged"
            if value == "hangup":
                return "hangup"


def _timed(verb: Any) -> tuple[str, str, float]:
    text = (verb.text or "").strip()
    loop = int(verb.get("loop", "1") or 1)
    if verb.tag == "Say":
        return "say", text, say_seconds(text, loop)
    if verb.tag == "Play":
        return "play", text, 10.0 * max(loop, 1)
    if verb.tag == "Pause":
        length = float(verb.get("length", "1"))
        return "pause", f"{length:g} s", length
    return verb.tag.lower(), text, 0.0


def _queue_params(call: LiveCall, queue_sid: str, started: float) -> dict[str, str]:
    waiting = call.net.taskrouter.waiting_calls()
    position = waiting.index(call) + 1 if call in waiting else 1
    return {
        "QueueSid": queue_sid, "QueuePosition": str(position),
        "QueueTime": str(int(call.sim.now - started)), "AvgQueueTime": "0",
        "CurrentQueueSize": str(max(len(waiting), 1)), "MaxQueueSize": str(MAX_QUEUE_SIZE),
    }  # fmt: skip


def _bridged(call: LiveCall, bridge: Any) -> Process:
    call.step("bridged", f"to agent {bridge.worker_name} ({bridge.number})")
    label = f"agent {bridge.worker_name} ({bridge.number})"
    yield from connected(call, bridge.number, bridge.script, label)
    bridge.on_end()


__all__ = ["enqueue", "play"]

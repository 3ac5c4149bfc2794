"""TwiML, verb by verb, on a simulated call (the caller's leg).

``run_url(call, url, method, params)`` requests a document (signed, through the call's
``fetch``: the scripted internet, the Serverless runtime, or a Studio flow when the URL is a
flow's webhook) and runs it. Each verb follows Twilio's TwiML reference (README "Calls"):

- ``<Say>`` (about 2.5 words a second, ``loop``), ``<Play>`` (10 s per ``loop``),
  ``<Pause length=1>``; ``<Hangup>``; ``<Reject>``; ``<Redirect method=POST>`` (relative URLs
  resolve against the current document);
- ``<Record>``: beep, the caller's message, ``timeout`` s of silence end it (or
  ``maxLength``); a Recording is stored; ``action`` (default: the current document, POST)
  is requested with ``RecordingUrl``/``RecordingSid``/``RecordingDuration``/``Digits``; an
  empty recording skips the action and continues with the next verb;
- ``<Dial timeout=30 action method>`` with ``<Number url method>`` nouns (or a bare number)
  ringing at once, first answer wins; ``DialCallStatus`` is ``completed`` for anything that
  answered (a person or the callee's voicemail), else ``busy``/``no-answer``/``failed``;
  without ``action`` the next verb runs. A ``<Number url>`` whisper runs on the callee's leg
  once they answer, while the caller hears ringing (:mod:`.callee_leg`,
  https://www.twilio.com/docs/voice/twiml/number): a person presses a key when asked, a
  voicemail does not; a whisper that hangs up leaves the caller unbridged (the dial ends,
  status assumed ``completed``) and one that runs out connects them;
- ``<Enqueue workflowSid waitUrl waitUrlMethod action method>`` with ``<Task>`` JSON: see
  :mod:`.queue_runner`.

A failed request returns ``End("failed", code, url)``; the caller of ``run_url`` decides
between the number's fallback and Twilio's application-error message.
Must not import: infra.*
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # noqa: S405 - documents come from the test's own script
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import calls
from .callflow import Step
from .internet import DOCUMENT_PARSE_FAILURE, resolve
from .people import PICK_UP

if TYPE_CHECKING:
    from .voice import LiveCall

Process = Generator[Any, Any, Any]
WORDS_PER_SECOND = 2.5
PLAY_SECONDS = 10.0
MAX_REQUESTS = 60  # per call: a document that keeps re-requesting itself is stopped here


@dataclass(frozen=True)
class End:
    """How a document run ended: ``hangup``, ``done`` (no more verbs), ``rejected``,
    ``caller-hung-up``, ``studio-return``, or ``failed`` (with Twilio's error code)."""

    reason: str
    error_code: int | None = None
    error_url: str | None = None


@dataclass(frozen=True)
class Goto:
    """Continue with the TwiML at ``url`` (Redirect, or an ``action``)."""

    url: str
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)


def say_seconds(text: str, loop: int = 1) -> float:
    return max(1.0, round(len(text.split()) / WORDS_PER_SECOND, 1)) * max(loop, 1)


def parse(body: str) -> ET.Element | None:
    """The ``<Response>`` element of a TwiML body, or None when it is not TwiML (12100)."""
    try:
        root = ET.fromstring(body.strip().encode())  # noqa: S314
    except ET.ParseError:
        return None
    return root if root.tag == "Response" else None


STUDIO_RATE_EXCEEDED = 20429
"""Logged when Studio refuses a new execution past its rate (code assumed: undocumented)."""


def run_url(
    call: LiveCall, url: str, method: str = "POST", params: dict[str, str] | None = None
) -> Process:
    """Request ``url`` and run what it answers, following redirects and actions."""
    goto: Goto | None = Goto(url, method.upper(), dict(params or {}))
    while goto is not None:
        if len(call.journey.requests) >= MAX_REQUESTS:
            call.step("error", f"stopped after {MAX_REQUESTS} requests: the TwiML loops")
            return End("hangup")
        if not call.active:  # e.g. a Dial/Record action after the caller hung up
            call.fetch(goto.url, goto.method, goto.params)
            return End("caller-hung-up")
        if call.net.studio.is_flow_url(goto.url):
            if call.in_flow(goto.url):
                return End("studio-return")
            limits = call.net.limits
            if limits is not None and not limits.studio_execution_allowed(call.net.sim.now):
                # Past 100 new inbound executions a second Twilio requests the number's
                # fallback URL (https://www.twilio.com/docs/studio/user-guide/studio-faq);
                # the error code it logs is unconfirmed (20429 assumed).
                call.step("error", "Studio refused a new execution: over the per-second rate")
                return End("failed", STUDIO_RATE_EXCEEDED, goto.url)
            return (yield from call.net.studio.run(call, goto.url, goto.params))
        fetched = call.fetch(goto.url, goto.method, goto.params)
        if fetched.elapsed and not (yield from call.spend(fetched.elapsed)):
            return End("caller-hung-up")
        if not fetched.ok:
            return End("failed", fetched.error_code, goto.url)
        root = parse(fetched.body)
        if root is None:
            return End("failed", DOCUMENT_PARSE_FAILURE, goto.url)
        result = yield from run_document(call, goto.url, root)
        goto = result if isinstance(result, Goto) else None
        if goto is None:
            return result
    return End("done")


def run_document(call: LiveCall, url: str, root: ET.Element) -> Process:
    """Run the verbs of one document; returns an :class:`End` or a :class:`Goto`."""
    for verb in root:
        handler = VERBS.get(verb.tag)
        if handler is None:
            call.step("error", f"unsupported verb <{verb.tag}> skipped")
            continue
        result = yield from handler(call, verb, url)
        if result is not None:
            return result
        if not call.active:
            return End("caller-hung-up")
    return End("done")


def _say(call: LiveCall, verb: ET.Element, url: str) -> Process:
    text = (verb.text or "").strip()
    loop = int(verb.get("loop", "1") or 1)
    return (yield from say(call, text, loop))


def say(call: LiveCall, text: str, loop: int = 1) -> Process:
    call.step("say", text)
    yield from call.spend(say_seconds(text, loop))


def play(call: LiveCall, url: str, loop: int = 1) -> Process:
    call.step("play", url)
    yield from call.spend(PLAY_SECONDS * max(loop, 1))


PLAY_CONTENT_TYPES = frozenset(
    {
        "audio/mpeg", "audio/wav", "audio/wave", "audio/x-wav", "audio/aiff", "audio/x-aifc",
        "audio/x-aiff", "audio/x-gsm", "audio/gsm", "audio/ulaw",
    }
)  # fmt: skip
"""The audio MIME types Twilio plays (https://www.twilio.com/docs/voice/twiml/play,
"Supported audio file types"); anything else is error 13420 "Play: Invalid Content-Type"
(https://www.twilio.com/docs/errors/13420)."""
PLAY_INVALID_CONTENT_TYPE = 13420


def _play(call: LiveCall, verb: ET.Element, url: str) -> Process:
    """Fetch the audio with GET and play it. Twilio "does not send its standard HTTP
    parameters" with ``<Play>`` requests (https://www.twilio.com/docs/voice/twiml/play); that it
    does not sign them either is *assumed*, so a ``protected`` asset is refused here (403)
    and the product deploys recordings ``public``. A failed fetch or a non-audio answer is
    logged as 13420 and the call goes on with the next verb (*assumed*: Twilio's page says
    only that Play requires an audio Content-Type)."""
    target = resolve(url, verb.text or "")
    fetched = call.net.request(target, "GET", {}, signed=False)
    call.journey.requests.append(fetched.log())
    kind = fetched.content_type.split(";")[0].strip().lower()
    if fetched.status is None or not 200 <= fetched.status < 300 or kind not in PLAY_CONTENT_TYPES:
        call.step("error", f"{PLAY_INVALID_CONTENT_TYPE} {target}")
        return
    yield from play(call, target, int(verb.get("loop", "1") or 1))


def _pause(call: LiveCall, verb: ET.Element, url: str) -> Process:
    length = float(verb.get("length", "1"))
    call.step("pause", f"{length:g} s")
    yield from call.spend(length)


def _hangup(call: LiveCall, verb: ET.Element, url: str) -> Process:
    call.step("hangup", "")
    return End("hangup")
    yield  # a generator like every verb


def _reject(call: LiveCall, verb: ET.Element, url: str) -> Process:
    call.step("reject", verb.get("reason", "rejected"))
    return End("rejected")
    yield


def _redirect(call: LiveCall, verb: ET.Element, url: str) -> Process:
    target = resolve(url, verb.text or "")
    call.step("redirect", target)
    return Goto(target, verb.get("method", "POST").upper())
    yield


def _leave(call: LiveCall, verb: ET.Element, url: str) -> Process:
    call.step("leave", "(not in a queue: ignored)")
    return None
    yield


def _record(call: LiveCall, verb: ET.Element, url: str) -> Process:
    params = yield from record(
        call, max_length=float(verb.get("maxLength", "3600")),
        timeout=float(verb.get("timeout", "5")), beep=verb.get("playBeep", "true") != "false",
    )  # fmt: skip
    if params is None:
        return None  # empty recording: Twilio continues with the next verb
    action = resolve(url, verb.get("action") or url)
    return Goto(action, verb.get("method", "POST").upper(), params)


def record(call: LiveCall, *, max_length: float, timeout: float, beep: bool) -> Process:
    """The caller records a message; returns the action parameters, or None when empty."""
    if beep:
        call.step("beep", "")
    started = call.sim.now
    at = round(started - call.journey.started, 1)
    wanted = min(call.caller.message_seconds, max_length)
    if wanted <= 0:
        yield from call.spend(timeout)
        call.step("record", "nothing said: empty recording")
        return None
    stayed = yield from call.spend(wanted)
    spoken = round(call.sim.now - started)
    if stayed and wanted < max_length:
        yield from call.spend(timeout)  # silence ends the recording
    recording = calls.new_recording(call.net.state, call_sid=call.sid, duration=int(spoken))
    call.journey.recording_sid = recording["sid"]
    call.journey.outcome = call.journey.outcome or "voicemail"
    call.change(f"recording {recording['sid']} ({int(spoken)} s) on {call.to}")
    text = f"{int(spoken)} s message" + ("" if stayed else ", then hung up")
    call.journey.steps.append(Step(at, "record", text))
    return {
        "RecordingUrl": recording["media_url"], "RecordingSid": recording["sid"],
        "RecordingDuration": str(int(spoken)), "Digits": "" if stayed else "hangup",
    }  # fmt: skip


def _dial(call: LiveCall, verb: ET.Element, url: str) -> Process:
    targets = [(child.text or "").strip() for child in verb if child.tag == "Number"] or [
        (verb.text or "").strip()
    ]
    whispers = {
        (child.text or "").strip(): (
            resolve(url, child.get("url", "")),
            child.get("method", "POST").upper(),
        )
        for child in verb
        if child.tag == "Number" and child.get("url")
    }
    params = yield from dial(call, targets, float(verb.get("timeout", "30")), whispers)
    action = verb.get("action")
    if action is None:
        return None  # without action the next verb runs
    return Goto(resolve(url, action), verb.get("method", "POST").upper(), params)


def dial(
    call: LiveCall, targets: list[str], timeout: float,
    whispers: dict[str, tuple[str, str]] | None = None,
) -> Process:  # fmt: skip
    """Ring ``targets`` at once for ``timeout`` s; returns the ``Dial*`` action parameters."""
    scripts = [(number, call.net.callees.next_for(number)) for number in targets]
    call.step("dial", f"{', '.join(targets)} (timeout {timeout:g} s)")
    answering = [
        (script.delay, number, script)
        for number, script in scripts
        if script.kind in PICK_UP and script.delay < timeout
    ]
    child_sid = call.net.state.new_sid("CA")
    result = {"DialCallSid": child_sid, "DialCallDuration": "0"}
    if answering:
        delay, number, script = min(answering, key=lambda item: item[0])
        if not (yield from call.spend(delay)):
            call.step("dial", f"caller hung up after {delay:g} s of ringing")
            return {**result, "DialCallStatus": "canceled"}
        if number in (whispers or {}):
            taken = yield from _whisper(call, number, script, *(whispers or {})[number], child_sid)
            if taken == "gone":
                return {**result, "DialCallStatus": "canceled"}
            if taken != "connect":
                # Declined (the whisper hung up, or failed): the dialed leg ends unbridged and
                # the caller goes on. Status assumed "completed" (the callee's phone answered;
                # unconfirmed: README "Verify on a live account first").
                call.step("dial", f"{number} did not take the call")
                return {**result, "DialCallStatus": "completed"}
        talk = yield from connected(call, number, script)
        return {**result, "DialCallStatus": "completed", "DialCallDuration": str(int(talk))}
    failing = [s for _, s in scripts if s.kind in ("busy", "failed")]
    if failing and len(failing) == len(scripts):
        status = "busy" if any(s.kind == "busy" for s in failing) else "failed"
        ring = max(s.delay for s in failing)
    else:
        status, ring = "no-answer", timeout
    stayed = yield from call.spend(ring)
    call.step("dial", f"{status} after {ring:g} s" if stayed else "caller hung up while ringing")
    return {**result, "DialCallStatus": status if stayed else "canceled"}


def _whisper(
    call: LiveCall, number: str, script: Any, url: str, method: str, child_sid: str
) -> Process:
    """``<Number url>``: the whisper runs on the callee's leg while the caller hears ringing;
    returns :class:`.callee_leg.LegResult` ``outcome`` (``connect`` bridges)."""
    from . import callee_leg

    heard: list[str] = []

    def log(text: str, request: dict[str, Any]) -> None:
        if request:
            call.journey.requests.append(request)
        if text:
            heard.append(text)

    params = {
        "AccountSid": call.net.state.account_sid, "CallSid": child_sid, "ParentCallSid": call.sid,
        "From": call.from_, "To": number, "Direction": "outbound-dial", "CallStatus": "in-progress",
    }  # fmt: skip
    result = yield from callee_leg.run(call.net, url, method, params, script, call.spend, log)
    call.step("whisper", f"{number} {', '.join(heard)}")
    return result.outcome


def connected(call: LiveCall, who: str, script: Any, label: str | None = None) -> Process:
    """The caller is bridged to ``who``: a person talks, a voicemail takes a message.
    Afterwards the caller hangs up. Returns the conversation's length."""
    label = label or who
    if script.kind == "voicemail":
        call.step("answered", f"by the voicemail of {label}")
        call.journey.answered_by = f"voicemail of {label}"
        length = call.caller.message_seconds
    else:
        call.step("answered", f"by {label}")
        call.journey.answered_by = label
        length = min(call.caller.talk_seconds, script.talk)
    call.journey.outcome = "answered"
    started = call.sim.now
    yield from call.spend(length)
    talked = call.sim.now - started
    call.step("talk", f"{talked:g} s")
    call.hang_up("after the conversation")
    return talked


def _enqueue(call: LiveCall, verb: ET.Element, url: str) -> Process:
    from .queue_runner import enqueue

    task = next((child for child in verb if child.tag == "Task"), None)
    attributes = json.loads(task.text or "{}") if task is not None else {}
    wait_url = verb.get("waitUrl")
    params = yield from enqueue(
        call, workflow_sid=verb.get("workflowSid"), name=(verb.text or "").strip(),
        attributes=attributes, priority=int(task.get("priority", "0")) if task is not None else 0,
        ttl=int(task.get("timeout", "0") or 0) if task is not None else 0,
        wait_url=resolve(url, wait_url) if wait_url else None,
        wait_method=verb.get("waitUrlMethod", "POST").upper(),
    )  # fmt: skip
    action = verb.get("action")
    if action is None:
        return None
    return Goto(resolve(url, action), verb.get("method", "POST").upper(), params)


VERBS = {
    "Say": _say, "Play": _play, "Pause": _pause, "Hangup": _hangup, "Reject": _reject,
    "Redirect": _redirect, "Leave": _leave, "Record": _record, "Dial": _dial,
    "Enqueue": _enqueue,
}  # fmt: skip

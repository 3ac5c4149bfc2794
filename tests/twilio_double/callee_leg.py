"""TwiML run on the leg of whoever a call rang, after they answered: a whisper.

Two places run a document on the called party's leg, and both end the same way:
- ``<Number url>`` inside a ``<Dial>``: "a TwiML document that will run on the called
  party's end, after she answers, but before the parties are connected. You can use this
  TwiML to privately play or say information to the called party, or provide a chance to
  decline the phone call using <Gather> and <Hangup>. The current caller will continue to
  hear ringing while the TwiML document executes on the other end. TwiML documents
  executed in this manner are not allowed to contain the <Dial> verb."
  (https://www.twilio.com/docs/voice/twiml/number). The document running out connects the
  parties; ``<Hangup>`` declines.
- TaskRouter's ``call`` instruction: its ``url`` "is executed on the answering Worker's leg"
  (twilio-taskrouter.js ``Reservation.call``; OpenAPI Reservation ``CallUrl``); there
  ``<Dial><Queue reservationSid>`` bridges the queued caller and accepts the reservation
  (https://www.twilio.com/docs/api/errors/14215).

Verbs: ``<Say>``/``<Play>``/``<Pause>`` take their time; ``<Gather numDigits timeout action
method>`` (https://www.twilio.com/docs/voice/twiml/gather): its nested prompts play, then a
person (callee script ``answer``) presses 1; a voicemail or answering machine (``voicemail``)
presses nothing, so after ``timeout`` seconds (default 5) the next verb runs; with digits the
``action`` (default: the current document, POST) is requested with ``Digits`` and its
document runs instead; ``<Hangup>`` ends the leg; ``<Dial><Queue reservationSid>`` returns
the reservation to bridge; ``<Redirect>`` follows. Requests are signed like every Twilio
webhook (:meth:`.voice.VoiceNetwork.request`).
Must not import: infra.*
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .internet import resolve
from .twiml_runner import parse, say_seconds

if TYPE_CHECKING:
    from .people import Callee
    from .voice import VoiceNetwork

Process = Generator[Any, Any, Any]
Spend = Callable[[float], Process]
GATHER_TIMEOUT = 5.0
PRESS_AFTER = 1.0
MAX_DOCUMENTS = 10


@dataclass(frozen=True)
class LegResult:
    """How the whisper ended: ``connect`` (ran out: the parties are connected), ``hangup``
    (declined or nothing pressed), ``queue`` (``<Dial><Queue reservationSid>``), ``error``
    (the document could not be fetched or parsed), ``gone`` (the caller left meanwhile)."""

    outcome: str
    reservation_sid: str = ""


def digits_for(script: Callee) -> str:
    """What this callee presses when a whisper asks: a person presses 1, a machine nothing."""
    return {"answer": "1", "decline": "2"}.get(script.kind, "")


def run(
    net: VoiceNetwork, url: str, method: str, params: dict[str, str], script: Callee,
    spend: Spend, log: Callable[[str, dict[str, Any]], None],
) -> Process:  # fmt: skip
    """Run the whisper at ``url`` on the callee's leg; returns a :class:`LegResult`.

    ``spend(seconds)`` passes time (False when the leg must stop: the caller left);
    ``log(text, request)`` records what the callee heard and the requests made."""
    target: tuple[str, str, dict[str, str]] | None = (url, method.upper(), params)
    for _ in range(MAX_DOCUMENTS):
        if target is None:
            break
        doc_url, doc_method, extra = target
        fetched = net.request(doc_url, doc_method, {**params, **extra})
        log("", fetched.log())
        root = parse(fetched.body) if fetched.ok else None
        if root is None:
            log(f"whisper failed ({fetched.error_code or 12100}): {doc_url}", {})
            return LegResult("error")
        target = None
        for verb in root:
            if verb.tag in ("Say", "Play", "Pause"):
                log(f"hears {_text(verb)}", {})
                if not (yield from spend(_seconds(verb))):
                    return LegResult("gone")
            elif verb.tag == "Gather":
                for prompt in verb:
                    log(f"hears {_text(prompt)}", {})
                    if not (yield from spend(_seconds(prompt))):
                        return LegResult("gone")
                pressed = digits_for(script)[: int(verb.get("numDigits", "1") or 1)]
                if not pressed:
                    log("presses nothing", {})
                    if not (yield from spend(float(verb.get("timeout", GATHER_TIMEOUT)))):
                        return LegResult("gone")
                    continue  # no input: the next verb runs
                log(f"presses {pressed}", {})
                if not (yield from spend(PRESS_AFTER)):
                    return LegResult("gone")
                action = resolve(doc_url, verb.get("action") or doc_url)
                target = (action, verb.get("method", "POST").upper(), {"Digits": pressed})
                break
            elif verb.tag == "Hangup":
                log("hangs up", {})
                return LegResult("hangup")
            elif verb.tag == "Redirect":
                target = (resolve(doc_url, verb.text or ""), verb.get("method", "POST").upper(), {})
                break
            elif verb.tag == "Dial":
                queue = next((n for n in verb if n.tag == "Queue"), None)
                if queue is None or not queue.get("reservationSid"):
                    log("<Dial> on a whisper leg: not allowed here", {})
                    return LegResult("error")
                return LegResult("queue", queue.get("reservationSid", ""))
            else:
                log(f"unsupported verb <{verb.tag}> on the callee's leg skipped", {})
    return LegResult("connect")


def _text(verb: Any) -> str:
    if verb.tag == "Pause":
        return f"a {float(verb.get('length', '1')):g} s pause"
    return f'"{(verb.text or "").strip()}"'


def _seconds(verb: Any) -> float:
    loop = int(verb.get("loop", "1") or 1)
    if verb.tag == "Say":
        return say_seconds((verb.text or "").strip(), loop)
    if verb.tag == "Play":
        return 10.0 * max(loop, 1)
    if verb.tag == "Pause":
        return float(verb.get("length", "1"))
    return 0.0

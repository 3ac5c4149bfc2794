"""Render the static TwiML documents every failover is made of, grouped by environment.

Pure: a config in, XML strings out, byte-stable so golden files and Pulumi see no phantom
diffs. Built with the twilio library's ``VoiceResponse``; no XML is assembled by hand.

Documents are Serverless Assets (protected: Twilio's CDN serves them only to requests that
carry a valid Twilio signature, https://www.twilio.com/docs/serverless/functions-assets/assets),
so they cannot depend on request data. Where a caller goes next is therefore fixed in the
document (docs/design/scale.md):

- ``shared`` environment: documents many lines share, at paths derived from their content
  (``infra.routing.line_paths``): voicemail (``/v/…``; ``/v/default.xml`` for
  ``defaults.voicemail``), goodbye (``/b/…``), message (``/m/…``);
- ``fwd-NN`` environments: one forwarding document per forwarding line (``/f/<id>.xml``):
  ``<Dial>`` the failover number without ``action``, then ``<Redirect>`` to the voicemail.
  With ``failover.confirm`` the ``<Number url>`` is the shared confirm whisper (``/c/…``):
  Twilio runs it "on the called party's end, after she answers, but before the parties are
  connected", to "provide a chance to decline the phone call using <Gather> and <Hangup>"
  (https://www.twilio.com/docs/voice/twiml/number). It asks for any key; with none (a
  voicemail or answering machine picks up) the `<Gather>` times out and falls through to
  ``<Hangup/>`` (https://www.twilio.com/docs/voice/twiml/gather), the dialed leg ends
  unbridged, and the caller goes on to the next verb: the line's voicemail. A key press
  requests ``/c/accept.xml``, an empty document: the whisper ends and the parties are
  connected. (That a whisper's ``<Hangup/>`` ends the ``<Dial>`` with the caller still there
  is assumed: README "Verify on a live account first".)
  Without ``action`` Twilio "will continue to render the original TwiML document" when the
  dialed call ends and the caller is still there (https://www.twilio.com/docs/voice/twiml/dial),
  so an unanswered, busy or failed forward reaches voicemail, and so does a caller whose call
  was answered and then hung up by the callee first (a static document cannot tell the two
  apart; README "What a caller hears");
- ``shared`` also holds the SMS replies (``sms.reply``, ``/s/…``): ``<Response><Message>…``
  (https://www.twilio.com/docs/messaging/twiml), requested with GET like every document;
- ``queues`` environment: one queue entry per queued line (``/q/<id>.xml``): ``<Enqueue
  workflowSid>`` with the line in the task attributes, the ``/queue-wait`` Function as hold
  (it leaves at once when nobody is On Duty), then ``<Redirect>`` to the voicemail: without
  ``action`` "the call will continue to the next verb" after the caller leaves the queue
  (https://www.twilio.com/docs/voice/twiml/enqueue).

Every in-call request uses GET (whether Assets answer POST is unconfirmed, twilio.md §6.6).
``<Record>`` always has an ``action`` (the goodbye document); without one Twilio re-requests
the voicemail document and the caller hears the greeting again, forever.
Cross-environment references are absolute URLs on the ``shared`` domain (``Bindings``).

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import json

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from infra.model import (
    DEFAULT_CONFIRM,
    DEFAULT_GOODBYE,
    Line,
    LinesConfig,
    Severity,
    TargetKind,
    Voicemail,
)
from infra.naming import (
    CONFIRM_ACCEPT_PATH,
    QUEUE_ENV,
    QUEUE_WAIT_PATH,
    SHARED_ENV,
    forward_env,
    forward_path,
    queue_entry_path,
)
from infra.render.bindings import PLACEHOLDERS, Bindings
from infra.routing import LinePaths, line_paths, play_url, sms_reply_path

GOODBYE_TEXT = DEFAULT_GOODBYE
"""The English goodbye; a line's own (translated or overridden) is ``line.prompts.goodbye``."""


def _speak(
    response: VoiceResponse, text: str, audio: str | None, voice: str, language: str
) -> None:
    """``<Play>`` a recording (https://www.twilio.com/docs/voice/twiml/play: Twilio fetches the
    URL and plays it once; it must answer with an audio Content-Type, error 13420), else
    ``<Say>`` the text."""
    if audio:
        response.play(audio)
    else:
        response.say(text, voice=voice, language=language)


CONFIRM_TEXT = DEFAULT_CONFIRM
"""The English confirm whisper; a line's own (translated or overridden) is ``line.prompts.confirm``."""
CONFIRM_GATHER_S = 6
"""Seconds the forward's callee has to press a key after the prompt (``<Gather timeout>``)."""


def _finish(response: VoiceResponse) -> str:
    return response.to_xml() + "\n"


def render_voicemail(voicemail: Voicemail, goodbye_path: str) -> str:
    """Greeting, then ``<Record>`` whose ``action`` is the goodbye document.

    The trailing ``<Hangup/>`` runs only when the recording is empty: Twilio then skips the
    action (https://www.twilio.com/docs/voice/twiml/record).
    """
    response = VoiceResponse()
    played = None
    if voicemail.greeting_audio is not None:
        played = play_url(voicemail.greeting_audio, voicemail.greeting_audio_sha256)
    _speak(response, voicemail.greeting, played, voicemail.voice, voicemail.language)
    response.record(
        action=goodbye_path,
        method="GET",
        max_length=voicemail.max_length_s,
        recording_status_callback=voicemail.recording_callback,
    )
    response.hangup()
    return _finish(response)


def render_goodbye(voice: str, language: str, text: str = GOODBYE_TEXT) -> str:
    """Where ``<Record action>`` lands after a message was left: thank (in the line's
    language, ``line.prompts.goodbye``) and hang up."""
    response = VoiceResponse()
    response.say(text, voice=voice, language=language)
    response.hangup()
    return _finish(response)


def render_message(text: str, voice: str, language: str, audio: str | None = None) -> str:
    """Say the custom error message (``failover.message``), or play its recording, then hang
    up."""
    response = VoiceResponse()
    _speak(response, text, audio, voice, language)
    response.hangup()
    return _finish(response)


def render_confirm(voice: str, language: str, text: str = CONFIRM_TEXT) -> str:
    """A forward's confirm whisper: any key takes the call (``CONFIRM_ACCEPT_PATH``), no key
    within ``CONFIRM_GATHER_S`` declines it (``<Hangup/>``), so a voicemail never takes it."""
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1, timeout=CONFIRM_GATHER_S, action=CONFIRM_ACCEPT_PATH, method="GET"
    )
    gather.say(text, voice=voice, language=language)
    response.hangup()
    return _finish(response)


def render_sms_reply(text: str) -> str:
    """Reply to the sender with ``text`` (``sms.reply``): TwiML for Messaging's ``<Message>``
    "respond[s] to an incoming message" (https://www.twilio.com/docs/messaging/twiml)."""
    response = MessagingResponse()
    response.message(text)
    return str(response.to_xml()) + "\n"


def render_confirm_accept() -> str:
    """Where the confirm whisper's key press lands: nothing more to run, so Twilio connects."""
    return _finish(VoiceResponse())


def render_forward(line: Line, paths: LinePaths, bindings: Bindings = PLACEHOLDERS) -> str:
    """Ring the line's failover number for its timeout, then the line's voicemail."""
    target = line.failover_chain(Severity.MINOR)[0]
    assert target.kind is TargetKind.FORWARD, line.id
    response = VoiceResponse()
    dial = response.dial(timeout=target.timeout_s)
    if target.confirm:
        dial.number(target.to, url=bindings.url(paths.confirm), method="GET")
    else:
        dial.number(target.to)
    response.redirect(bindings.url(paths.voicemail), method="GET")
    return _finish(response)


def render_queue_entry(line: Line, paths: LinePaths, bindings: Bindings = PLACEHOLDERS) -> str:
    """Queue the caller for the line's agents (bounded by the queue timeout), then voicemail.

    Task attributes name the line (the workflow routes on ``line``); TaskRouter adds the
    call's own attributes (``call_sid``, ``from``, ``to``) to tasks it creates from
    ``<Enqueue>`` (https://www.twilio.com/docs/taskrouter/twiml-integration).
    """
    target = line.failover_chain(Severity.SEVERE)[0]
    assert target.kind is TargetKind.QUEUE, line.id
    response = VoiceResponse()
    enqueue = response.enqueue(
        workflow_sid=bindings.workflow_sid,
        wait_url=bindings.url(QUEUE_WAIT_PATH) + f"?line={line.id}",
        wait_url_method="GET",
    )
    enqueue.task(
        json.dumps({"line": line.id, "queue": line.id}, sort_keys=True), timeout=target.timeout_s
    )
    response.redirect(bindings.url(paths.voicemail), method="GET")
    return _finish(response)


def _kinds(line: Line) -> set[TargetKind]:
    """Kinds of step the line uses at any severity (all are deployed up front, so switching
    severity during an outage only re-points numbers)."""
    return {target.kind for severity in Severity for target in line.failover_chain(severity)}


def render_environments(
    config: LinesConfig, bindings: Bindings = PLACEHOLDERS, only: str | None = None
) -> dict[str, dict[str, str]]:
    """Every document, by environment then asset path, both sorted (``only``: one environment).

    ``bindings.domain_name`` is the ``shared`` environment's domain (forward and queue
    documents redirect there); ``bindings.workflow_sid`` goes into queue entries. These exact
    strings are what ``plan --out`` writes and what the program uploads.
    """
    envs: dict[str, dict[str, str]] = {SHARED_ENV: {}}
    shared = envs[SHARED_ENV]
    forward = _ForwardTemplate(bindings)
    for line in config.lines:
        kinds = _kinds(line)
        paths = line_paths(line, config)
        vm = line.voicemail
        if only in (None, SHARED_ENV):
            if TargetKind.VOICEMAIL in kinds and paths.voicemail not in shared:
                shared[paths.voicemail] = render_voicemail(vm, paths.goodbye)
                shared.setdefault(
                    paths.goodbye, render_goodbye(vm.voice, vm.language, line.prompts.goodbye)
                )
            if TargetKind.MESSAGE in kinds:
                played = None
                if line.message_audio is not None:
                    played = play_url(line.message_audio, line.message_audio_sha256)
                shared.setdefault(
                    paths.message, render_message(line.message or "", *line.message_speech, played)
                )
            if line.sms is not None and line.sms.reply is not None:
                reply = line.sms.reply
                shared.setdefault(sms_reply_path(reply), render_sms_reply(reply))
            if TargetKind.FORWARD in kinds and paths.confirm and paths.confirm not in shared:
                shared[paths.confirm] = render_confirm(vm.voice, vm.language, line.prompts.confirm)
                shared.setdefault(CONFIRM_ACCEPT_PATH, render_confirm_accept())
        if TargetKind.FORWARD in kinds:
            env = forward_env(line.id)
            if only in (None, env):
                envs.setdefault(env, {})[forward_path(line.id)] = forward.render(line, paths)
        if TargetKind.QUEUE in kinds and only in (None, QUEUE_ENV):
            envs.setdefault(QUEUE_ENV, {})[queue_entry_path(line.id)] = render_queue_entry(
                line, paths, bindings
            )
    if only is not None:
        return {only: dict(sorted(envs.get(only, {}).items()))}
    return {env: dict(sorted(docs.items())) for env, docs in sorted(envs.items())}


class _ForwardTemplate:
    """``render_forward`` for thousands of lines: the library renders one document with marker
    values, and each line's values are put in its place, escaped as the library escapes text
    and attributes (``xml.sax.saxutils``). Same bytes as ``render_forward`` (a test holds it),
    at a fraction of the cost: ElementTree serialisation was most of the program's build time
    at 10,000 lines."""

    _TIMEOUT, _NUMBER, _URL = "9999999", "+10000000000", "https://marker.invalid/v.xml"
    _CONFIRM = "https://marker.invalid/c.xml"

    def __init__(self, bindings: Bindings) -> None:
        self.bindings = bindings
        self.text = self._template(confirm=False)
        self.confirming = self._template(confirm=True)

    def _template(self, *, confirm: bool) -> str:
        response = VoiceResponse()
        dial = response.dial(timeout=int(self._TIMEOUT))
        if confirm:
            dial.number(self._NUMBER, url=self._CONFIRM, method="GET")
        else:
            dial.number(self._NUMBER)
        response.redirect(self._URL, method="GET")
        text = _finish(response)
        assert all(text.count(m) == 1 for m in (self._TIMEOUT, self._NUMBER, self._URL))
        return text

    def render(self, line: Line, paths: LinePaths) -> str:
        from xml.sax.saxutils import escape, quoteattr

        target = line.failover_chain(Severity.MINOR)[0]
        assert target.kind is TargetKind.FORWARD, line.id
        timeout = quoteattr(str(target.timeout_s))[1:-1]
        text = self.confirming if target.confirm else self.text
        if target.confirm:
            text = text.replace(self._CONFIRM, escape(self.bindings.url(paths.confirm)))
        return (
            text.replace(self._TIMEOUT, timeout)
            .replace(self._NUMBER, escape(target.to))
            .replace(self._URL, escape(self.bindings.url(paths.voicemail)))
        )

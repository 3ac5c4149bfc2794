"""Render a line's static TwiML documents (voicemail, goodbye, message).

Pure: a Line in, XML strings out, byte-stable so golden files and Pulumi see no phantom
diffs. Built with the twilio library's ``VoiceResponse``; no XML is assembled by hand.

The documents are served as Serverless Assets, so they must not depend on request data:
- every URL inside them is a path on the same domain (``/lines/<id>/goodbye.xml``), which
  Twilio resolves against the document's own URL, and every such request uses GET
  (whether Assets answer POST is unconfirmed, twilio.md §6.6);
- ``<Record>`` always has an ``action`` (to the goodbye document); without one Twilio
  re-requests the voicemail document and the caller hears the greeting again, forever.
The queue hold document is not static: it is the ``/queue-wait`` Function
(``infra/templates/queue-wait.js``), which checks every cycle that someone is On Duty.

The greeting lives only in the voicemail document, so changing it changes one document.
Fixed prompts (goodbye) are English constants: the model has no field for them; they
are spoken with the line's voicemail voice and language.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from infra.model import FailoverTarget, Line, Severity, TargetKind
from infra.naming import goodbye_path, message_path, voicemail_path

GOODBYE_TEXT = "Thank you for your message. Goodbye."


def _finish(response: VoiceResponse) -> str:
    return response.to_xml() + "\n"


def _say(response: VoiceResponse, line: Line, text: str) -> None:
    response.say(text, voice=line.voicemail.voice, language=line.voicemail.language)


def render_voicemail(line: Line, target: FailoverTarget) -> str:
    """Greeting, then ``<Record>`` whose ``action`` is the goodbye document.

    ``target`` is the chain's VOICEMAIL step (its text is the greeting). The trailing
    ``<Hangup/>`` runs only when the recording is empty: Twilio then skips the action.
    """
    voicemail = line.voicemail
    response = VoiceResponse()
    _say(response, line, target.text)
    response.record(
        action=goodbye_path(line.id),
        method="GET",
        max_length=voicemail.max_length_s,
        recording_status_callback=voicemail.recording_callback,
    )
    response.hangup()
    return _finish(response)


def render_goodbye(line: Line) -> str:
    """Where ``<Record action>`` lands after a message was left: thank and hang up."""
    response = VoiceResponse()
    _say(response, line, GOODBYE_TEXT)
    response.hangup()
    return _finish(response)


def render_message(line: Line, target: FailoverTarget) -> str:
    """Say the custom error message (``failover.message``), then hang up."""
    response = VoiceResponse()
    _say(response, line, target.text)
    response.hangup()
    return _finish(response)


def _targets(line: Line) -> dict[TargetKind, FailoverTarget]:
    """First target of each kind over the chains of every severity.

    Documents for every severity are deployed up front, so switching severity during an
    outage only re-points numbers (see ``infra.routing``).
    """
    found: dict[TargetKind, FailoverTarget] = {}
    for severity in Severity:
        for target in line.failover_chain(severity):
            found.setdefault(target.kind, target)
    return found


def render_documents(line: Line) -> dict[str, str]:
    """Every TwiML document of a line, keyed by asset path, in path order.

    These exact strings are what ``plan --out`` writes and what the program uploads.
    """
    targets = _targets(line)
    documents: dict[str, str] = {}
    if TargetKind.VOICEMAIL in targets:
        documents[voicemail_path(line.id)] = render_voicemail(line, targets[TargetKind.VOICEMAIL])
        documents[goodbye_path(line.id)] = render_goodbye(line)
    if TargetKind.MESSAGE in targets:
        documents[message_path(line.id)] = render_message(line, targets[TargetKind.MESSAGE])
    return dict(sorted(documents.items()))

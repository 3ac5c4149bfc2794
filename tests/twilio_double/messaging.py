"""Inbound messages in the double: send a message to a number, get what the sender got back.

    journey = double.send_message("+14155550101", "+15551230000", "Are you open?",
                                  primary="http_500")        # the number's SMS URL fails
    assert journey.reply_texts() == ["We are offline; we will text you back."]
    print(journey)                                         # one step per line

What Twilio does, as documented (the same sources are cited where the tool relies on them,
``infra/routing.py`` and ``infra/twilio/numbers.py``):

- An incoming message makes Twilio request the number's ``sms_url`` with ``sms_method``,
  signed (``X-Twilio-Signature``), with the incoming-message parameters ``MessageSid``,
  ``SmsSid``, ``SmsMessageSid``, ``AccountSid``, ``MessagingServiceSid``, ``From``, ``To``,
  ``Body``, ``NumMedia``, ``NumSegments``, ``SmsStatus`` and ``ApiVersion``
  (https://www.twilio.com/docs/messaging/guides/webhook-request; GET carries them in the query).
- "If Twilio is unable to retrieve or execute TwiML from your web server, a request is
  immediately made to the number's Fallback URL", with ``ErrorCode`` and ``ErrorUrl``; the
  Console calls it "Primary handler fails" under Messaging Configuration
  (https://www.twilio.com/docs/usage/security/availability-reliability): the double requests
  ``sms_fallback_url`` with ``sms_fallback_method`` once.
- "For an error retrieving a SMS Request URL, an error is logged and nothing more is done"
  (https://www.twilio.com/en-us/blog/a-hidden-gem-fallback-urls-html): no fallback, or a
  failing one, gives the sender no reply.
- TwiML for Messaging (https://www.twilio.com/docs/messaging/twiml): ``<Message>`` (its text,
  or a ``<Body>`` noun) sends a reply, by default to the sender from the number (``to``/
  ``from`` attributes override); ``<Redirect method>`` (default POST) continues with another
  document; any other verb is Twilio's warning 14110 "Valid Verbs are Message, Sms and
  Redirect" (https://www.twilio.com/docs/api/errors/14110) and is skipped.
- Failure codes are those of calls (:mod:`.internet`: 11200 non-2xx, 11205 refused or no
  answer within 15 s, 12100 not TwiML): assumed to be the same for messaging (unconfirmed).
A number handling SMS with an application (``sms_application_sid``) is not simulated; a number
without an SMS URL requests nothing and replies nothing (assumed).
Must not import: infra.*
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - documents come from the test's own script
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .internet import DOCUMENT_PARSE_FAILURE, Answer, resolve
from .state import Record

if TYPE_CHECKING:
    from .voice import VoiceNetwork

INVALID_VERB = 14110
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class Sent:
    """One message Twilio sent because of the TwiML (a reply)."""

    to: str
    from_: str
    body: str


@dataclass
class MessageJourney:
    """What happened to one inbound message: requests made, replies sent, errors logged."""

    sid: str
    to: str
    from_: str
    body: str
    replies: list[Sent] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    used_fallback: bool = False

    def reply_texts(self) -> list[str]:
        return [sent.body for sent in self.replies]

    @property
    def outcome(self) -> str:
        """``replied``, ``no-reply`` (TwiML answered without a message) or ``error`` (every
        handler failed: Twilio only logs it)."""
        if self.replies:
            return "replied"
        return "error" if self.errors and self.errors[-1].startswith("no handler") else "no-reply"

    def __str__(self) -> str:
        lines = [f"{self.from_} texts {self.to}: {self.body!r}"]
        lines += [
            f"  {r['method']} {r['url'].split('?')[0]} -> {r['status']}" for r in self.requests
        ]
        lines += [f"  error {e}" for e in self.errors]
        lines += [f"  reply to {s.to}: {s.body!r}" for s in self.replies]
        return "\n".join(lines)


def _params(net: VoiceNetwork, journey: MessageJourney) -> dict[str, str]:
    """The incoming-message webhook parameters (module doc) for an SMS without media."""
    return {
        "MessageSid": journey.sid, "SmsSid": journey.sid, "SmsMessageSid": journey.sid,
        "AccountSid": net.state.account_sid, "MessagingServiceSid": "",
        "From": journey.from_, "To": journey.to, "Body": journey.body, "NumMedia": "0",
        "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
    }  # fmt: skip


def receive(
    net: VoiceNetwork, number: Record, from_: str, body: str, primary: Answer | str | None
) -> MessageJourney:
    """Deliver one inbound message to ``number`` and run its handlers (module doc)."""
    if primary is not None and number.get("sms_url"):
        net.internet.script(number["sms_url"], primary)
    journey = MessageJourney(net.state.new_sid("SM"), number["phone_number"], from_, body)
    if number.get("sms_application_sid"):
        journey.errors.append("number bound to an SMS application: not simulated")
        return journey
    if not number.get("sms_url"):  # nothing to request (what Twilio then does: assumed)
        journey.errors.append("no handler answered: the number has no SMS URL")
        return journey
    failure = _run(net, journey, number["sms_url"], number.get("sms_method") or "POST")
    if failure is None:
        return journey
    journey.errors.append(failure)
    fallback = number.get("sms_fallback_url")
    if not fallback:
        journey.errors.append("no handler answered: Twilio logs the error, the sender gets nothing")
        return journey
    journey.used_fallback = True
    code, url = failure.split(" ", 1)
    extra = {"ErrorCode": code, "ErrorUrl": url}
    again = _run(net, journey, fallback, number.get("sms_fallback_method") or "POST", extra)
    if again is not None:
        journey.errors += [again, "no handler answered: Twilio logs the error"]
    return journey


def _run(
    net: VoiceNetwork, journey: MessageJourney, url: str, method: str,
    extra: dict[str, str] | None = None,
) -> str | None:  # fmt: skip
    """Request ``url`` and run its TwiML; ``"<code> <url>"`` when it failed, else None."""
    for _ in range(MAX_REDIRECTS):
        fetched = net.request(url, method, {**_params(net, journey), **(extra or {})})
        journey.requests.append(fetched.log())
        if not fetched.ok:
            return f"{fetched.error_code} {url}"
        try:
            root = ET.fromstring(fetched.body.strip().encode())  # noqa: S314
        except ET.ParseError:
            return f"{DOCUMENT_PARSE_FAILURE} {url}"
        if root.tag != "Response":
            return f"{DOCUMENT_PARSE_FAILURE} {url}"
        redirect = _run_document(journey, root)
        if redirect is None:
            return None
        url, method = resolve(url, redirect[0]), redirect[1]
    journey.errors.append(f"stopped after {MAX_REDIRECTS} redirects")
    return None


def _run_document(journey: MessageJourney, root: ET.Element) -> tuple[str, str] | None:
    """Run the verbs; a ``<Redirect>`` ends the document with (url, method)."""
    for verb in root:
        if verb.tag == "Message":
            body = verb.find("Body")
            text = (body.text if body is not None else verb.text) or ""
            to, from_ = verb.get("to") or journey.from_, verb.get("from") or journey.to
            journey.replies.append(Sent(to, from_, text))
        elif verb.tag == "Redirect":
            return (verb.text or "").strip(), (verb.get("method") or "POST").upper()
        else:
            journey.errors.append(f"{INVALID_VERB} <{verb.tag}> is not a messaging verb: skipped")
    return None

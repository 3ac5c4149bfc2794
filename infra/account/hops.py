"""Walk a failover path as Twilio would: request each document, parse it, follow its verbs.

Pure apart from the requests it makes through ``infra.twilio.webhooks`` (signed, as Twilio
signs them). Each request and each dialled number is one ``Hop``; a hop with a ``problem``
is where a caller's path breaks. What is followed, with Twilio's defaults (TwiML docs):

- ``<Redirect method>`` (default POST; https://www.twilio.com/docs/voice/twiml/redirect);
- ``<Record action method>`` (default POST; https://www.twilio.com/docs/voice/twiml/record);
- ``<Dial action method>`` (default POST) and its ``<Number>``s, or a bare number
  (https://www.twilio.com/docs/voice/twiml/dial, .../twiml/number);
- ``<Enqueue workflowSid waitUrl waitUrlMethod>`` (wait default POST): the workflow must be the
  stack's, and the wait URL is requested like the others (the Function runs; it only reads)
  (https://www.twilio.com/docs/voice/twiml/enqueue);
- any other verb's ``action`` (default POST).

Relative URLs resolve against the document's URL (RFC 3986; that Twilio does the same for
``<Record action>`` is listed as unconfirmed in README). A document answers 2xx with a
``<Response>`` root, or Twilio fails the call (11200 for HTTP errors, 12100 for a document
that does not parse; https://www.twilio.com/docs/api/errors/12100).

TwiML comes from servers this tool does not control (a secondary server, a console edit), so
it is parsed with defusedxml, which refuses DTDs and entity declarations instead of expanding
them (an entity bomb in an answer cannot stall the check or exhaust its memory).
Must not import: pulumi, twilio, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

from infra.redact import scrub
from infra.twilio.webhooks import Answer

MAX_DOCUMENTS = 12
"""Documents one path may request: ours need at most 4; more means a redirect loop."""


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a line's failover path: where, and what breaks there ("" when nothing)."""

    line: str
    hop: str
    problem: str = ""
    notice: str = ""
    """Worth knowing but not a break (test mode, a secondary not probed)."""

    @property
    def ok(self) -> bool:
        return not self.problem


Request = Callable[[str, str], Answer]
"""``request(url, method)``: one signed request with the call's parameters."""

Dialable = Callable[[str], str]
"""``why_not(number)``: "" when the account may dial ``number``, else why it may not."""


@dataclass(slots=True)
class Walk:
    """One line's walk from its fallback URL; ``hops`` in the order a caller meets them."""

    line: str
    request: Request
    why_not_dialable: Dialable
    workflow_sid: str = ""
    hops: list[Hop] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def document(self, url: str, method: str, via: str) -> None:
        """Request ``url`` as Twilio would, then follow what the TwiML it answers points at."""
        method = (method or "POST").upper()
        if (url, method) in self._seen:
            return
        name = f"{via} {method} {shown(url)}"
        if len(self._seen) >= MAX_DOCUMENTS:
            self.add(name, f"more than {MAX_DOCUMENTS} documents: a redirect loop?")
            return
        self._seen.add((url, method))
        root, problem = parse_answer(self.request(url, method))
        self.add(name, problem)
        if root is not None:
            self._follow(root, url)

    def add(self, hop: str, problem: str = "", notice: str = "") -> None:
        self.hops.append(Hop(self.line, hop, problem, notice))

    def _follow(self, root: Element, base: str) -> None:
        for verb in root:
            tag = verb.tag
            if tag == "Dial":
                self._dial(verb)
            elif tag == "Enqueue":
                self._enqueue(verb, base)
            elif tag == "Redirect":
                target = (verb.text or "").strip()
                self._next(base, target, verb.get("method"), "<Redirect>")
            if verb.get("action"):
                self._next(base, verb.get("action", ""), verb.get("method"), f"<{tag} action>")

    def flow(self, name: str, definition: dict[str, Any], skip: str = "") -> None:
        """A Studio flow's steps that lead somewhere (its TwiML redirects, forwards and
        queue), as the flow would run them (widget properties: twilio.md §4.3). ``skip``: a
        redirect to the line's secondary server, requested only by ``--probe-secondary``."""
        self.add(f"Studio flow {name}")
        for state in definition.get("states") or []:
            kind, props = state.get("type"), state.get("properties") or {}
            if kind == "add-twiml-redirect" and props.get("url") and props["url"] != skip:
                self.document(str(props["url"]), str(props.get("method") or "POST"), "flow")
            elif kind == "connect-call-to" and props.get("noun") == "number":
                for number in str(props.get("to") or "").split(","):
                    self.add(f"flow dials {number.strip()}", self.why_not_dialable(number.strip()))
            elif kind == "enqueue-call":
                self._enqueue_at(str(props.get("workflow_sid") or ""))
                wait = str(props.get("wait_url") or "")
                if wait:
                    method = str(props.get("wait_url_method") or "POST")
                    self.document(wait, method, "flow wait_url")

    def _next(self, base: str, ref: str, method: str | None, via: str) -> None:
        if not ref:
            self.add(via, "has no URL")
            return
        self.document(urljoin(base, ref), method or "POST", via)

    def _dial(self, verb: Element) -> None:
        numbers = [(n.text or "").strip() for n in verb if n.tag == "Number"]
        bare = (verb.text or "").strip()
        for number in numbers + ([bare] if bare else []):
            self.add(f"<Dial> {number}", self.why_not_dialable(number))

    def _enqueue(self, verb: Element, base: str) -> None:
        self._enqueue_at(verb.get("workflowSid", ""))
        wait = verb.get("waitUrl")
        if wait:
            self._next(base, wait, verb.get("waitUrlMethod"), "<Enqueue waitUrl>")

    def _enqueue_at(self, sid: str) -> None:
        if not sid:
            return
        wrong = (
            ""
            if sid == self.workflow_sid
            else f"workflow {sid} is not the stack's TaskRouter workflow"
            + (f" ({self.workflow_sid})" if self.workflow_sid else " (none is deployed)")
        )
        self.add(f"enqueue into workflow {sid}", wrong)


def parse_answer(answer: Answer) -> tuple[Element | None, str]:
    """The ``<Response>`` of an answer, or the problem Twilio would fail the call with."""
    if answer.failure:
        return None, answer.failure + " (Twilio fails the call: 11205)"
    status = answer.status or 0
    if not 200 <= status < 300:
        return None, f"answered HTTP {status} (Twilio fails the call: 11200)"
    return parse_twiml(answer.body)


def parse_twiml(body: str) -> tuple[Element | None, str]:
    """``(root, "")`` for a TwiML document, else ``(None, why)``."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(body.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException:
        return None, "the answer declares a DTD or entities: not TwiML (12100)"
    except ParseError as exc:
        return None, f"the answer is not XML ({exc}; 12100)"
    if root.tag != "Response":
        return None, f"the answer's root is <{root.tag}>, not <Response> (12100)"
    return root, ""


def shown(url: str) -> str:
    """A URL as reports show it: never with the credentials it may carry (``user:pass@``)."""
    return scrub(url)

"""The scripted internet a simulated call talks to, and how Twilio's webhook requests look.

Nothing here opens a socket. Every URL outside the double (a customer's primary or
secondary call server, an alerts webhook) is answered from :class:`Internet`, a per-test
mapping URL -> :class:`Answer` (status + body, a delay, or a refused connection). A URL
nobody scripted is a refused connection, so a forgotten script shows up as a failure
instead of a silent success.

Twilio's side of each request (see README "Calls" for the sources):
- parameters are sent as a form body for POST and appended to the query for GET;
- ``X-Twilio-Signature`` = ``RequestValidator(auth_token).compute_signature(url, params)``
  (for GET the URL already carries the parameters and ``params`` is empty);
- a request that gets no response within 15 s fails (error 11205 per Twilio's error page),
  a refused connection fails at once (11205), a non-2xx answer fails with 11200, a body
  that is not TwiML fails with 12100.
Must not import: infra.*
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from twilio.request_validator import RequestValidator

RESPONSE_TIMEOUT = 15.0  # seconds Twilio waits for a webhook's answer
HTTP_RETRIEVAL_FAILURE = 11200
HTTP_CONNECTION_FAILURE = 11205
DOCUMENT_PARSE_FAILURE = 12100


@dataclass(frozen=True)
class Answer:
    """How a URL answers: ``status``/``body`` after ``delay`` s, or a refused connection."""

    status: int = 200
    body: str = ""
    content_type: str = "text/xml"
    delay: float = 0.0
    refused: bool = False

    @classmethod
    def twiml(cls, xml: str) -> Answer:
        return cls(200, xml)

    @classmethod
    def json(cls, text: str, status: int = 200) -> Answer:
        return cls(status, text, "application/json")


class PrimaryOutcome:
    """Scripted outcomes for a number's primary call server (``place_call(primary=…)``)."""

    http_500 = Answer(500, "Internal Server Error", "text/plain")
    no_answer = Answer(200, "<Response/>", delay=RESPONSE_TIMEOUT + 5)  # beyond 15 s
    refused = Answer(refused=True)
    invalid_twiml = Answer(200, "<Response><Say>unclosed</Response", "text/xml")

    @staticmethod
    def ok(xml: str = "<Response><Say>Hello from the primary.</Say></Response>") -> Answer:
        return Answer.twiml(xml)

    @classmethod
    def named(cls, name: str) -> Answer:
        """``"http_500"``, ``"no_answer"``, ``"refused"``, ``"invalid_twiml"`` or ``"ok"``."""
        value = getattr(cls, name.replace("-", "_"), None)
        if value is None or name.startswith("_"):
            raise ValueError(f"unknown primary outcome {name!r}")
        return value() if callable(value) else value


@dataclass
class Fetched:
    """One request Twilio made and what came of it (also logged on the journey)."""

    url: str
    method: str
    params: dict[str, str]
    signature: str
    status: int | None = None  # None: no HTTP answer (refused, timed out)
    body: str = ""
    content_type: str = ""
    elapsed: float = 0.0
    error_code: int | None = None
    served_by: str = "internet"  # internet, serverless, studio
    headers: dict[str, str] = field(default_factory=dict)  # a Function's response headers

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def log(self) -> dict[str, Any]:
        return {
            "method": self.method, "url": self.url, "params": dict(self.params),
            "status": self.status, "error_code": self.error_code, "served_by": self.served_by,
            "signed": bool(self.signature),
        }  # fmt: skip


@dataclass
class Internet:
    """URL -> Answer for everything outside the double; ``log`` keeps every request."""

    answers: dict[str, Answer] = field(default_factory=dict)
    default: Answer = field(default_factory=lambda: Answer(refused=True))
    log: list[dict[str, Any]] = field(default_factory=list)

    def script(self, url: str, answer: Answer | str) -> None:
        self.answers[_strip(url)] = (
            PrimaryOutcome.named(answer) if isinstance(answer, str) else answer
        )

    def answer_for(self, url: str) -> Answer:
        return self.answers.get(_strip(url), self.default)

    def requests_to(self, url: str) -> list[dict[str, Any]]:
        return [entry for entry in self.log if _strip(entry["url"]) == _strip(url)]


def _strip(url: str) -> str:
    """A URL without its fragment (Twilio's connection overrides ``#ct=…`` are not sent)."""
    return url.split("#", 1)[0]


def resolve(base: str, url: str) -> str:
    """A verb's URL resolved against the document it came from (relative URLs allowed)."""
    return urljoin(base, url.strip())


def request_url(url: str, method: str, params: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(URL as sent, form params): GET carries the parameters in the query string."""
    url = _strip(url)
    if method.upper() == "GET" and params:
        joiner = "&" if urlsplit(url).query else "?"
        return url + joiner + urlencode(params), {}
    return url, dict(params)


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    return RequestValidator(auth_token).compute_signature(url, params)


def valid_signature(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    return bool(signature) and RequestValidator(auth_token).validate(url, params, signature)


def from_answer(fetched: Fetched, answer: Answer) -> Fetched:
    """Fill ``fetched`` with what ``answer`` does to a Twilio webhook request."""
    if answer.refused:
        fetched.error_code = HTTP_CONNECTION_FAILURE
        return fetched
    if answer.delay >= RESPONSE_TIMEOUT:
        fetched.elapsed, fetched.error_code = RESPONSE_TIMEOUT, HTTP_CONNECTION_FAILURE
        return fetched
    fetched.elapsed = answer.delay
    fetched.status, fetched.body, fetched.content_type = (
        answer.status, answer.body, answer.content_type
    )  # fmt: skip
    if not 200 <= answer.status < 300:
        fetched.error_code = HTTP_RETRIEVAL_FAILURE
    return fetched

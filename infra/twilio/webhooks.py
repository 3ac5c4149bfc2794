"""Requests made the way Twilio makes them to a number's URLs: signed, with Twilio's timeout.

Used by ``failover check`` to request each hop of a line's failover path as Twilio would when
the primary fails. Sources:

- Signature: ``X-Twilio-Signature`` is the base64 HMAC-SHA1, keyed with the account's auth
  token, of the full URL (for GET, with its query) followed, for POST, by each form parameter
  name and value in sorted order (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
  ``twilio.request_validator.RequestValidator.compute_signature`` implements exactly that; an
  API key cannot sign (the docs name the auth token), so signing needs ``TWILIO_AUTH_TOKEN``.
- Parameters: for GET Twilio appends its parameters to the URL's query, for POST it sends them
  as a form (https://www.twilio.com/docs/usage/webhooks/voice-webhooks).
- Timeout: Twilio waits 15 s in all for an HTTP response, then fails the request with error
  11205 (https://www.twilio.com/docs/api/errors/11205): ``TWILIO_TIMEOUT_S``.

Under a base URL (``twilio:apiBaseUrl`` / ``TWILIO_API_BASE_URL``, testing only) every request
goes to ``{base_url}/{host}{path}`` instead, so tests reach the Twilio double on loopback and
never the real host. No redirect is followed (Twilio's behaviour for a 3xx answer to a
webhook is not relied on) and nothing here ever names a credential: a failure is described by
its kind, never by the exception's text, which can repeat the URL.
Must not import: pulumi, infra.model, infra.lines, infra.render, infra.program, infra.cli,
infra.providers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from infra.stack import Settings

TWILIO_TIMEOUT_S = 15.0
"""How long Twilio waits for a webhook's HTTP response (error 11205's page)."""

MAX_BODY = 1_000_000
"""Bytes of an answer read at most: far more than any TwiML document, so a server answering
endlessly cannot exhaust memory."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a signed request got: an HTTP status and body, or ``failure`` (no HTTP answer)."""

    status: int | None
    body: str = ""
    content_type: str = ""
    failure: str = ""
    """``timed out after 15 s``, ``connection failed``, ... (never the exception text)."""


class Webhooks:
    """Signed GET/POST requests as Twilio sends them to a number's voice URLs."""

    def __init__(self, settings: Settings) -> None:
        import requests
        from twilio.request_validator import RequestValidator

        self._base_url = settings.base_url or ""
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment: Twilio uses none
        # One pooled connection per line checked at once (requests keeps 10 per host).
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, settings.concurrency))
        for scheme in ("https://", "http://"):
            self._session.mount(scheme, adapter)
        token = settings.password if settings.username == settings.account_sid else ""
        self._validator = RequestValidator(token) if token else None

    @property
    def can_sign(self) -> bool:
        """False with API-key credentials: only the auth token signs Twilio's requests."""
        return self._validator is not None

    def request(
        self, url: str, method: str, params: dict[str, str], timeout_s: float = TWILIO_TIMEOUT_S
    ) -> Answer:
        """One request as Twilio makes it: GET carries ``params`` in the query, POST as a form."""
        from requests import RequestException, Timeout

        if self._validator is None:
            return Answer(None, failure="cannot sign: needs TWILIO_AUTH_TOKEN (not an API key)")
        unreachable = _unreachable(url) if not self._base_url else ""
        if unreachable:
            return Answer(None, failure=unreachable)
        method = method.upper()
        sent, form = url.split("#", 1)[0], dict(params)
        if method == "GET" and params:
            sent += ("&" if urlsplit(sent).query else "?") + urlencode(params)
            form = {}
        signature = self._validator.compute_signature(sent, form)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        try:
            response = self._session.request(
                method,
                self._target(sent),
                data=form or None,
                headers=headers,
                timeout=timeout_s,
                allow_redirects=False,
                stream=True,
            )
            body = response.raw.read(MAX_BODY + 1, decode_content=True)
        except Timeout:
            return Answer(None, failure=f"no answer within {timeout_s:g} s")
        except RequestException as exc:
            return Answer(None, failure=f"connection failed ({type(exc).__name__})")
        if len(body) > MAX_BODY:
            return Answer(response.status_code, failure=f"answer larger than {MAX_BODY:,} bytes")
        content_type = response.headers.get("Content-Type", "")
        return Answer(response.status_code, body.decode("utf-8", "replace"), content_type)

    def _target(self, url: str) -> str:
        if not self._base_url:
            return url
        parts = urlsplit(url)
        rest = url[len(f"{parts.scheme}://{parts.netloc}") :]
        return f"{self._base_url}/{parts.hostname}{rest}"

    def close(self) -> None:
        self._session.close()


def _unreachable(url: str) -> str:
    """Why Twilio could not request ``url`` either, so it is not requested from here: not
    http(s), or a loopback, private or link-local address (Twilio fails those with 11205:
    https://www.twilio.com/docs/api/errors/11205). Host names are not resolved: one that
    resolves to a private address is requested (unconfirmed what Twilio does with it)."""
    import ipaddress

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "not requested: not a URL"
    if parts.scheme not in ("http", "https") or not host:
        return "not requested: not an http(s) URL"
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "not requested: a local host name, which Twilio cannot reach"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if not address.is_global:
        return "not requested: a private or local address, which Twilio cannot reach"
    return ""

"""The double's web: Serverless domains and the scripted internet, over loopback HTTP.

``{base_url}/{host}/{path}?{query}`` for a host that is not a Twilio API host answers what
``https://{host}/{path}?{query}`` would answer a real client, so a tool whose every https
request goes under the double's base URL (``twilio:apiBaseUrl``, testing only) can request
a number's fallback documents and secondary servers as Twilio does:

- ``*.twil.io``: the deployed build (:func:`.runtime.serve`): ``protected`` files only with a
  valid ``X-Twilio-Signature`` computed over ``https://{host}/{path}?{query}`` (and the form
  for POST), as Twilio documents (https://www.twilio.com/docs/usage/webhooks/webhooks-security);
- any other host: the scripted :class:`~.internet.Internet` answer for that URL (refused when
  unscripted); its ``delay`` is slept for real here, up to ``MAX_REAL_DELAY`` seconds, so a
  client's timeout can be tested without a virtual clock.

Every request is appended to ``internet.log`` with ``from: "http"`` and whether its
signature was valid. Must not import: infra.*
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from . import runtime
from .dispatch import Incoming, Outcome
from .internet import Fetched, valid_signature

if TYPE_CHECKING:
    from .voice import VoiceNetwork

MAX_REAL_DELAY = 5.0


def is_web(target: str) -> bool:
    """A request for a non-API host (``/{host}/…`` whose host is not ``*.twilio.com``)."""
    host = urlsplit(target).path.lstrip("/").partition("/")[0]
    return "." in host and not host.endswith(".twilio.com")


def handle(net: VoiceNetwork, incoming: Incoming) -> Outcome:
    parts = urlsplit(incoming.target)
    host, _, rest = parts.path.lstrip("/").partition("/")
    url = f"https://{host}/{rest}" + (f"?{parts.query}" if parts.query else "")
    form: dict[str, str] = {}
    if incoming.method == "POST" and incoming.body:
        form = dict(parse_qsl(incoming.body.decode("utf-8", "replace"), keep_blank_values=True))
    signature = incoming.headers.get("X-Twilio-Signature") or ""
    fetched = Fetched(url, incoming.method, form, signature)
    if runtime.is_runtime_host(host):
        with net.lock:
            runtime.serve(
                net.state, net.auth_token, net.internet, fetched, host, f"/{rest}", url, net.api
            )
    else:
        answer = net.internet.answer_for(url)
        if answer.refused:
            return _logged(net, fetched, Outcome(None))
        if answer.delay:
            time.sleep(min(answer.delay, MAX_REAL_DELAY))
        fetched.status, fetched.body, fetched.content_type = (
            answer.status, answer.body, answer.content_type
        )  # fmt: skip
    headers = (("Content-Type", fetched.content_type or "text/plain"),)
    return _logged(net, fetched, Outcome(fetched.status, fetched.body.encode(), headers))


def _logged(net: VoiceNetwork, fetched: Fetched, outcome: Outcome) -> Outcome:
    valid = valid_signature(net.auth_token, fetched.url, fetched.params, fetched.signature)
    net.internet.log.append({**fetched.log(), "from": "http", "signature_valid": valid})
    return outcome

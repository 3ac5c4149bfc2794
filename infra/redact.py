"""Credentials inside URLs never leave the process: ``scrub`` replaces them in any text.

A URL may carry ``user:password@`` (HTTP Basic auth to the customer's server, which Twilio
supports for webhooks: https://www.twilio.com/docs/usage/security#http-authentication).
``lines.yaml`` refuses such URLs, but live values read from Twilio (a number's voice and
fallback URLs set in the Console, a Studio flow's redirect) can hold them, and so can Twilio's
own error messages, which may repeat a request's parameters. Every report and error that shows
a live value passes it through ``scrub``. Must not import: anything (imported by every layer).
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")


def scrub(text: str) -> str:
    """``text`` with the userinfo of every URL in it replaced by ``***``:
    ``https://u:p@host/x`` -> ``https://***@host/x``; other text unchanged."""
    return _USERINFO.sub(r"\1***@", text) if "@" in text else text

"""Can Twilio (and the Functions' Node fetch) use this URL? One linear parse, no regexes.

``problem(url)`` gives the reason a URL is refused, never the URL itself, which may carry
credentials; ``redact(url)`` drops credentials from a URL that is shown anyway.
Must not import: anything from infra.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

MAX_LENGTH = 2000
"""Longest URL accepted for any URL field (Twilio's URL parameters are bounded; this tool
keeps well inside the limits it has seen documented)."""

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
_ADDRESS_CHARS = frozenset("0123456789abcdefABCDEF:.")
"""All an IP address literal can be made of (hex digits, colons, dots): a host with any
other character is a name, without asking ipaddress (whose refusal costs an exception)."""


def problem(url: str) -> str | None:
    """Why Twilio cannot request ``url``, in words that do not repeat it; None when fine."""
    if len(url) > MAX_LENGTH:
        return f"is {len(url)} characters long; URLs may be at most {MAX_LENGTH} characters"
    # Every whitespace character but the space is also not printable: one look when clean.
    for position, char in enumerate("" if url.isprintable() and " " not in url else url, 1):
        if char.isspace() or not char.isprintable():
            return (
                f"has a space or invisible character (U+{ord(char):04X}) at character "
                f"{position}; remove it or percent-encode it"
            )
    if not url.lower().startswith("https://"):
        return "must be an absolute https:// URL with a host, e.g. https://voice.example.com/main"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"is not a valid URL ({exc}); check the host and brackets"
    if "@" in parts.netloc:
        return (
            "carries credentials (user:password@host); Node's fetch refuses them and they would "
            "appear in plans and logs: use a token your server checks instead, or Twilio's "
            "request signature"
        )
    return _host_problem(parts) or _port_problem(parts)


def _port_problem(parts: SplitResult) -> str | None:
    try:
        port = parts.port
    except ValueError:
        return "has an invalid port; a port is a number from 1 to 65535"
    if port == 0 or (parts.netloc.endswith(":") and port is None):
        return "has an invalid port; a port is a number from 1 to 65535"
    return None


def _host_problem(parts: SplitResult) -> str | None:
    host = parts.hostname or ""
    if not host:
        return "has no host; write https://HOST/path"
    address = _address(host, parts.netloc)
    if isinstance(address, str):
        return address
    if address is not None:
        if not address.is_global:
            kind = (
                "a loopback"
                if address.is_loopback
                else "a private"
                if address.is_private
                else "a link-local"
                if address.is_link_local
                else "a reserved or non-public"
            )
            return f"points at {kind} address ({address}); Twilio calls URLs from the internet, so use a public host name"
        return None
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
        return (
            f"points at {host}, a name only your own network knows; Twilio calls URLs from "
            "the internet, so use a public host name"
        )
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return "has a host that is not a valid domain name"
    labels = ascii_host.rstrip(".").split(".")
    if (
        not set(ascii_host) <= _HOST_CHARS
        or len(ascii_host) > 253
        or any(
            not label or len(label) > 63 or label[0] == "-" or label[-1] == "-" for label in labels
        )
    ):
        return "has a host that is not a valid domain name (letters, digits, dashes and dots only)"
    if len(labels) < 2:
        return f"has the host {host}, which is not a public domain name; use a fully qualified name"
    return None


def _address(host: str, netloc: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | str | None:
    """The IP address the host is, None for a name, or a problem text."""
    bracketed = "[" in netloc
    literal = host.split("%", 1)[0]
    if _ADDRESS_CHARS.issuperset(literal):
        try:
            return ipaddress.ip_address(literal)
        except ValueError:
            pass
    if bracketed:
        return "has a bracketed host that is not an IPv6 address"
    if host.replace(".", "").isdigit():
        return "has a numeric host that is not a valid IPv4 address"
    return None


def scrub(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***`` (for reports that
    show live values: a number's URLs may carry ``user:password@`` set outside this tool)."""
    return _USERINFO.sub(r"\1***@", text)


_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")


def redact(url: str) -> str:
    """``url`` without credentials (``user:password@``); other text unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@", 1)[-1] if "@" in url else url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"***@{host}").geturl()

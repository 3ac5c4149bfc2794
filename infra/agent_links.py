"""Agents' personal links to their failover page: ``https://{domain}/agents?a=<id>&t=<token>``.

The token is ``base64url(HMAC-SHA256(secret, "agent-link:" + agent id))`` without padding.
The secret is the stack's ``failover:agentLinkSecret`` (``infra.stack.agent_link_secret``);
the ``/agents`` Function receives it as the Serverless environment variable
``AGENT_LINK_SECRET`` and recomputes the same HMAC (``infra/templates/agents.js``), comparing
in constant time. Rotating the secret revokes every link at once; nothing else is stored.
HMAC-SHA256 (RFC 2104 with SHA-256) is in Python's ``hmac`` and node's ``crypto``, so both
sides agree without a shared library.

Pure. Must not import: pulumi, twilio, infra.lines, infra.providers, infra.render, infra.cli.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

from infra.naming import AGENTS_PATH

TOKEN_CONTEXT = "agent-link:"  # noqa: S105 - a label, not a secret
"""Prefix of the signed text: a token for this purpose only, never a bare HMAC of an id."""


def link_token(secret: str, agent_id: str) -> str:
    """The token of ``agent_id``'s link under ``secret`` (43 URL-safe characters)."""
    digest = hmac.new(
        secret.encode("utf-8"), (TOKEN_CONTEXT + agent_id).encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def agent_link(domain_name: str, agent_id: str, secret: str) -> str:
    """The personal page address of ``agent_id`` on the stack's Serverless domain."""
    query = urlencode({"a": agent_id, "t": link_token(secret, agent_id)})
    return f"https://{domain_name}{AGENTS_PATH}?{query}"


def secret_fingerprint(secret: str) -> str:
    """A short digest that tells two secrets apart without revealing either: what the
    provider keeps in state to notice a rotation (SHA-256 of a fixed context and the secret,
    16 hex digits)."""
    return hashlib.sha256(b"agent-link-secret-fingerprint:" + secret.encode("utf-8")).hexdigest()[
        :16
    ]

"""Deploy-time values some artifacts embed (Serverless domain, TaskRouter SIDs).

Their defaults are readable placeholders, so ``plan --out`` output is deterministic and shows
where each value goes; the Pulumi program and the providers substitute the real values.

Pure. Must not import: pulumi, twilio, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.naming import asset_url

_PLACEHOLDER = re.compile(r"\$\{[a-z_.-]+\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Bindings:
    """Deploy-time values embedded in some artifacts, placeholders until they are known.

    The Pulumi program renders with real values (inside ``Output.apply``); ``plan --out``
    renders with the placeholders. Same inputs, same bytes either way. Use
    ``find_placeholders`` on rendered text to prove nothing was left unfilled.
    """

    domain_name: str = "${serverless.domain_name}"
    """The environment's ``domain_name`` (e.g. ``acme-failover-prod-1234.twil.io``)."""
    forward_domain: str = "${serverless.forward_domain}"
    """``domain_name`` of the line's forwarding environment (``fwd-NN``): a Studio flow of a
    line with ``failover.confirm`` hands the caller to its forwarding document there."""
    workflow_sid: str = "${taskrouter.workflow_sid}"
    on_duty_activity_sid: str = "${taskrouter.on_duty_activity_sid}"
    queue_sids: Mapping[str, str] = field(default_factory=dict)
    """TaskQueue SID per queued line id; missing ones render as placeholders."""

    def queue_sid(self, line_id: str) -> str:
        return self.queue_sids.get(line_id, "${taskrouter.queue_sid." + line_id + "}")

    def url(self, path: str) -> str:
        """Absolute URL of an asset or Function path on the (possibly placeholder) domain."""
        return asset_url(self.domain_name, path)


PLACEHOLDERS = Bindings()
"""Bindings made only of placeholders: what ``plan --out`` renders with."""


def find_placeholders(text: str) -> list[str]:
    """Placeholders still present in rendered text, sorted and unique (empty when complete)."""
    return sorted(set(_PLACEHOLDER.findall(text)))


def bind(text: str, bindings: Bindings) -> str:
    """``text`` rendered with ``PLACEHOLDERS``, with ``bindings``' values put in their place.

    Same bytes as rendering with ``bindings`` (a test holds it) for the values this tool
    binds: domain names and SIDs, which need no XML or JSON escaping.
    """
    for placeholder, value in (
        (PLACEHOLDERS.domain_name, bindings.domain_name),
        (PLACEHOLDERS.forward_domain, bindings.forward_domain),
        (PLACEHOLDERS.workflow_sid, bindings.workflow_sid),
        (PLACEHOLDERS.on_duty_activity_sid, bindings.on_duty_activity_sid),
    ):
        if placeholder != value:
            text = text.replace(placeholder, value)
    return text

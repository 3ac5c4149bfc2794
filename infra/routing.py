"""Which entry each line's number gets, at each severity, and the route fingerprint.

Entry choice (one rule): a single failover step that cannot fall through is served
directly (a secondary server URL by POST, or a static TwiML document by GET); a chain with
more than one step (forward→voicemail, queue→voicemail) or a configured ``alerts.webhook``
needs a Studio flow (POST to its webhook). Severity only changes the entry of lines with a
queue: they get a separate, pre-deployed queue flow, so switching severity during an
outage only re-points numbers and never has to publish a flow or rebuild assets.

The plan, the Pulumi program and the drift check all call ``fallback_entry``.

Pure. Must not import: pulumi, twilio, infra.lines, infra.providers, infra.render, infra.cli.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from infra.model import Line, LinesConfig, Severity, TargetKind
from infra.naming import asset_url, flow_name, message_path, voicemail_path


class EntryKind(enum.Enum):
    """What a number's voice URL points at."""

    URL = "url"
    """A secondary call server (``failover.url``), requested with POST like a primary."""
    DOCUMENT = "document"
    """A static TwiML document on the Serverless domain, requested with GET."""
    FLOW = "flow"
    """A Studio flow's webhook, requested with POST."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A voice entry point, known before deployment: kind, reference and HTTP method.

    ``ref`` is an https URL (URL), an asset path (DOCUMENT) or a Studio flow name (FLOW).
    """

    kind: EntryKind
    ref: str
    method: str
    """``POST`` or ``GET``. Documents use GET: whether Assets answer POST is unconfirmed."""

    def resolve(self, domain_name: str, flow_webhook_urls: Mapping[str, str]) -> str:
        """Return the URL to set on the number once the domain and flow webhooks are known.

        ``flow_webhook_urls`` maps flow names to the flows' ``webhook_url``; a missing flow
        raises KeyError naming it.
        """
        if self.kind is EntryKind.URL:
            return self.ref
        if self.kind is EntryKind.DOCUMENT:
            return asset_url(domain_name, self.ref)
        try:
            return flow_webhook_urls[self.ref]
        except KeyError:
            raise KeyError(f"no webhook URL known for Studio flow {self.ref!r}") from None

    def as_dict(self) -> dict[str, str]:
        """JSON-able form, as written to ``entries.json``."""
        return {"kind": self.kind.value, "method": self.method, "ref": self.ref}


def needs_flow(line: Line, severity: Severity, *, alerts: bool) -> bool:
    """True when the line's failover at this severity is served by a Studio flow."""
    return alerts or len(line.failover_chain(severity)) > 1


def is_queued(line: Line, severity: Severity) -> bool:
    """True when the chain at this severity starts in the line's call queue."""
    return line.failover_chain(severity)[0].kind is TargetKind.QUEUE


def fallback_entry(line: Line, severity: Severity, *, config: LinesConfig) -> Entry:
    """Return the entry a number gets as its voice fallback (``VoiceFallbackUrl``/``Method``).

    ``config`` supplies the account (flow names) and ``alerts.webhook`` (which turns every
    entry into a flow, since posting the alert is a flow step). The plan, the Pulumi
    program and the drift check must all call this one function.
    """
    chain = line.failover_chain(severity)
    if needs_flow(line, severity, alerts=config.alerts_webhook is not None):
        name = flow_name(config.account, line.id, queued=is_queued(line, severity))
        return Entry(EntryKind.FLOW, name, "POST")
    (only,) = chain
    if only.kind is TargetKind.URL:
        return Entry(EntryKind.URL, only.to, "POST")
    if only.kind is TargetKind.MESSAGE:
        return Entry(EntryKind.DOCUMENT, message_path(line.id), "GET")
    if only.kind is TargetKind.VOICEMAIL:
        return Entry(EntryKind.DOCUMENT, voicemail_path(line.id), "GET")
    raise ValueError(f"line {line.id}: a lone {only.kind.value} step has no entry point")


def primary_entry(line: Line, severity: Severity, *, config: LinesConfig) -> Entry | None:
    """Return the entry for the number's primary ``VoiceUrl``, or None to leave it alone.

    Test mode points the primary at the same entry as the fallback, so every call goes
    straight to the failover. Otherwise a declared ``primary:`` is managed as given (POST),
    and a line without one keeps whatever primary its owner set.
    """
    if line.test:
        return fallback_entry(line, severity, config=config)
    if line.primary is not None:
        return Entry(EntryKind.URL, line.primary, "POST")
    return None


def fallback_entries(config: LinesConfig, severity: Severity) -> dict[str, Entry]:
    """``fallback_entry`` for every line, keyed by line id, in file order."""
    return {line.id: fallback_entry(line, severity, config=config) for line in config.lines}


def route_fingerprint(line: Line, config: LinesConfig) -> str:
    """Who answers when this line's primary fails, at either severity; not the words spoken.

    The ledger compares these between runs; a greeting edit leaves it unchanged, as in
    ``failover diff``.
    """
    shape = {
        "number": line.number,
        "primary": line.primary,
        "test": line.test,
        "routes": {
            severity.value: {
                "entry": fallback_entry(line, severity, config=config).as_dict(),
                "chain": [[s.kind.value, s.to, s.timeout_s] for s in line.failover_chain(severity)],
            }
            for severity in Severity
        },
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]

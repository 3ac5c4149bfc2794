"""Where Twilio enters a line's failover: stable names, asset paths and the entry choice.

Everything that names a Twilio-side object lives here, so the renderers, the Pulumi program,
the plan and the drift check agree without re-deriving anything:

- asset paths of the per-line TwiML documents (``/lines/<id>/voicemail.xml`` ...) and the
  Function paths (``/assignment``, ``/alert``);
- Studio flow names, the Serverless service unique name, the TaskRouter workspace name;
- ``fallback_entry()``: which entry point a number gets as its voice fallback, as an
  ``Entry`` that is usable before deployment and resolved to a URL afterwards;
- ``Bindings``: the deploy-time values (Serverless domain, TaskRouter SIDs) that some
  artifacts embed. Their defaults are readable placeholders, so ``plan --out`` output is
  deterministic and shows where each value goes.

Entry choice (one rule): a single failover step that cannot fall through is served
directly (a secondary server URL by POST, or a static TwiML document by GET); a chain with
more than one step (forward→voicemail, queue→voicemail) or a configured ``alerts.webhook``
needs a Studio flow (POST to its webhook). Severity only changes the entry of lines with a
queue: they get a separate, pre-deployed queue flow, so switching severity during an
outage only re-points numbers and never has to publish a flow or rebuild assets.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.model import Line, LinesConfig, Severity, TargetKind

ASSIGNMENT_PATH = "/assignment"
"""Serverless Function answering TaskRouter's assignment callback with a dequeue instruction."""
ALERT_PATH = "/alert"
"""Serverless Function that forwards a failover alert to ``alerts.webhook`` (bounded wait)."""

QUEUE_FLOW_SUFFIX = ".queue"
"""Appended to a line id for its severe-outage queue flow; line ids cannot contain a dot."""

SERVICE_NAME_MAX = 50
"""Serverless ``UniqueName`` limit; it becomes part of the ``*.twil.io`` domain."""

_PLACEHOLDER = re.compile(r"\$\{[a-z_.-]+\}")


def voicemail_path(line_id: str) -> str:
    """Asset path of the line's voicemail document (greeting, then ``<Record>``)."""
    return f"/lines/{line_id}/voicemail.xml"


def goodbye_path(line_id: str) -> str:
    """Asset path of the document the voicemail ``<Record action>`` goes to."""
    return f"/lines/{line_id}/goodbye.xml"


def message_path(line_id: str) -> str:
    """Asset path of the custom error-message document (``failover.message``)."""
    return f"/lines/{line_id}/message.xml"


def queue_wait_path(line_id: str) -> str:
    """Asset path of the queue hold document (the enqueue ``wait_url``); ends in ``<Leave/>``."""
    return f"/lines/{line_id}/queue-wait.xml"


def flow_key(line_id: str, *, queued: bool = False) -> str:
    """Key of one of a line's flows: the line id, or ``<id>.queue`` for its queue flow.

    The key names the artifact (``studio/<key>.json``) and, prefixed, the Studio flow.
    """
    return f"{line_id}{QUEUE_FLOW_SUFFIX}" if queued else line_id


def flow_name(account: str, line_id: str, *, queued: bool = False) -> str:
    """Studio FriendlyName of a line's flow, e.g. ``acme-failover-sales``.

    Unique per account (flows are looked up by this name before creating one). The queue
    flow of a line is ``acme-failover-support.queue``.
    """
    return f"{account}-failover-{flow_key(line_id, queued=queued)}"


def service_unique_name(account: str, stack: str) -> str:
    """Serverless service UniqueName for one stack, e.g. ``acme-failover-prod``.

    Twilio allows letters, digits and dashes, fewer than 50 characters, and the name
    becomes part of the ``*.twil.io`` domain. Other characters of the stack name (``_``,
    ``.``) become dashes; a name that is still too long is an error, not silently cut.
    """
    stack_part = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-")
    if not stack_part:
        raise ValueError(f"stack name {stack!r} has no letters or digits to build a service name")
    name = f"{account}-failover-{stack_part}"
    if len(name) >= SERVICE_NAME_MAX:
        raise ValueError(
            f"Serverless service name {name!r} has {len(name)} characters; Twilio allows fewer "
            f"than {SERVICE_NAME_MAX}: shorten the account name or the stack name"
        )
    return name


def workspace_name(account: str) -> str:
    """TaskRouter workspace FriendlyName, e.g. ``acme-failover``."""
    return f"{account}-failover"


def workflow_name(account: str) -> str:
    """TaskRouter workflow FriendlyName (one workflow routes every queued line)."""
    return f"{account}-failover"


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


def asset_url(domain_name: str, path: str) -> str:
    """Absolute URL of an asset or Function path on the Serverless domain."""
    return f"https://{domain_name}{path}"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Bindings:
    """Deploy-time values embedded in some artifacts, placeholders until they are known.

    The Pulumi program renders with real values (inside ``Output.apply``); ``plan --out``
    renders with the placeholders. Same inputs, same bytes either way. Use
    ``find_placeholders`` on rendered text to prove nothing was left unfilled.
    """

    domain_name: str = "${serverless.domain_name}"
    """The environment's ``domain_name`` (e.g. ``acme-failover-prod-1234.twil.io``)."""
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

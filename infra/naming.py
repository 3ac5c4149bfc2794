"""Every Twilio-side name and path this tool gives, and how to recognise them again.

The renderers, the Pulumi program, the plan, the drift check and ``failover import`` all name
things through this module, so a name is derived in exactly one place:

- asset paths of the per-line TwiML documents (``/lines/<id>/voicemail.xml`` ...) and the
  Function paths (``/assignment``, ``/alert``);
- Studio flow names, the Serverless service unique name and environment, the TaskRouter
  workspace, workflow and activity names;
- recognisers for those names (``parse_flow_name``), used when reading an account.

Pure. Must not import: pulumi, twilio, infra.lines, infra.providers, infra.render, infra.cli.
"""

from __future__ import annotations

import hashlib
import json
import re

ASSIGNMENT_PATH = "/assignment"
"""Serverless Function answering TaskRouter's assignment callback with a call instruction."""
AGENT_STATUS_PATH = "/agent-status"
"""Serverless Function receiving the agent leg's status callback: completes the task after a
call, rejects the reservation after a missed ring (``infra/templates/agent-status.js``)."""
AGENT_WHISPER_PATH = "/agent-whisper"
"""Serverless Function run on the agent's leg of a queued call: says the line and the caller,
bridges only after the agent presses 1 (``infra/templates/agent-whisper.js``)."""
QUEUE_WAIT_PATH = "/queue-wait"
"""Serverless Function serving the queue hold document (``?line=<id>``): leaves at once when
nobody On Duty serves the line (``infra/templates/queue-wait.js``)."""
AGENTS_PATH = "/agents"
"""Public Serverless Function: an agent's failover page (state, On/Off Duty buttons, callers
waiting), reached through the agent's signed personal link (``infra/agent_links.py``)."""
AGENT_LINK_SECRET_VARIABLE = "AGENT_LINK_SECRET"  # noqa: S105 - a name, not a secret
"""Serverless environment variable holding ``failover:agentLinkSecret`` for ``/agents``."""
PUBLIC_FUNCTION_PATHS = frozenset({AGENTS_PATH})
"""Functions a phone browser calls directly (no ``X-Twilio-Signature``): deployed ``public``;
every other Function stays ``protected``."""
ALERT_PATH = "/alert"
"""Serverless Function that forwards a failover alert to ``alerts.webhook`` (bounded wait)."""

QUEUE_FLOW_SUFFIX = ".queue"
"""Appended to a line id for its severe-outage queue flow; line ids cannot contain a dot."""

SERVICE_NAME_MAX = 50
"""Serverless ``UniqueName`` limit; it becomes part of the ``*.twil.io`` domain."""


def voicemail_path(line_id: str) -> str:
    """Asset path of the line's voicemail document (greeting, then ``<Record>``)."""
    return f"/lines/{line_id}/voicemail.xml"


def goodbye_path(line_id: str) -> str:
    """Asset path of the document the voicemail ``<Record action>`` goes to."""
    return f"/lines/{line_id}/goodbye.xml"


def message_path(line_id: str) -> str:
    """Asset path of the custom error-message document (``failover.message``)."""
    return f"/lines/{line_id}/message.xml"


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


def asset_url(domain_name: str, path: str) -> str:
    """Absolute URL of an asset or Function path on the Serverless domain."""
    return f"https://{domain_name}{path}"


ENVIRONMENT = "failover"
"""Serverless environment of the 0.2 deployment model (per-line ``/lines/<id>/…`` documents).
Recognised when reading an account and removed by the migration; nothing new goes there."""

SHARED_ENV = "shared"
"""Serverless environment of the documents many lines share (voicemail, goodbye, message) and
of the Functions (``/assignment``, ``/agent-status``, ``/queue-wait``, ``/alert``)."""
QUEUE_ENV = "queues"
"""Serverless environment of the queued lines' entry documents (``/q/<id>.xml``); separate
because they embed the TaskRouter workflow SID, whose assignment callback lives in ``shared``."""
FORWARD_SHARDS = 16
"""Forwarding documents (``/f/<id>.xml``) are spread over this many environments, so no build
exceeds Twilio's 1,000 public/protected asset versions (about 600 each at 10,000 lines).
Changing it moves lines between environments: a planned migration, never a runtime choice."""
ENVIRONMENT_DOCUMENT_CAP = 900
"""Most documents one environment may hold: Twilio allows 1,000 public/protected asset
versions per build (https://www.twilio.com/docs/runtime/functions-assets-api, "A build
can contain up to 1000 public/protected asset versions"); 10% headroom."""
CONFIRM_ACCEPT_PATH = "/c/accept.xml"
"""Where a forward's confirm whisper goes once the callee pressed a key: an empty document,
so the whisper ends and Twilio connects the caller (``failover.confirm``)."""
DEFAULT_VOICEMAIL_PATH = "/v/default.xml"
"""The voicemail document of every line whose voicemail is ``defaults.voicemail``; a stable
path, so a new default greeting changes this one document and no number or forward document."""


def forward_env(line_id: str) -> str:
    """Environment holding the line's forwarding document: ``fwd-00`` … ``fwd-15``, by a hash
    of the id, so adding or removing other lines never moves a line."""
    return f"fwd-{_bucket(line_id, FORWARD_SHARDS):02d}"


NUMBER_BATCHES = 40
"""Lines' numbers are managed in this many Pulumi resources (``PhoneNumberBatch``), about 250
lines each at 10,000 lines; a line's batch is a hash of its id (``number_batch``)."""


def _bucket(line_id: str, buckets: int) -> int:
    return int(hashlib.sha256(line_id.encode()).hexdigest()[:8], 16) % buckets


def number_batch(line_id: str) -> str:
    """Pulumi name of the batch managing the line's number: ``numbers-00`` … ``numbers-39``."""
    return f"numbers-{_bucket(line_id, NUMBER_BATCHES):02d}"


def forward_path(line_id: str) -> str:
    """The forwarding entry document: ``<Dial>`` the failover number, then the voicemail."""
    return f"/f/{line_id}.xml"


def queue_entry_path(line_id: str) -> str:
    """The queue entry document: ``<Enqueue>`` into the workflow, then the voicemail."""
    return f"/q/{line_id}.xml"


def shared_path(kind: str, *parts: object) -> str:
    """Content-addressed path of a shared document: ``/<kind>/<sha256 of parts, 12 hex>.xml``.

    ``kind`` is ``v`` (voicemail), ``b`` (goodbye), ``m`` (message), ``s`` (SMS reply) or ``c``
    (a forward's confirm whisper). The same content has
    the same path in every stack, so lines saying the same thing share one document."""
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:12]
    return f"/{kind}/{digest}.xml"


AUDIO_DIR = "/a/"
"""Recordings from the repository are assets under this path, next to the documents."""


def audio_asset_path(sha256: str, suffix: str) -> str:
    """Content-addressed path of a recording from the repository: ``/a/<sha256, 12 hex><suffix>``
    (a changed file is a new asset at a new path, so a number never plays a half-deployed one)."""
    return f"{AUDIO_DIR}{sha256[:12]}{suffix.lower()}"


def is_audio_path(path: str) -> bool:
    return path.startswith(AUDIO_DIR)


PLAY_SUFFIXES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".wave": "audio/wav",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
    ".aifc": "audio/x-aifc",
    ".gsm": "audio/gsm",
    ".ulaw": "audio/ulaw",
}
"""What ``<Play>`` plays (https://www.twilio.com/docs/voice/twiml/play, "Supported audio file
types"), by file suffix: ``validate`` accepts these recordings (``infra.lines.audio``) and they
are uploaded with this content type (``infra.twilio.serverless``)."""


ON_DUTY = "On Duty"
"""TaskRouter activity (available) of agents who take queued calls."""
OFF_DUTY = "Off Duty"
"""TaskRouter activity (unavailable): the workspace default and reservation-timeout activity."""

FLOW_INFIX = "-failover-"
"""Between the account name and the flow key in every flow name (``flow_name``)."""

_FLOW_SID = re.compile(r"/Flows/(FW[0-9a-fA-F]{32})\Z")
_DOCUMENT = re.compile(
    r"https://[^/]+\.twil\.io("
    r"/lines/(?P<legacy>[a-z][a-z0-9-]*)/[a-z-]+\.xml"
    r"|/[fq]/(?P<line>[a-z][a-z0-9-]*)\.xml"
    r"|/[vbm]/(?:default|[0-9a-f]{12})\.xml"
    r")\Z"
)


def parse_flow_name(name: str) -> tuple[str, str] | None:
    """``(account, line id)`` of a flow this tool names (``acme-failover-sales.queue`` →
    ``("acme", "sales")``), else None."""
    if FLOW_INFIX not in name:
        return None
    account, key = name.split(FLOW_INFIX, 1)
    return account, key.removesuffix(QUEUE_FLOW_SUFFIX)


def flow_sid_in(url: str) -> str | None:
    """The flow SID of a Studio webhook URL (``https://webhooks.twilio.com/v1/.../Flows/FW…``)."""
    match = _FLOW_SID.search(url) if "webhooks.twilio.com/" in url else None
    return match.group(1) if match else None


def document_in(url: str) -> tuple[str, str] | None:
    """``(asset path, line id)`` when ``url`` is one of this tool's TwiML documents; the line id
    is "" for a shared document (voicemail, goodbye, message), which names no line."""
    match = _DOCUMENT.fullmatch(url)
    if not match:
        return None
    return match.group(1), match.group("legacy") or match.group("line") or ""


def document_account(url: str) -> str | None:
    """The account name in the Serverless domain of one of this tool's documents, else None.

    The service is ``<account>-failover-<stack>`` (``service_unique_name``) and an environment's
    domain starts with it (``acme-failover-prod-1234-shared.twil.io`` → ``acme``); stacks
    without ``alerts.webhook`` have no flows to take the account name from.
    """
    if document_in(url) is None:
        return None
    host = url.removeprefix("https://").split("/", 1)[0]
    account, infix, _ = host.partition(FLOW_INFIX)
    return account if infix else None

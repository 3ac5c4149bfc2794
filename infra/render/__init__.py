"""The render layer: the typed model of lines.yaml in, Twilio artifacts out. Pure, no network.

- ``entry``: asset paths, resource names, which entry point each number gets, ``Bindings``;
- ``twiml``: per-line TwiML documents (voicemail, goodbye, message, queue hold);
- ``studio``: Studio flow definitions for branching failovers and alerts;
- ``taskrouter``: activities, task queues, workers and the workflow behind call queues;
- ``functions``: Serverless Function sources rendered from ``infra/templates/``;
- ``artifacts``: everything as byte-stable text (``render_all``) and ``write_artifacts``.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

from infra.render.artifacts import canonical_json, render_all, render_assets, write_artifacts
from infra.render.entry import (
    ALERT_PATH,
    ASSIGNMENT_PATH,
    PLACEHOLDERS,
    Bindings,
    Entry,
    EntryKind,
    fallback_entries,
    fallback_entry,
    find_placeholders,
    flow_name,
    goodbye_path,
    message_path,
    primary_entry,
    queue_wait_path,
    service_unique_name,
    voicemail_path,
)

__all__ = [
    "ALERT_PATH",
    "ASSIGNMENT_PATH",
    "PLACEHOLDERS",
    "Bindings",
    "Entry",
    "EntryKind",
    "canonical_json",
    "fallback_entries",
    "fallback_entry",
    "find_placeholders",
    "flow_name",
    "goodbye_path",
    "message_path",
    "primary_entry",
    "queue_wait_path",
    "render_all",
    "render_assets",
    "service_unique_name",
    "voicemail_path",
    "write_artifacts",
]

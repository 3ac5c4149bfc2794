"""Render the Serverless Functions' source from the templates in ``infra/templates/``.

Pure: the config (and deploy-time bindings) in, JavaScript source out, byte-stable.
Templates use ``string.Template`` placeholders (``$name``) and contain no other ``$``;
every substituted value is a JSON literal, so no config value can break out of it.

- ``/assignment`` (only when a line has a queue): TaskRouter's assignment callback,
  answering a ``dequeue`` instruction from the line's own number, then On Duty.
- ``/alert`` (only with ``alerts.webhook``): forwards a failover event to the webhook
  with a hard timeout, called by the first step of every flow.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import json
from importlib import resources
from string import Template

from infra.model import LinesConfig
from infra.naming import ALERT_PATH, ASSIGNMENT_PATH

ALERT_TIMEOUT_MS = 1500
"""Longest the alert step waits for the webhook; this delay is all a caller can notice."""


def _template(name: str) -> Template:
    return Template(
        resources.files("infra").joinpath("templates", name).read_text(encoding="utf-8")
    )


def render_assignment_function(config: LinesConfig) -> str:
    """Source of the ``/assignment`` Function for the lines that have a queue.

    Depends on lines.yaml only (no deploy-time SIDs), so it can be deployed before the
    TaskRouter workspace that calls it: the On Duty SID travels in the task attributes.
    """
    numbers = {line.id: line.number for line in config.queued_lines}
    return _template("assignment.js").substitute(
        line_numbers=json.dumps(numbers, indent=2, sort_keys=True),
    )


def render_alert_function(webhook_url: str) -> str:
    """Source of the ``/alert`` Function posting to ``webhook_url``."""
    return _template("alert.js").substitute(
        webhook_url=json.dumps(webhook_url), timeout_ms=json.dumps(ALERT_TIMEOUT_MS)
    )


def render_functions(config: LinesConfig) -> dict[str, str]:
    """Every Function the config needs, keyed by Function path."""
    functions: dict[str, str] = {}
    if config.alerts_webhook is not None:
        functions[ALERT_PATH] = render_alert_function(config.alerts_webhook)
    if config.queued_lines:
        functions[ASSIGNMENT_PATH] = render_assignment_function(config)
    return functions

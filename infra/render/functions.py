"""Render the Serverless Functions' source from the templates in ``infra/templates/``.

Pure: the config (and deploy-time bindings) in, JavaScript source out, byte-stable.
Templates use ``string.Template`` placeholders (``$name``) and contain no other ``$``;
every substituted value is a JSON literal, so no config value can break out of it.

- ``/assignment`` (only when a line has a queue): TaskRouter's assignment callback,
  answering a ``call`` instruction from the line's own number to an agent's phone from
  lines.yaml, ringing the line's ``queue.ring``, with ``/agent-whisper`` on the agent's leg
  and the agent leg's status callback.
- ``/agent-whisper`` (only when a line has a queue): tells the agent the line and the
  caller's number; only a key press of 1 bridges the caller (an agent's voicemail never does).
- ``/queue-wait`` (only when a line has a queue): the queue hold document; the caller
  leaves for voicemail as soon as nobody On Duty serves the line.
- ``/agent-status`` (only when a line has a queue): that status callback; completes the
  task after an accepted call, rejects the reservation otherwise (missed ring, voicemail,
  no key pressed).
- ``/agents`` (only when a line has a queue): the agents' failover page, opened through
  each agent's signed personal link (``infra.agent_links``); deployed ``public``.
- ``/alert`` is no longer deployed (alerts are sent by ``failover status --notify``, off the
  caller's path); ``render_alert_function`` stays for the flow step of stacks not yet updated.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import json
from importlib import resources
from string import Template

from infra.model import (
    DEFAULT_HOLD,
    DEFAULT_NOBODY,
    DEFAULT_POSITION,
    DEFAULT_STILL_HOLDING,
    LinesConfig,
)
from infra.naming import (
    AGENT_LINK_SECRET_VARIABLE,
    AGENT_STATUS_PATH,
    AGENT_WHISPER_PATH,
    AGENTS_PATH,
    ASSIGNMENT_PATH,
    OFF_DUTY,
    ON_DUTY,
    QUEUE_WAIT_PATH,
    workspace_name,
)

WHISPER_GATHER_S = 6
"""How long the agent's whisper waits for the key press after the prompt (``<Gather timeout>``);
the ring, the prompt and this stay below the reservation timeout (``RESERVATION_TIMEOUT_S``)."""

HOLD_CHUNK_S = 20
"""The hold document pauses this long per cycle, then Twilio requests it again and it checks
that someone On Duty still serves the line: the bound on how long a caller holds after the
last agent went Off Duty (with nobody On Duty at the start, the caller leaves at once)."""
HOLD_TEXT = DEFAULT_HOLD
STILL_HOLDING_TEXT = DEFAULT_STILL_HOLDING
NOBODY_TEXT = DEFAULT_NOBODY
POSITION_TEXT = DEFAULT_POSITION
"""The English prompts; each queued line's own (translated or overridden) are in its
``prompts`` and travel in the Function's per-line table. ``position`` is said after the hold
prompt each cycle, ``{n}`` the caller's place in the line's queue."""

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
    lines = {
        line.id: {"number": line.number, "ring": line.queue.ring_s}
        for line in config.queued_lines
        if line.queue is not None
    }
    return _template("assignment.js").substitute(
        lines=json.dumps(lines, indent=2, sort_keys=True),
        agent_phones=json.dumps(sorted({agent.phone for agent in config.agents})),
        status_path=json.dumps(AGENT_STATUS_PATH),
        whisper_path=json.dumps(AGENT_WHISPER_PATH),
    )


def render_agent_whisper_function(config: LinesConfig) -> str:
    """Source of the ``/agent-whisper`` Function: per queued line its name, voice and whisper
    text (``prompts.agent_call``, in the line's language)."""
    lines = {
        line.id: {
            "name": line.display_name,
            "voice": line.voicemail.voice,
            "language": line.voicemail.language,
            "call": line.prompts.agent_call,
            "withheld": line.prompts.withheld,
        }
        for line in config.queued_lines
    }
    return _template("agent-whisper.js").substitute(
        lines=json.dumps(lines, indent=2, sort_keys=True),
        whisper_gather_s=json.dumps(WHISPER_GATHER_S),
        whisper_path=json.dumps(AGENT_WHISPER_PATH),
    )


def render_queue_wait_function(config: LinesConfig) -> str:
    """Source of the ``/queue-wait`` Function: per queued line its queue timeout and voice."""
    lines = {
        line.id: {
            "timeout": line.queue.timeout_s,
            "voice": line.voicemail.voice,
            "language": line.voicemail.language,
            "hold": line.prompts.hold,
            "still_holding": line.prompts.still_holding,
            "nobody": line.prompts.nobody,
            "position": line.prompts.position,
        }
        for line in config.queued_lines
        if line.queue is not None
    }
    return _template("queue-wait.js").substitute(
        lines=json.dumps(lines, indent=2, sort_keys=True),
        workspace_name=json.dumps(workspace_name(config.account)),
        hold_chunk_s=json.dumps(HOLD_CHUNK_S),
    )


def render_agent_status_function() -> str:
    """Source of the ``/agent-status`` Function (no config values)."""
    return _template("agent-status.js").substitute()


def render_agents_function(config: LinesConfig) -> str:
    """Source of the ``/agents`` page: per agent serving a queued line, their display name
    and those lines (id -> display name). Agents serving no queued line get no page."""
    agents = {
        agent.id: {
            "name": agent.name,
            "lines": {
                line.id: line.display_name
                for line in config.queued_lines
                if line.queue is not None and agent.id in line.queue.agents
            },
        }
        for agent in config.agents
    }
    return _template("agents.js").substitute(
        agents=json.dumps(
            {k: v for k, v in agents.items() if v["lines"]}, indent=2, sort_keys=True
        ),
        workspace_name=json.dumps(workspace_name(config.account)),
        on_duty=json.dumps(ON_DUTY),
        off_duty=json.dumps(OFF_DUTY),
        secret_variable=json.dumps(AGENT_LINK_SECRET_VARIABLE),
    )


def render_alert_function(webhook_url: str) -> str:
    """Source of the ``/alert`` Function posting to ``webhook_url``."""
    return _template("alert.js").substitute(
        webhook_url=json.dumps(webhook_url), timeout_ms=json.dumps(ALERT_TIMEOUT_MS)
    )


def render_functions(config: LinesConfig) -> dict[str, str]:
    """Every Function the config needs, keyed by Function path."""
    functions: dict[str, str] = {}  # no /alert: alerts left the caller's path (infra.alerts)
    if config.queued_lines:
        functions[ASSIGNMENT_PATH] = render_assignment_function(config)
        functions[AGENT_STATUS_PATH] = render_agent_status_function()
        functions[AGENT_WHISPER_PATH] = render_agent_whisper_function(config)
        functions[QUEUE_WAIT_PATH] = render_queue_wait_function(config)
        functions[AGENTS_PATH] = render_agents_function(config)
    return functions

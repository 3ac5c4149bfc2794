"""Render the TaskRouter setup behind the call queues: activities, queues, workers, workflow.

Pure: the config in, plain JSON-able dicts out. Nothing is rendered when no line has a
queue. What the program sends and what ``plan --out`` shows come from these functions.

- Activities ``On Duty`` (available) and ``Off Duty`` (not). ``available`` is immutable on
  Twilio's side: a change means replacing the activity.
- One task queue per line with a queue, named after the line; ``target_workers`` selects
  the agents whose ``lines`` attribute lists that line.
- One worker per agent: ``contact_uri`` is the phone TaskRouter's call instruction dials,
  ``lines`` the queued lines the agent serves (file order).
- One workflow: a filter per queued line, sorted by line id, on the task attribute ``queue``
  (set by the Studio enqueue step) with that line's queue as its only target and the line's
  queue timeout as the target's ``timeout``. No ``order_by``: the default already reserves
  the longest-idle agent first. No ``default_filter``: every task names a line that has a
  filter (whether Twilio insists on one is unconfirmed).

Queue SIDs and the domain come from ``Bindings`` (placeholders until deployed).

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from infra.model import Agent, LinesConfig
from infra.naming import ASSIGNMENT_PATH, OFF_DUTY, ON_DUTY, workflow_name
from infra.render.bindings import PLACEHOLDERS, Bindings

RESERVATION_TIMEOUT_S = 45
"""The workflow's ``TaskReservationTimeout``: only a safety net now (a dead ``/assignment``, a
lost status callback); when it fires TaskRouter moves the agent to the workspace's timeout
activity (Off Duty). https://www.twilio.com/docs/taskrouter/api/reservations
An agent's phone rings a line's ``queue.ring`` (at most ``MAX_QUEUE_RING_S``, 30 s), then the
whisper takes the prompt and ``WHISPER_GATHER_S`` for the key press: all of it ends before
this timeout, so a missed or refused call is rejected by ``/agent-status`` first."""

TASK_LINE_ATTRIBUTE = "line"
"""Task attribute naming the line; the Studio enqueue step sets it (the Function reads it)."""
TASK_QUEUE_ATTRIBUTE = "queue"
"""Task attribute the workflow routes on; its value is the queue key, which is the line id.
The ``CallQueue`` provider deploys ``workflow_document``, so both use it."""
WORKER_LINES_ATTRIBUTE = "lines"
"""Worker attribute listing the line ids an agent serves (no hyphen: it is an expression key)."""


def compact_json(value: Any) -> str:
    """The JSON string Twilio receives for ``Attributes``/``Configuration``: sorted, compact."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def activities() -> list[dict[str, Any]]:
    """The two activities agents switch between."""
    return [
        {"friendly_name": ON_DUTY, "available": True},
        {"friendly_name": OFF_DUTY, "available": False},
    ]


def target_workers(line_id: str) -> str:
    """TaskQueue ``TargetWorkers`` expression: agents serving this line."""
    return f'{WORKER_LINES_ATTRIBUTE} HAS "{line_id}"'


def task_queues(config: LinesConfig) -> list[dict[str, Any]]:
    """One task queue per line with a queue, in file order; the friendly name is the line id."""
    return [
        {"friendly_name": line.id, "target_workers": target_workers(line.id)}
        for line in config.queued_lines
    ]


def worker_attributes(config: LinesConfig, agent: Agent) -> dict[str, Any]:
    """A worker's attributes: phone to dial, lines served, display name."""
    lines = [
        line.id for line in config.lines if line.queue is not None and agent.id in line.queue.agents
    ]
    return {"contact_uri": agent.phone, WORKER_LINES_ATTRIBUTE: lines, "name": agent.name}


def workers(config: LinesConfig) -> list[dict[str, Any]]:
    """One worker per declared agent, in file order; the friendly name is the agent id."""
    return [
        {"friendly_name": agent.id, "attributes": worker_attributes(config, agent)}
        for agent in config.agents
    ]


def route_expression(queue_key: str) -> str:
    """The workflow filter expression that sends a task to the queue ``queue_key``."""
    return f'{TASK_QUEUE_ATTRIBUTE} == "{queue_key}"'


def workflow_document(
    queues: Iterable[tuple[str, int | None]],
    queue_sid: Callable[[str], str],
    *,
    default_queue: str | None = None,
) -> dict[str, Any]:
    """The workflow ``Configuration``: one filter per queue key, sorted by key, each routing
    ``queue == "<key>"`` to that queue with the key's timeout; a ``default_filter`` only when
    ``default_queue`` is given.

    The one builder of this document: ``plan --out`` renders it with placeholder SIDs and the
    ``CallQueue`` provider deploys it with the live ones, so the reviewed document is the
    deployed one (a test compares them after a real apply).
    """
    filters = []
    for key, timeout in sorted(queues, key=lambda item: item[0]):
        target: dict[str, Any] = {"queue": queue_sid(key)}
        if timeout is not None:
            target["timeout"] = timeout
        filters.append(
            {"filter_friendly_name": key, "expression": route_expression(key), "targets": [target]}
        )
    routing: dict[str, Any] = {"filters": filters}
    if default_queue:
        routing["default_filter"] = {"queue": queue_sid(default_queue)}
    return {"task_routing": routing}


def workflow_configuration(
    config: LinesConfig, bindings: Bindings = PLACEHOLDERS
) -> dict[str, Any]:
    """The workflow's ``Configuration`` for ``config``: every queued line routed to its queue
    (``workflow_document``), SIDs from ``bindings``."""
    queues = [(line.id, line.queue.timeout_s) for line in config.queued_lines if line.queue]
    return workflow_document(queues, bindings.queue_sid)


def workflow(config: LinesConfig, bindings: Bindings = PLACEHOLDERS) -> dict[str, Any]:
    """The workflow: name, assignment callback (the ``/assignment`` Function), configuration."""
    return {
        "friendly_name": workflow_name(config.account),
        "assignment_callback_url": bindings.url(ASSIGNMENT_PATH),
        "configuration": workflow_configuration(config, bindings),
    }


def render_taskrouter(config: LinesConfig, bindings: Bindings = PLACEHOLDERS) -> dict[str, Any]:
    """Every TaskRouter document by name (``activities``, ``task_queues``, ``workers``,
    ``workflow``); empty when no line has a queue."""
    if not config.queued_lines:
        return {}
    return {
        "activities": activities(),
        "task_queues": task_queues(config),
        "workers": workers(config),
        "workflow": workflow(config, bindings),
    }

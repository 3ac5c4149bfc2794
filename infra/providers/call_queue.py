"""CallQueue: the stack's TaskRouter call queues, where agents answer on their own phones.

Why: in a severe outage a shared line's calls wait in a queue and TaskRouter rings the
longest-idle agent who is on duty. One multi-tasking workspace per stack holds everything.

Contract:
- Workspace (``workspace_name``), activities ``On Duty`` (available) and ``Off Duty``
  (unavailable; the workspace default and reservation-timeout activity), one task queue
  per line (``queues`` key = queue FriendlyName), one workflow, one worker per agent
  (``workers`` key = worker FriendlyName). Each is looked up by its name before it is
  created, so an interrupted run never duplicates anything.
- Routing: the workflow sends a task whose attribute ``queue`` equals a queue key to that
  queue (Studio's enqueue-call must set ``task_attributes`` to include
  ``{"queue": "<key>"}``); a ``default_queue``, when given, catches tasks matching none.
- Worker activity is runtime state (agents go on and off duty): ``initial_activity`` is
  applied on create only and never reverted by an update or compared by ``diff()``. It
  defaults to ``on_duty`` because PSTN agents have no client in which to go on duty.
- Only queues and workers this resource created or adopted by name are ever deleted.
- Outputs: ``workspace_sid``, ``workspace_name``, ``on_duty_activity_sid``,
  ``off_duty_activity_sid``, ``workflow_sid``, ``queues`` (key -> sid, target_workers),
  ``workers`` (key -> sid, attributes as canonical JSON, live activity_name), ``routing``
  (the live workflow in queue keys), ``assignment_callback_url``,
  ``task_reservation_timeout``, ``applied_inputs``.

Example::

    CallQueue("call-queue", CallQueueArgs(
        workspace_name="acme-dev-failover",
        queues={"support": {"target_workers": 'contact_centers HAS "support"',
                            "timeout_s": 300}},
        workers={"alice": {"attributes": {"contact_uri": "+14155550111",
                                          "contact_centers": ["support"]}}},
        assignment_callback_url=docs.urls.apply(lambda u: u["/assign"])))

Must not import: infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from infra.errors import ProviderError
from infra.naming import OFF_DUTY, ON_DUTY
from infra.providers._pickling import init_resource
from infra.providers.base import TwilioProvider, checked_inputs, has_unknowns, is_unknown
from infra.render.taskrouter import TASK_QUEUE_ATTRIBUTE
from infra.twilio.client import NotFoundError
from infra.twilio.taskrouter import (
    ACTIVITIES,
    activity_sid,
    attributes_of,
    fetch_worker,
    fetch_workspace,
    find_or_create_workspace,
    list_all,
    queue_out,
    reconcile,
    routing_of,
    worker_out,
    workflow_out,
)
from infra.twilio.values import integral, text

ROUTE_ATTRIBUTE = TASK_QUEUE_ATTRIBUTE
"""Task attribute the workflow routes on (rendered by ``infra.render.taskrouter``)."""
INPUTS = (
    "workspace_name",
    "queues",
    "workers",
    "assignment_callback_url",
    "workflow_name",
    "task_reservation_timeout",
    "default_queue",
)
OUTPUTS = (
    "workspace_sid",
    "workspace_name",
    "on_duty_activity_sid",
    "off_duty_activity_sid",
    "workflow_sid",
    "queues",
    "workers",
    "routing",
    "assignment_callback_url",
    "task_reservation_timeout",
    "applied_inputs",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CallQueueArgs:
    """Inputs of the stack's call queues."""

    workspace_name: pulumi.Input[str]
    """Workspace FriendlyName, unique in the account (e.g. ``acme-dev-failover``)."""
    queues: pulumi.Input[dict[str, dict[str, Any]]]
    """Queue key -> ``{"target_workers": expression, "timeout_s": seconds}``."""
    workers: pulumi.Input[dict[str, dict[str, Any]]]
    """Agent id -> ``{"attributes": {...}, "initial_activity": "on_duty" | "off_duty"}``."""
    assignment_callback_url: pulumi.Input[str]
    """The assignment Function's URL (TaskRouter asks it how to connect a reserved agent)."""
    workflow_name: pulumi.Input[str] = "failover"
    task_reservation_timeout: pulumi.Input[int] = 20
    """Seconds an agent's phone rings before the task goes to the next agent."""
    default_queue: pulumi.Input[str] | None = None
    """Queue for tasks matching no filter; by default there is no catch-all filter."""


class CallQueueProvider(TwilioProvider):
    """Converges one TaskRouter workspace on the declared queues and workers."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checked_inputs(
            news,
            INPUTS,
            required=INPUTS[:4],
            defaults={"workflow_name": "failover", "task_reservation_timeout": 20},
        )
        queues, workers = inputs.get("queues"), inputs.get("workers")
        if isinstance(queues, dict):
            if not queues:
                failures.append(CheckFailure("queues", "declare at least one queue"))
            for key, queue in queues.items():
                if not isinstance(queue, dict) or not queue.get("target_workers"):
                    failures.append(CheckFailure("queues", f"{key}: needs target_workers"))
            default = inputs.get("default_queue")
            if default is not None and not is_unknown(default) and default not in queues:
                failures.append(CheckFailure("default_queue", f"{default!r} is not a queue"))
        if isinstance(workers, dict):
            lowered: dict[str, str] = {}
            for key, worker in workers.items():
                if key.lower() in lowered:  # TaskRouter compares worker names case-insensitively
                    failures.append(
                        CheckFailure(
                            "workers", f"{key} and {lowered[key.lower()]} differ only in case"
                        )
                    )
                lowered[key.lower()] = key
                failures += _worker_failures(key, worker)
        url = inputs.get("assignment_callback_url")
        if (
            url is not None
            and not is_unknown(url)
            and urlsplit(str(url)).scheme not in ("http", "https")
        ):
            failures.append(CheckFailure("assignment_callback_url", "must be an http(s) URL"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if has_unknowns(news):
            return DiffResult(changes=True)
        live = _view(olds)
        changed = (
            _desired_view(news) != live
            or not olds.get("on_duty_activity_sid")
            or not olds.get("off_duty_activity_sid")
            or not olds.get("workflow_sid")
            or _applied(news) != olds.get("applied_inputs")
        )
        return DiffResult(changes=changed)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["workspace_name"]
        tw = self._twilio(name)
        workspace = find_or_create_workspace(tw, name)
        outs = reconcile(tw, props, workspace, previous={})
        return CreateResult(workspace.sid, {**outs, "applied_inputs": _applied(props)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = text(props.get("workspace_name")) or id_
        tw = self._twilio(name)
        try:
            workspace = fetch_workspace(tw, name, id_)
        except NotFoundError:
            return ReadResult(None, {})
        ws = tw.rest.taskrouter.v1.workspaces(id_)
        activities = list_all(tw, name, "activities", ws.activities)
        queues = {q.friendly_name: q for q in list_all(tw, name, "task queues", ws.task_queues)}
        workflows = list_all(tw, name, "workflows", ws.workflows)
        workers = {w.friendly_name.lower(): w for w in list_all(tw, name, "workers", ws.workers)}
        applied = props.get("applied_inputs") or {}
        outs: dict[str, Any] = {
            "workspace_sid": workspace.sid,
            "workspace_name": workspace.friendly_name,
            "on_duty_activity_sid": activity_sid(activities, ON_DUTY, True),
            "off_duty_activity_sid": activity_sid(activities, OFF_DUTY, False),
            "queues": {k: queue_out(queues[k]) for k in (props.get("queues") or {}) if k in queues},
            "applied_inputs": applied,
        }
        workflow = next(
            (w for w in workflows if w.friendly_name == applied.get("workflow_name")), None
        )
        outs.update(workflow_out(workflow, queues))
        outs["workers"] = {}
        for key in props.get("workers") or {}:
            if key.lower() in workers:
                worker = fetch_worker(tw, name, ws, workers[key.lower()].sid)
                outs["workers"][key] = worker_out(worker)
        return ReadResult(workspace.sid, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        name = news["workspace_name"]
        tw = self._twilio(name)
        try:
            workspace = fetch_workspace(tw, name, id_)
        except NotFoundError:
            raise ProviderError(
                name,
                (
                    f"TaskRouter workspace {id_} no longer exists; run `pulumi refresh` and then "
                    "`pulumi up` to create it again"
                ),
            ) from None
        if workspace.friendly_name != name:
            with tw.errors(name, f"rename TaskRouter workspace {id_}"):
                workspace = tw.rest.taskrouter.v1.workspaces(id_).update(friendly_name=name)
        outs = reconcile(tw, news, workspace, previous=olds)
        return UpdateResult({**outs, "applied_inputs": _applied(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the workspace with its queues, workflow and workers."""
        name = text(props.get("workspace_name")) or id_
        tw = self._twilio(name)
        try:
            with tw.errors(name, f"delete TaskRouter workspace {id_}"):
                tw.rest.taskrouter.v1.workspaces(id_).delete()
        except NotFoundError:
            pass


class CallQueue(pulumi.dynamic.Resource, module="twilio", name="CallQueue"):
    """The stack's TaskRouter workspace; ``workflow_sid`` goes into Studio's enqueue-call."""

    workspace_sid: pulumi.Output[str]
    workflow_sid: pulumi.Output[str]
    on_duty_activity_sid: pulumi.Output[str]
    queues: pulumi.Output[dict[str, Any]]
    workers: pulumi.Output[dict[str, Any]]

    def __init__(
        self, name: str, args: CallQueueArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        init_resource(self, CallQueueProvider(), name, args, OUTPUTS, opts)


# ---- pure helpers (check, diff) -------------------------------------------------------------


def _worker_failures(key: str, worker: object) -> list[CheckFailure]:
    if is_unknown(worker):
        return []
    if not isinstance(worker, dict):
        return [CheckFailure("workers", f"{key}: must be an object")]
    failures = []
    if len(key) > 64:
        failures.append(CheckFailure("workers", f"{key}: names are at most 64 characters"))
    attributes = worker.get("attributes", {})
    if not is_unknown(attributes) and not isinstance(attributes, dict):
        failures.append(CheckFailure("workers", f"{key}: attributes must be an object"))
    if worker.get("initial_activity", "on_duty") not in ACTIVITIES:
        failures.append(
            CheckFailure("workers", f"{key}: initial_activity must be on_duty or off_duty")
        )
    return failures


def _desired_view(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "workspace_name": inputs["workspace_name"],
        "queues": {k: q["target_workers"] for k, q in inputs["queues"].items()},
        "workers": {k: attributes_of(w) for k, w in inputs["workers"].items()},
        "routing": routing_of(inputs),
        "assignment_callback_url": inputs["assignment_callback_url"],
        "task_reservation_timeout": int(integral(inputs["task_reservation_timeout"])),
    }


def _view(outs: dict[str, Any]) -> dict[str, Any]:
    """The same shape from (live) outputs; worker activity deliberately absent."""
    return {
        "workspace_name": outs.get("workspace_name"),
        "queues": {k: q.get("target_workers") for k, q in (outs.get("queues") or {}).items()},
        "workers": {k: w.get("attributes") for k, w in (outs.get("workers") or {}).items()},
        "routing": _routing_view(outs.get("routing")),
        "assignment_callback_url": outs.get("assignment_callback_url"),
        "task_reservation_timeout": integral(outs.get("task_reservation_timeout")),
    }


def _routing_view(routing: object) -> dict[str, Any] | None:
    """Routing from outputs; the engine drops None-valued keys on the way back."""
    if not isinstance(routing, dict):
        return None
    return {"filters": integral(routing.get("filters") or []), "default": routing.get("default")}


def _applied(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: integral(inputs[k]) for k in INPUTS if inputs.get(k) is not None}

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

import json
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
from infra.providers._client import (
    NotFoundError,
    Twilio,
    TwilioProvider,
    canonical_json,
    integral,
    is_unknown,
    text,
)
from infra.providers._pickling import init_resource

ON_DUTY, OFF_DUTY = "On Duty", "Off Duty"
ACTIVITIES = {"on_duty": ON_DUTY, "off_duty": OFF_DUTY}
ROUTE_ATTRIBUTE = "queue"
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
        inputs = {k: news[k] for k in INPUTS if news.get(k) is not None}
        inputs.setdefault("workflow_name", "failover")
        inputs.setdefault("task_reservation_timeout", 20)
        failures = [
            CheckFailure(k, "unknown input") for k in news if k not in INPUTS and k != "__provider"
        ]
        failures += [CheckFailure(k, "required") for k in INPUTS[:4] if k not in inputs]
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
        if _has_unknowns(news):
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
        workspaces = tw.rest.taskrouter.v1.workspaces
        with tw.errors(name, f"look up TaskRouter workspace {name!r}"):
            found = [
                w
                for w in workspaces.list(friendly_name=name, page_size=100)
                if w.friendly_name == name
            ]
        if len(found) > 1:
            raise ProviderError(
                name,
                (
                    f"{len(found)} TaskRouter workspaces are named {name!r}; delete the extra ones "
                    "in the Twilio console so the tool knows which one to manage"
                ),
            )
        if found:
            workspace = found[0]
        else:
            with tw.errors(name, f"create TaskRouter workspace {name!r}"):
                workspace = workspaces.create(friendly_name=name, multi_task_enabled=True)
        return CreateResult(workspace.sid, _reconcile(tw, props, workspace, previous={}))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = text(props.get("workspace_name")) or id_
        tw = self._twilio(name)
        try:
            workspace = _fetch_workspace(tw, name, id_)
        except NotFoundError:
            return ReadResult(None, {})
        ws = tw.rest.taskrouter.v1.workspaces(id_)
        activities = _list(tw, name, "activities", ws.activities)
        queues = {q.friendly_name: q for q in _list(tw, name, "task queues", ws.task_queues)}
        workflows = _list(tw, name, "workflows", ws.workflows)
        workers = {w.friendly_name.lower(): w for w in _list(tw, name, "workers", ws.workers)}
        applied = props.get("applied_inputs") or {}
        outs: dict[str, Any] = {
            "workspace_sid": workspace.sid,
            "workspace_name": workspace.friendly_name,
            "on_duty_activity_sid": _activity_sid(activities, ON_DUTY, True),
            "off_duty_activity_sid": _activity_sid(activities, OFF_DUTY, False),
            "queues": {
                k: _queue_out(queues[k]) for k in (props.get("queues") or {}) if k in queues
            },
            "applied_inputs": applied,
        }
        workflow = next(
            (w for w in workflows if w.friendly_name == applied.get("workflow_name")), None
        )
        outs.update(_workflow_out(workflow, queues))
        outs["workers"] = {}
        for key in props.get("workers") or {}:
            if key.lower() in workers:
                worker = _fetch_worker(tw, name, ws, workers[key.lower()].sid)
                outs["workers"][key] = _worker_out(worker)
        return ReadResult(workspace.sid, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        name = news["workspace_name"]
        tw = self._twilio(name)
        try:
            workspace = _fetch_workspace(tw, name, id_)
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
        return UpdateResult(_reconcile(tw, news, workspace, previous=olds))

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


def _has_unknowns(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unknowns(v) for v in value)
    return is_unknown(value)


def _attributes(worker: dict[str, Any]) -> str:
    return canonical_json(worker.get("attributes") or {})


def _routing(inputs: dict[str, Any]) -> dict[str, Any]:
    """The workflow in queue keys: what the live configuration must mean."""
    queues = inputs["queues"]
    timeouts = {k: queues[k].get("timeout_s") for k in queues}
    return {
        "filters": [
            [k, None if t is None else int(integral(t))] for k, t in sorted(timeouts.items())
        ],
        "default": inputs.get("default_queue"),
    }


def _desired_view(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "workspace_name": inputs["workspace_name"],
        "queues": {k: q["target_workers"] for k, q in inputs["queues"].items()},
        "workers": {k: _attributes(w) for k, w in inputs["workers"].items()},
        "routing": _routing(inputs),
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


# ---- converge -------------------------------------------------------------------------------


def _reconcile(
    tw: Twilio, props: dict[str, Any], workspace: Any, previous: dict[str, Any]
) -> dict[str, Any]:
    name = props["workspace_name"]
    ws = tw.rest.taskrouter.v1.workspaces(workspace.sid)
    on_duty, off_duty = _ensure_activities(tw, name, ws)
    if (workspace.default_activity_sid, workspace.timeout_activity_sid) != (off_duty, off_duty):
        with tw.errors(name, "set the workspace's default activity to Off Duty"):
            workspace = ws.update(default_activity_sid=off_duty, timeout_activity_sid=off_duty)
    queues = _ensure_queues(tw, props, ws)
    workflow = _ensure_workflow(tw, props, ws, queues, text(previous.get("workflow_sid")))
    workers = _ensure_workers(
        tw,
        props,
        ws,
        {ACTIVITIES["on_duty"]: on_duty, ACTIVITIES["off_duty"]: off_duty},
        previous.get("workers") or {},
    )
    for key in sorted(set(previous.get("queues") or {}) - set(queues)):
        sid = previous["queues"][key].get("sid")
        try:
            with tw.errors(name, f"delete task queue {key!r}"):
                ws.task_queues(sid).delete()
        except NotFoundError:
            pass
    outs = {
        "workspace_sid": workspace.sid,
        "workspace_name": workspace.friendly_name,
        "on_duty_activity_sid": on_duty,
        "off_duty_activity_sid": off_duty,
        "queues": {k: _queue_out(q) for k, q in queues.items()},
        "workers": workers,
        "applied_inputs": _applied(props),
    }
    outs.update(_workflow_out(workflow, queues))
    return outs


def _list(tw: Twilio, name: str, what: str, collection: Any) -> list[Any]:
    with tw.errors(name, f"list {what}"):
        return list(collection.list(page_size=1000))


def _fetch_workspace(tw: Twilio, name: str, sid: str) -> Any:
    with tw.errors(name, f"fetch TaskRouter workspace {sid}"):
        return tw.rest.taskrouter.v1.workspaces(sid).fetch()


def _fetch_worker(tw: Twilio, name: str, ws: Any, sid: str) -> Any:
    with tw.errors(name, f"fetch worker {sid}"):
        return ws.workers(sid).fetch()


def _activity_sid(activities: list[Any], label: str, available: bool) -> str:
    for activity in activities:
        if activity.friendly_name == label and bool(activity.available) == available:
            return str(activity.sid)
    return ""


def _ensure_activities(tw: Twilio, name: str, ws: Any) -> tuple[str, str]:
    activities = _list(tw, name, "activities", ws.activities)
    sids = []
    for label, available in ((ON_DUTY, True), (OFF_DUTY, False)):
        sid = _activity_sid(activities, label, available)
        if not sid and any(a.friendly_name == label for a in activities):
            raise ProviderError(
                name,
                (
                    f"activity {label!r} exists with available={not available}; TaskRouter cannot "
                    "change that. Rename or delete it in the Twilio console"
                ),
            )
        if not sid:
            with tw.errors(name, f"create activity {label!r}"):
                sid = ws.activities.create(friendly_name=label, available=available).sid
        sids.append(sid)
    return sids[0], sids[1]


def _ensure_queues(tw: Twilio, props: dict[str, Any], ws: Any) -> dict[str, Any]:
    name = props["workspace_name"]
    live = {q.friendly_name: q for q in _list(tw, name, "task queues", ws.task_queues)}
    queues = {}
    for key, spec in sorted(props["queues"].items()):
        queue = live.get(key)
        if queue is None:
            with tw.errors(key, f"create task queue {key!r}"):
                queue = ws.task_queues.create(
                    friendly_name=key, target_workers=spec["target_workers"]
                )
        elif queue.target_workers != spec["target_workers"]:
            with tw.errors(key, f"update task queue {key!r}"):
                queue = ws.task_queues(queue.sid).update(target_workers=spec["target_workers"])
        queues[key] = queue
    return queues


def _configuration(props: dict[str, Any], queues: dict[str, Any]) -> str:
    """One filter per queue key (``queue == "<key>"``) targeting only that queue."""
    routing = _routing(props)
    filters = []
    for key, timeout in routing["filters"]:
        target = {"queue": queues[key].sid}
        if timeout is not None:
            target["timeout"] = timeout
        filters.append(
            {
                "filter_friendly_name": key,
                "expression": f'{ROUTE_ATTRIBUTE} == "{key}"',
                "targets": [target],
            }
        )
    task_routing: dict[str, Any] = {"filters": filters}
    if routing["default"]:
        task_routing["default_filter"] = {"queue": queues[routing["default"]].sid}
    return canonical_json({"task_routing": task_routing})


def _ensure_workflow(
    tw: Twilio, props: dict[str, Any], ws: Any, queues: dict[str, Any], previous_sid: str
) -> Any:
    """Find the workflow by name (or, after a rename, by its previous SID); converge it."""
    name, label = props["workspace_name"], props["workflow_name"]
    desired = {
        "configuration": _configuration(props, queues),
        "assignment_callback_url": props["assignment_callback_url"],
        "task_reservation_timeout": int(integral(props["task_reservation_timeout"])),
    }
    workflows = _list(tw, name, "workflows", ws.workflows)
    found = [w for w in workflows if w.friendly_name == label]
    found = found or [w for w in workflows if previous_sid and w.sid == previous_sid]
    if not found:
        with tw.errors(name, f"create workflow {label!r}"):
            return ws.workflows.create(friendly_name=label, **desired)
    workflow = found[0]
    live = {
        "configuration": _canonical_text(workflow.configuration),
        "assignment_callback_url": workflow.assignment_callback_url,
        "task_reservation_timeout": integral(workflow.task_reservation_timeout),
    }
    if live == desired and workflow.friendly_name == label:
        return workflow
    with tw.errors(name, f"update workflow {label!r}"):
        return ws.workflows(workflow.sid).update(friendly_name=label, **desired)


def _ensure_workers(
    tw: Twilio, props: dict[str, Any], ws: Any, activity: dict[str, str], previous: dict[str, Any]
) -> dict[str, Any]:
    """Create missing workers with their initial activity; update attributes only."""
    name = props["workspace_name"]
    live = {w.friendly_name.lower(): w for w in _list(tw, name, "workers", ws.workers)}
    workers = {}
    for key, spec in sorted(props["workers"].items()):
        attributes = _attributes(spec)
        found = live.pop(key.lower(), None)
        if found is None:
            initial = ACTIVITIES[spec.get("initial_activity", "on_duty")]
            with tw.errors(key, f"create worker {key!r}"):
                worker = ws.workers.create(
                    friendly_name=key, attributes=attributes, activity_sid=activity[initial]
                )
        else:
            known = (previous.get(key) or {}).get("attributes")
            if known is None or (previous.get(key) or {}).get("sid") != found.sid:
                known = _canonical_text(_fetch_worker(tw, name, ws, found.sid).attributes)
            worker = found
            if known != attributes:
                with tw.errors(key, f"update worker {key!r}"):
                    worker = ws.workers(found.sid).update(attributes=attributes)
        workers[key] = _worker_out(worker, attributes)
    for key in sorted(set(previous) - set(props["workers"])):
        if key.lower() in live:  # only workers this resource managed
            try:
                with tw.errors(key, f"delete worker {key!r}"):
                    ws.workers(live[key.lower()].sid).delete()
            except NotFoundError:
                pass
    return workers


def _canonical_text(value: object) -> str:
    try:
        return canonical_json(json.loads(value) if isinstance(value, str) else value or {})
    except ValueError:
        return text(value)


def _queue_out(queue: Any) -> dict[str, Any]:
    return {"sid": queue.sid, "target_workers": queue.target_workers}


def _worker_out(worker: Any, attributes: str | None = None) -> dict[str, Any]:
    return {
        "sid": worker.sid,
        "attributes": attributes if attributes is not None else _canonical_text(worker.attributes),
        "activity_name": text(worker.activity_name),
    }


def _workflow_out(workflow: Any, queues: dict[str, Any]) -> dict[str, Any]:
    """The workflow's live routing expressed in queue keys (unknown SIDs kept as is)."""
    if workflow is None:
        return {
            "workflow_sid": "",
            "routing": None,
            "assignment_callback_url": "",
            "task_reservation_timeout": None,
        }
    names = {q.sid: key for key, q in queues.items()}
    try:
        config = json.loads(workflow.configuration or "{}").get("task_routing", {})
        filters = []
        for entry in config.get("filters", []):
            target = entry["targets"][0]
            key = names.get(target["queue"], target["queue"])
            timeout = target.get("timeout")
            filters.append([key, None if timeout is None else int(timeout)])
            if entry.get("expression") != f'{ROUTE_ATTRIBUTE} == "{key}"':
                filters[-1].append(entry.get("expression"))  # edited elsewhere: drift
        default = (config.get("default_filter") or {}).get("queue")
        routing: dict[str, Any] | None = {
            "filters": filters,
            "default": names.get(default, default),
        }
    except (ValueError, AttributeError, KeyError, TypeError):
        routing = None
    return {
        "workflow_sid": workflow.sid,
        "routing": routing,
        "assignment_callback_url": text(workflow.assignment_callback_url),
        "task_reservation_timeout": integral(workflow.task_reservation_timeout),
    }

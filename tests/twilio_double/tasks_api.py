"""TaskRouter v1 Tasks over REST: the tasks queued calls created, as Twilio serves them.

``GET /v1/Workspaces/{WS}/Tasks`` (filters ``AssignmentStatus`` - repeatable -,
``WorkflowSid``, ``TaskQueueSid``, ``TaskQueueName``; oldest first), ``GET …/Tasks/{WT}``, and ``POST …/Tasks/{WT}`` with
``AssignmentStatus`` (``completed`` from assigned/wrapping, ``wrapping`` from assigned,
``canceled`` from pending/reserved; anything else 400), ``Reason`` and ``Attributes``;
``GET …/Tasks/{WT}/Reservations/{WR}`` (its ``reservation_status``), and
``POST …/Tasks/{WT}/Reservations/{WR}`` with ``ReservationStatus=rejected`` (and optional
``WorkerActivitySid``) on a pending reservation (anything else 400). This is
how a product completes the tasks of a multitasking workspace (Twilio: a task leaves
``wrapping`` only through this API), which frees the agent's voice capacity.
Tasks live in the double's call engine (:mod:`.taskrouter_runner`); the double registers it
here per account state.
Must not import: infra.*
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .errors import invalid, not_found
from .fields import https, links
from .paging import page_v1
from .routing import Call, Reply, RouteTable, ok
from .state import AccountState, Record, iso, now
from .taskrouter import HOST

if TYPE_CHECKING:
    from .taskrouter_runner import Reservation, Task, TaskRouterRunner

routes = RouteTable()
_RUNNERS: dict[int, Callable[[], TaskRouterRunner]] = {}
MOVES = {"completed": ("assigned", "wrapping"), "wrapping": ("assigned",), "canceled": ("pending", "reserved")}  # fmt: skip


def register(state: AccountState, runner: Callable[[], TaskRouterRunner]) -> None:
    _RUNNERS[id(state)] = runner


def _runner(call: Call) -> TaskRouterRunner:
    found = _RUNNERS.get(id(call.state))
    if found is None:
        raise not_found(call.path)
    return found()


def activity_changed(call: Call) -> None:
    """A worker's activity changed through the API: pending tasks are offered again at once,
    as when the double's ``set_activity`` moves one (an agent going On Duty takes a waiting
    caller). ``RejectPendingReservations`` is accepted but not modelled."""
    found = _RUNNERS.get(id(call.state))
    if found is not None:
        found().dispatch()


def _record(call: Call, task: Task) -> Record:
    state, runner = call.state, _runner(call)
    base = f"/v1/Workspaces/{task.workspace_sid}/Tasks/{task.sid}"
    created = now() - timedelta(seconds=runner.net.sim.now - task.created)
    queue = state.task_queues.get(task.queue_sid or "") or {}
    workflow = state.workflows.get(task.workflow_sid) or {}
    channel = next(
        (c for c in state.task_channels.values()
         if c["workspace_sid"] == task.workspace_sid and c.get("unique_name") == "voice"),
        {},
    )  # fmt: skip
    return {
        "account_sid": state.account_sid, "age": int(runner.net.sim.now - task.created),
        "assignment_status": task.status, "attributes": json.dumps(task.attributes),
        "addons": "{}", "date_created": iso(created), "date_updated": iso(now()),
        "task_queue_entered_date": iso(created), "priority": task.priority,
        "reason": task.reason, "sid": task.sid, "task_queue_sid": task.queue_sid,
        "task_queue_friendly_name": queue.get("friendly_name"),
        "task_channel_sid": channel.get("sid"), "task_channel_unique_name": "voice",
        "timeout": 86400, "workflow_sid": task.workflow_sid,
        "workflow_friendly_name": workflow.get("friendly_name"),
        "workspace_sid": task.workspace_sid, "url": https(HOST, base),
        "links": links(HOST, base, {"reservations": "Reservations"}),
        "virtual_start_time": iso(created), "ignore_capacity": False, "routing_target": None,
    }  # fmt: skip


def _task(call: Call) -> Task:
    task = _runner(call).tasks.get(call.params["Sid"])
    if task is None or task.workspace_sid != call.params["WorkspaceSid"]:
        raise not_found(call.path)
    return task


@routes.route("GET", HOST, "/v1/Workspaces/{WorkspaceSid}/Tasks")
def list_tasks(call: Call) -> Reply:
    statuses = call.query.get("AssignmentStatus") or []
    workflow, queue = call.query_arg("WorkflowSid"), call.query_arg("TaskQueueSid")
    queue_name = call.query_arg("TaskQueueName")
    named = {
        sid for sid, q in call.state.task_queues.items() if q.get("friendly_name") == queue_name
    }
    runner = _runner(call)
    # Oldest first: "By default, Tasks are sorted by ascending DateCreated" (OpenAPI,
    # Tasks list ``Ordering``).
    items: list[Any] = [
        _record(call, task) for task in sorted(runner.tasks.values(), key=lambda t: t.created)
        if task.workspace_sid == call.params["WorkspaceSid"]
        and (not statuses or task.status in statuses)
        and workflow in (None, task.workflow_sid) and queue in (None, task.queue_sid)
        and (queue_name is None or task.queue_sid in named)
    ]  # fmt: skip
    return ok(page_v1(call, items, "tasks"))


@routes.route("GET", HOST, "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def fetch_task(call: Call) -> Reply:
    return ok(_record(call, _task(call)))


@routes.route("POST", HOST, "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}", kind="Task.update")
def update_task(call: Call) -> Reply:
    task, runner = _task(call), _runner(call)
    if call.has("Attributes"):
        try:
            task.attributes = json.loads(call.arg("Attributes") or "{}")
        except ValueError as exc:
            raise invalid(f"Invalid JSON: {exc}") from exc
    if call.has("Reason"):
        task.reason = call.arg("Reason")
    target = call.arg("AssignmentStatus")
    if target is not None:
        if task.status not in MOVES.get(target, ()):
            raise invalid(f"Task {task.sid} cannot move from {task.status} to {target}")
        runner.move(task, target, f"AssignmentStatus={target} through the API")
    return ok(_record(call, task))


@routes.route(
    "POST", HOST, "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}",
    kind="TaskReservation.update",
)  # fmt: skip
def update_reservation(call: Call) -> Reply:
    runner = _runner(call)
    task, reservation = _reservation(call)
    target = call.arg("ReservationStatus")
    if target is not None:
        if target != "rejected" or reservation.status != "pending":
            raise invalid(f"Reservation {reservation.sid} cannot move from "
                          f"{reservation.status} to {target}")  # fmt: skip
        runner.reject(task, reservation, call.arg("WorkerActivitySid"))
    return ok(_reservation_record(call, task, reservation))


@routes.route("GET", HOST, "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}")
def fetch_reservation(call: Call) -> Reply:
    return ok(_reservation_record(call, *_reservation(call)))


def _reservation(call: Call) -> tuple[Task, Reservation]:
    task = _runner(call).tasks.get(call.params["TaskSid"])
    if task is None or task.workspace_sid != call.params["WorkspaceSid"]:
        raise not_found(call.path)
    found = [r for r in task.reservations if r.sid == call.params["Sid"]]
    if not found:
        raise not_found(call.path)
    return task, found[0]


def _reservation_record(call: Call, task: Task, reservation: Reservation) -> Record:
    worker = call.state.workers.get(reservation.worker_sid) or {}
    base = f"/v1/Workspaces/{task.workspace_sid}/Tasks/{task.sid}/Reservations/{reservation.sid}"
    stamp = iso(now())
    return {
        "account_sid": call.state.account_sid, "date_created": stamp, "date_updated": stamp,
        "reservation_status": reservation.status, "sid": reservation.sid,
        "task_sid": task.sid, "worker_name": worker.get("friendly_name"),
        "worker_sid": reservation.worker_sid, "workspace_sid": task.workspace_sid,
        "url": https(HOST, base), "links": {},
    }  # fmt: skip

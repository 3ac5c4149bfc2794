"""TaskRouter v1: Workspaces and their Activities, TaskQueues, Workflows, Workers, TaskChannels.

All six resources get create, list, fetch, update and delete. Modelled behaviour (reference §5):
- A new workspace comes with activities ``Offline`` (its default and timeout activity),
  ``Available`` and ``Unavailable`` and task channels ``default`` and ``voice`` (names per
  Twilio's Activity docs; unconfirmed).
- An activity's ``Available`` is fixed at create (the spec's update has no such parameter);
  an activity in use by a worker or as a workspace default cannot be deleted (400, unconfirmed).
- Worker ``FriendlyName`` is unique case-insensitively per workspace (409, code unconfirmed);
  ``ActivitySid`` defaults to the workspace default; ``activity_name``/``available`` follow the
  activity; ``attributes`` (JSON text, default ``{}``) is null in list responses.
- ``Configuration``/``Attributes`` must be JSON text (400, 20001 otherwise).
- List filters: ``FriendlyName`` (exact), ``Available`` and ``ActivitySid`` where the spec has them;
  Workers also ``TaskQueueName`` (workers the named queue's ``TargetWorkers`` expression
  selects; Twilio's OpenAPI: "The `friendly_name` of the TaskQueue that the Workers to read are
  eligible for.").
Must not import: infra.*
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import WORKER_NAME_TAKEN, conflict, invalid
from .expressions import matches
from .fields import FieldMap, assign, boolean, https, integer, json_text, links, lookup, text
from .paging import page_v1
from .routing import Call, Reply, RouteTable, created, no_content, ok
from .state import AccountState, Record, iso, now

HOST = "taskrouter.twilio.com"
routes = RouteTable()

Hook = Callable[[Call, Record], None]


@dataclass(frozen=True)
class Kind:
    """One TaskRouter resource type and how its form parameters map onto its record."""

    name: str
    segment: str
    prefix: str
    table: str
    create: FieldMap
    update: FieldMap
    defaults: Record = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    after_assign: Hook | None = None  # derive/validate fields after parameters are applied


def activity_ref(call: Call, workspace_sid: str, sid: str | None) -> Record | None:
    if sid is None:
        return None
    activity = call.state.activities.get(sid)
    if activity is None or activity["workspace_sid"] != workspace_sid:
        raise invalid(f"Activity {sid} does not exist in workspace {workspace_sid}")
    return activity


def _name_of(call: Call, record: Record, prefix: str, workspace_sid: str | None = None) -> None:
    """Fill ``{prefix}_name`` from the activity ``{prefix}_sid`` names (null when unset)."""
    workspace_sid = workspace_sid or record["workspace_sid"]
    activity = activity_ref(call, workspace_sid, record.get(f"{prefix}_sid"))
    record[f"{prefix}_name"] = activity["friendly_name"] if activity else None


def _queue_hook(call: Call, record: Record) -> None:
    _name_of(call, record, "reservation_activity")
    _name_of(call, record, "assignment_activity")


def _worker_hook(call: Call, record: Record) -> None:
    workspace = call.state.workspaces[record["workspace_sid"]]
    record["activity_sid"] = record.get("activity_sid") or workspace["default_activity_sid"]
    activity = activity_ref(call, record["workspace_sid"], record["activity_sid"])
    moved = record.get("activity_name") != (activity or {}).get("friendly_name")
    if activity and moved:
        record["date_status_changed"] = iso(now())
    record["activity_name"] = activity["friendly_name"] if activity else None
    record["available"] = activity["available"] if activity else False
    name = (record.get("friendly_name") or "").casefold()
    for other in call.state.children(call.state.workers, "workspace_sid", record["workspace_sid"]):
        if other["sid"] != record["sid"] and other["friendly_name"].casefold() == name:
            raise conflict(f"Worker {record['friendly_name']!r} already exists", WORKER_NAME_TAKEN)


def workspace_hook(call: Call, record: Record) -> None:
    _name_of(call, record, "default_activity", record["sid"])
    _name_of(call, record, "timeout_activity", record["sid"])


NAME: FieldMap = {"FriendlyName": ("friendly_name", text)}
QUEUE: FieldMap = {
    **NAME, "TargetWorkers": ("target_workers", text),
    "MaxReservedWorkers": ("max_reserved_workers", integer), "TaskOrder": ("task_order", text),
    "ReservationActivitySid": ("reservation_activity_sid", text),
    "AssignmentActivitySid": ("assignment_activity_sid", text),
}  # fmt: skip
WORKFLOW: FieldMap = {
    **NAME, "Configuration": ("configuration", json_text),
    "AssignmentCallbackUrl": ("assignment_callback_url", text),
    "FallbackAssignmentCallbackUrl": ("fallback_assignment_callback_url", text),
    "TaskReservationTimeout": ("task_reservation_timeout", integer),
}  # fmt: skip
WORKER: FieldMap = {
    **NAME,
    "ActivitySid": ("activity_sid", text),
    "Attributes": ("attributes", json_text),
}
CHANNEL: FieldMap = {**NAME, "ChannelOptimizedRouting": ("channel_optimized_routing", boolean)}
WORKSPACE: FieldMap = {
    **NAME,
    "EventCallbackUrl": ("event_callback_url", text),
    "EventsFilter": ("events_filter", text),
    "MultiTaskEnabled": ("multi_task_enabled", boolean),
    "PrioritizeQueueOrder": ("prioritize_queue_order", text),
}
STATS = {
    "statistics": "Statistics",
    "real_time_statistics": "RealTimeStatistics",
    "cumulative_statistics": "CumulativeStatistics",
}

KINDS = (
    Kind(
        name="Activity",
        segment="Activities",
        prefix="WA",
        table="activities",
        create={**NAME, "Available": ("available", boolean)},
        update=NAME,  # Available is fixed at create
        defaults={"available": False},
    ),
    Kind(
        name="TaskQueue",
        segment="TaskQueues",
        prefix="WQ",
        table="task_queues",
        create=QUEUE,
        update=QUEUE,
        defaults={
            "target_workers": "1==1",
            "max_reserved_workers": 1,
            "task_order": "FIFO",
            "reservation_activity_sid": None,
            "assignment_activity_sid": None,
        },
        links=STATS,
        after_assign=_queue_hook,
    ),
    Kind(
        name="Workflow",
        segment="Workflows",
        prefix="WW",
        table="workflows",
        create=WORKFLOW,
        update=WORKFLOW,
        defaults={
            "assignment_callback_url": None,
            "fallback_assignment_callback_url": None,
            "task_reservation_timeout": 120,
            "document_content_type": "application/json",
        },
        links=STATS,
    ),
    Kind(
        name="Worker",
        segment="Workers",
        prefix="WK",
        table="workers",
        create=WORKER,
        update=WORKER,
        defaults={"attributes": "{}", "activity_sid": None, "date_status_changed": None},
        links={**STATS, "reservations": "Reservations", "worker_channels": "Channels"},
        after_assign=_worker_hook,
    ),
    Kind(
        name="TaskChannel",
        segment="TaskChannels",
        prefix="TC",
        table="task_channels",
        create={**CHANNEL, "UniqueName": ("unique_name", text)},
        update=CHANNEL,
        defaults={"channel_optimized_routing": False},
    ),
)


def new_child(
    call: Call, kind: Kind, workspace_sid: str, fields: FieldMap, preset: Record | None = None
) -> Record:
    """A new record of ``kind`` in the workspace: defaults, then ``preset``, then the form."""
    state, stamp = call.state, iso(now())
    sid = state.new_sid(kind.prefix)
    base = f"/v1/Workspaces/{workspace_sid}/{kind.segment}/{sid}"
    record: Record = {
        "sid": sid, "account_sid": state.account_sid, "workspace_sid": workspace_sid,
        "friendly_name": None, **kind.defaults, "date_created": stamp, "date_updated": stamp,
        "url": https(HOST, base), "links": links(HOST, base, kind.links), **(preset or {}),
    }  # fmt: skip
    assign(record, call, fields)
    if kind.after_assign:
        kind.after_assign(call, record)
    getattr(state, kind.table)[sid] = record
    return record


def _filtered(call: Call, items: list[Record]) -> list[Record]:
    name, available = call.query_arg("FriendlyName"), call.query_flag("Available")
    activity = call.query_arg("ActivitySid")
    return [
        item for item in items
        if (name is None or item.get("friendly_name") == name)
        and (available is None or item.get("available") == available)
        and (activity is None or item.get("activity_sid") == activity)
    ]  # fmt: skip


def _eligible(call: Call, workspace_sid: str, workers: list[Record]) -> list[Record]:
    """Workers filtered by ``TaskQueueName`` (none when no such queue)."""
    name = call.query_arg("TaskQueueName")
    if name is None:
        return workers
    queues = [
        q for q in call.state.task_queues.values()
        if q["workspace_sid"] == workspace_sid and q.get("friendly_name") == name
    ]  # fmt: skip
    if not queues:
        return []
    expression = queues[0].get("target_workers")
    return [w for w in workers if matches(expression, _json(w.get("attributes")))]


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _in_use(state: AccountState, activity: Record) -> bool:
    workspace = state.workspaces[activity["workspace_sid"]]
    sid = activity["sid"]
    return sid in (workspace["default_activity_sid"], workspace["timeout_activity_sid"]) or any(
        worker["activity_sid"] == sid for worker in state.workers.values()
    )


def _register(kind: Kind) -> None:
    collection = f"/v1/Workspaces/{{WorkspaceSid}}/{kind.segment}"
    item = f"{collection}/{{Sid}}"

    def workspace(call: Call) -> Record:
        return lookup(call.state.workspaces, call.params["WorkspaceSid"], call)

    def find(call: Call) -> Record:
        sid = workspace(call)["sid"]
        return lookup(getattr(call.state, kind.table), call.params["Sid"], call, workspace_sid=sid)

    def create(call: Call) -> Reply:
        return created(new_child(call, kind, workspace(call)["sid"], kind.create))

    def listing(call: Call) -> Reply:
        sid = workspace(call)["sid"]
        items = _filtered(
            call, call.state.children(getattr(call.state, kind.table), "workspace_sid", sid)
        )
        if kind.name == "Worker":
            items = _eligible(call, sid, items)
        if kind.name == "Worker":  # attributes only come with a single-worker fetch
            items = [{**item, "attributes": None} for item in items]
        return ok(page_v1(call, items, kind.table))

    def update(call: Call) -> Reply:
        record = find(call)
        updated = dict(record)
        if assign(updated, call, kind.update):
            updated["date_updated"] = iso(now())
        if kind.after_assign:
            kind.after_assign(call, updated)
        moved = record.get("activity_sid") != updated.get("activity_sid")
        record.update(updated)
        if kind.name == "Worker" and moved:
            from .tasks_api import activity_changed  # the call engine lives there

            activity_changed(call)
        return ok(record)

    def delete(call: Call) -> Reply:
        record = find(call)
        if kind.name == "Activity" and _in_use(call.state, record):
            raise invalid(f"Activity {record['sid']} is in use and cannot be deleted")
        del getattr(call.state, kind.table)[record["sid"]]
        return no_content()

    routes.route("POST", HOST, collection, kind=f"{kind.name}.create")(create)
    routes.route("GET", HOST, collection)(listing)
    routes.route("GET", HOST, item)(lambda call: ok(find(call)))
    routes.route("POST", HOST, item, kind=f"{kind.name}.update")(update)
    routes.route("DELETE", HOST, item, kind=f"{kind.name}.delete")(delete)


for _kind in KINDS:
    _register(_kind)

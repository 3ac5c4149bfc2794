"""TaskRouter v1 Workspaces: create (with Twilio's default activities and channels), list,
fetch, update (incl. ``DefaultActivitySid``/``TimeoutActivitySid``), delete (cascading).

See :mod:`taskrouter` for the resources inside a workspace.
Must not import: infra.*
"""

from __future__ import annotations

from .fields import FieldMap, assign, https, links, lookup, text
from .paging import page_v1
from .routing import Call, Reply, RouteTable, created, no_content, ok
from .state import Record, iso, now
from .taskrouter import HOST, KINDS, STATS, WORKSPACE, Kind, new_child, workspace_hook

routes = RouteTable()

UPDATE: FieldMap = {
    **WORKSPACE,
    "DefaultActivitySid": ("default_activity_sid", text),
    "TimeoutActivitySid": ("timeout_activity_sid", text),
}
DEFAULT_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False))
DEFAULT_CHANNELS = (("Default", "default"), ("Voice", "voice"))
_LINKS = {
    **STATS, "activities": "Activities", "task_queues": "TaskQueues", "tasks": "Tasks",
    "workers": "Workers", "workflows": "Workflows", "task_channels": "TaskChannels",
    "events": "Events",
}  # fmt: skip


def _kind(name: str) -> Kind:
    return next(kind for kind in KINDS if kind.name == name)


def _seed_defaults(call: Call, workspace: Record) -> None:
    """Twilio's starter activities and channels (names unconfirmed, see taskrouter docstring)."""
    sid = workspace["sid"]
    activities = []
    for name, available in DEFAULT_ACTIVITIES:
        preset = {"friendly_name": name, "available": available}
        activities.append(new_child(call, _kind("Activity"), sid, {}, preset))
    for name, unique in DEFAULT_CHANNELS:
        preset = {"friendly_name": name, "unique_name": unique}
        new_child(call, _kind("TaskChannel"), sid, {}, preset)
    offline = activities[0]
    for prefix in ("default_activity", "timeout_activity"):
        workspace[f"{prefix}_sid"] = offline["sid"]
        workspace[f"{prefix}_name"] = offline["friendly_name"]


@routes.route("POST", HOST, "/v1/Workspaces", kind="Workspace.create")
def create_workspace(call: Call) -> Reply:
    state, stamp = call.state, iso(now())
    sid = state.new_sid("WS")
    base = f"/v1/Workspaces/{sid}"
    workspace: Record = {
        "sid": sid, "account_sid": state.account_sid, "friendly_name": None,
        "default_activity_sid": None, "default_activity_name": None,
        "timeout_activity_sid": None, "timeout_activity_name": None,
        "event_callback_url": None, "events_filter": None, "multi_task_enabled": True,
        "prioritize_queue_order": "FIFO", "date_created": stamp, "date_updated": stamp,
        "url": https(HOST, base), "links": links(HOST, base, _LINKS),
    }  # fmt: skip
    assign(workspace, call, WORKSPACE)
    state.workspaces[sid] = workspace
    _seed_defaults(call, workspace)
    return created(workspace)


@routes.route("GET", HOST, "/v1/Workspaces")
def list_workspaces(call: Call) -> Reply:
    name = call.query_arg("FriendlyName")
    items = [
        w for w in call.state.workspaces.values() if name is None or w["friendly_name"] == name
    ]
    return ok(page_v1(call, items, "workspaces"))


@routes.route("GET", HOST, "/v1/Workspaces/{Sid}")
def fetch_workspace(call: Call) -> Reply:
    return ok(lookup(call.state.workspaces, call.params["Sid"], call))


@routes.route("POST", HOST, "/v1/Workspaces/{Sid}", kind="Workspace.update")
def update_workspace(call: Call) -> Reply:
    workspace = lookup(call.state.workspaces, call.params["Sid"], call)
    updated = dict(workspace)
    if assign(updated, call, UPDATE):
        updated["date_updated"] = iso(now())
    workspace_hook(call, updated)
    workspace.update(updated)
    return ok(workspace)


@routes.route("DELETE", HOST, "/v1/Workspaces/{Sid}", kind="Workspace.delete")
def delete_workspace(call: Call) -> Reply:
    state = call.state
    sid = lookup(state.workspaces, call.params["Sid"], call)["sid"]
    for kind in KINDS:
        table = getattr(state, kind.table)
        for child in state.children(table, "workspace_sid", sid):
            del table[child["sid"]]
    del state.workspaces[sid]
    return no_content()

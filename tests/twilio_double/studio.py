"""Studio v2 Flows: create, list, fetch, update, delete, Validate and Revisions.

Behaviour modelled (reference §3):
- Create and update store a new revision; an update only makes one when the definition or
  the status changes (a FriendlyName-only change does not; unconfirmed).
- ``webhook_url`` is ``https://webhooks.twilio.com/v1/Accounts/{AC}/Flows/{FW}``.
- Lists (flows and revisions) answer ``definition``/``valid``/``errors``/``warnings`` as null.
- ``POST /v2/Flows/Validate`` answers ``{"valid": true}`` or 400 with code 81022 and
  ``details.errors`` from :mod:`flow_definition`; create and update run the same check and
  refuse an invalid definition the same way (whether Twilio stores invalid drafts: unconfirmed).
- Revisions: ``/Revisions/{n}``, ``LatestPublished``, ``LatestRevision``; listed newest first
  (unconfirmed).
Must not import: infra.*
"""

from __future__ import annotations

from typing import Any

from . import flow_definition
from .errors import FLOW_DEFINITION_INVALID, TwilioError, not_found
from .fields import https, links, lookup
from .paging import page_v1
from .routing import Call, Reply, RouteTable, created, no_content, ok
from .state import Record, iso, now

HOST = "studio.twilio.com"
routes = RouteTable()

_LIST_NULLS = ("definition", "valid", "errors", "warnings")


def _definition(call: Call) -> dict[str, Any]:
    problems = flow_definition.check(call.arg("Definition"))
    if problems:
        raise TwilioError(
            400, FLOW_DEFINITION_INVALID, "Invalid Flow Definition", {"errors": problems}
        )
    parsed, _ = flow_definition.parse(call.arg("Definition"))
    return dict(parsed)


def _revision(flow: Record) -> Record:
    revision = {
        key: flow[key]
        for key in (
            "sid", "account_sid", "friendly_name", "definition", "status", "revision",
            "commit_message", "valid", "errors", "date_created", "date_updated",
        )
    }  # fmt: skip
    revision["url"] = https(HOST, f"/v2/Flows/{flow['sid']}/Revisions/{flow['revision']}")
    return revision


def _as_list_item(record: Record) -> Record:
    return {**record, **dict.fromkeys(_LIST_NULLS)}


@routes.route("POST", HOST, "/v2/Flows", kind="Flow.create")
def create_flow(call: Call) -> Reply:
    definition = _definition(call)
    state = call.state
    sid = state.new_sid("FW")
    stamp = iso(now())
    flow: Record = {
        "sid": sid, "account_sid": state.account_sid, "friendly_name": call.arg("FriendlyName"),
        "definition": definition, "status": call.arg("Status"), "revision": 1,
        "commit_message": call.arg("CommitMessage"), "valid": True, "errors": [], "warnings": [],
        "date_created": stamp, "date_updated": stamp,
        "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/{state.account_sid}/Flows/{sid}",
        "url": https(HOST, f"/v2/Flows/{sid}"),
        "links": links(HOST, f"/v2/Flows/{sid}", {
            "test_users": "TestUsers", "revisions": "Revisions", "executions": "Executions",
        }),
    }  # fmt: skip
    state.flows[sid] = flow
    state.flow_revisions[sid] = [_revision(flow)]
    return created(flow)


@routes.route("GET", HOST, "/v2/Flows")
def list_flows(call: Call) -> Reply:
    items = [_as_list_item(flow) for flow in call.state.flows.values()]
    return ok(page_v1(call, items, "flows"))


@routes.route("GET", HOST, "/v2/Flows/{Sid}")
def fetch_flow(call: Call) -> Reply:
    return ok(lookup(call.state.flows, call.params["Sid"], call))


@routes.route("POST", HOST, "/v2/Flows/{Sid}", kind="Flow.update")
def update_flow(call: Call) -> Reply:
    flow = lookup(call.state.flows, call.params["Sid"], call)
    changes: dict[str, Any] = {"status": call.arg("Status")}
    if call.has("Definition"):
        changes["definition"] = _definition(call)
    new_revision = any(flow[key] != value for key, value in changes.items())
    if call.has("FriendlyName"):
        changes["friendly_name"] = call.arg("FriendlyName")
    if new_revision:
        changes["revision"] = flow["revision"] + 1
        changes["commit_message"] = call.arg("CommitMessage")
    if any(flow[key] != value for key, value in changes.items()):
        changes["date_updated"] = iso(now())
    flow.update(changes)
    if new_revision:
        call.state.flow_revisions[flow["sid"]].append(_revision(flow))
    return ok(flow)


@routes.route("DELETE", HOST, "/v2/Flows/{Sid}", kind="Flow.delete")
def delete_flow(call: Call) -> Reply:
    lookup(call.state.flows, call.params["Sid"], call)
    del call.state.flows[call.params["Sid"]]
    del call.state.flow_revisions[call.params["Sid"]]
    return no_content()


@routes.route("POST", HOST, "/v2/Flows/Validate", kind="Flow.validate")
def validate_flow(call: Call) -> Reply:
    _definition(call)
    return ok({"valid": True})


@routes.route("GET", HOST, "/v2/Flows/{Sid}/Revisions")
def list_revisions(call: Call) -> Reply:
    lookup(call.state.flows, call.params["Sid"], call)
    revisions = reversed(call.state.flow_revisions[call.params["Sid"]])
    return ok(page_v1(call, [_as_list_item(r) for r in revisions], "revisions"))


def _pick_revision(revisions: list[Record], wanted: str) -> Record | None:
    if wanted == "LatestRevision":
        return revisions[-1]
    if wanted == "LatestPublished":
        published = [r for r in revisions if r["status"] == "published"]
        return published[-1] if published else None
    if wanted.isdigit() and 1 <= int(wanted) <= len(revisions):
        return revisions[int(wanted) - 1]
    return None


@routes.route("GET", HOST, "/v2/Flows/{Sid}/Revisions/{Revision}")
def fetch_revision(call: Call) -> Reply:
    lookup(call.state.flows, call.params["Sid"], call)
    revision = _pick_revision(
        call.state.flow_revisions[call.params["Sid"]], call.params["Revision"]
    )
    if revision is None:
        raise not_found(call.path)
    return ok(revision)
